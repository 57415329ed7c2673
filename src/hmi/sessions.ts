import { randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyPassword, type Role } from '../broker/auth.js';
import type { Clock } from '../lib/clock.js';

export interface HmiUser {
  readonly username: string;
  readonly passwordHash: string;
  readonly role: Role;
}

export interface Session {
  readonly id: string;
  readonly username: string;
  readonly role: 'hmi' | 'viewer';
  /** Sent by the page in the x-csrf-token header of every POST. */
  readonly csrf: string;
  lastSeen: number;
}

export const SESSION_COOKIE = 'wwtp_hmi';

export type LoginResult = { readonly ok: true; readonly session: Session } | { readonly ok: false; readonly status: 401 | 403; readonly error: string };

/** A syntactically valid hash to verify against for unknown users, so a wrong name costs as long as a wrong password. */
const DUMMY_HASH = `scrypt$${'00'.repeat(16)}$${'00'.repeat(32)}`;

/**
 * Sessions of the web HMI: login against the embedded broker's users (`hmi` acts, `viewer` looks,
 * `plc` has no screen), random ids in an HTTP-only cookie, one CSRF token per session, idle expiry,
 * at most maxSessions (the least recently used goes first).
 */
export function createSessions(ctx: { readonly users: readonly HmiUser[]; readonly clock: Clock; readonly idleMs: number; readonly maxSessions: number }) {
  const sessions = new Map<string, Session>();

  const expire = (now: number): void => {
    for (const [id, s] of sessions) if (now - s.lastSeen > ctx.idleMs) sessions.delete(id);
  };

  return {
    async login(username: string, password: string): Promise<LoginResult> {
      const user = ctx.users.find((u) => u.username === username);
      const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !valid) return { ok: false, status: 401, error: 'wrong user name or password' };
      if (user.role === 'plc') return { ok: false, status: 403, error: `user ${username} is a PLC account and has no screen` };
      const now = ctx.clock.now();
      expire(now);
      while (sessions.size >= ctx.maxSessions) {
        const oldest = [...sessions.values()].reduce((a, b) => (a.lastSeen <= b.lastSeen ? a : b));
        sessions.delete(oldest.id);
      }
      const session: Session = { id: randomBytes(24).toString('base64url'), username, role: user.role, csrf: randomBytes(24).toString('base64url'), lastSeen: now };
      sessions.set(session.id, session);
      return { ok: true, session };
    },
    /** The session of a cookie value, refreshed; undefined when unknown or idle too long. */
    get(id: string | undefined): Session | undefined {
      if (!id) return undefined;
      const s = sessions.get(id);
      if (!s) return undefined;
      const now = ctx.clock.now();
      if (now - s.lastSeen > ctx.idleMs) {
        sessions.delete(id);
        return undefined;
      }
      s.lastSeen = now;
      return s;
    },
    logout(id: string): void {
      sessions.delete(id);
    },
    size: (): number => sessions.size,
  };
}
export type Sessions = ReturnType<typeof createSessions>;

export function csrfMatches(session: Session, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

export function sessionCookie(id: string, secure: boolean, maxAgeSec: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.round(maxAgeSec)}${secure ? '; Secure' : ''}`;
}
