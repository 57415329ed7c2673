import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HmiCommand } from '../contract/ports.js';
import { decodeHmiCommand } from '../ingest/handlers/hmi.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { CommandDispatch } from './commands.js';
import type { LiveHub } from './live.js';
import { csrfMatches, parseCookies, SESSION_COOKIE, sessionCookie, type Session, type Sessions } from './sessions.js';
import { PAGE_HEADERS, sendStatic } from './static.js';
import { trend, type TrendSource } from './trend.js';

export interface HmiAppContext {
  readonly sessions: Sessions;
  readonly hub: LiveHub;
  readonly dispatch: CommandDispatch;
  readonly clock: Clock;
  readonly logger: Logger;
  /** HTTPS: the session cookie is marked Secure. */
  readonly secure: boolean;
  readonly idleMs: number;
  /** Whether an alarm id is known (acks of unknown alarms get 404). */
  readonly alarmExists: (id: string) => boolean;
  /** Whether a loop has a recommendation awaiting a decision. */
  readonly pendingRecommendation: (loop: string) => boolean;
  readonly store: TrendSource;
}

const MAX_BODY_BYTES = 16_384;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(JSON.stringify(body));
  return true;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return 'send the body as application/json';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return `body over ${MAX_BODY_BYTES} bytes`;
    chunks.push(chunk);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : 'body is not a JSON object';
  } catch {
    return 'body is not JSON';
  }
}

/** A POST from another site: its Origin (sent by every browser on a POST) must be this host. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

const ACTIONS: Readonly<Record<string, readonly string[]>> = { alarms: ['ack', 'shelve'], loops: ['mode', 'decision'] };

/**
 * The web HMI's requests: `/` and `/ui/*` (the shipped page), `/hmi/api/*` (login, session, live
 * events, snapshot, trends, actions). Every action is decoded by the MQTT HMI command decoder with the
 * session's user as `by` and goes the same way as an MQTT command. Returns false for other paths.
 */
export function createHmiApp(ctx: HmiAppContext) {
  const log = ctx.logger.child({ component: 'hmi' });

  const sessionOf = (req: IncomingMessage): Session | undefined => ctx.sessions.get(parseCookies(req.headers.cookie).get(SESSION_COOKIE));

  async function act(req: IncomingMessage, res: ServerResponse, session: Session, area: string, id: string, verb: string): Promise<true> {
    if (session.role !== 'hmi') return json(res, 403, { error: `user ${session.username} (${session.role}) may look, not act` });
    const body = await readJson(req);
    if (typeof body === 'string') return json(res, 400, { error: body });
    const payload = Buffer.from(JSON.stringify({ ...body, by: session.username }));
    const decoded = decodeHmiCommand([area, id, verb], payload, ctx.clock.now());
    if (decoded === undefined) return json(res, 404, { error: `no action ${area}/${verb}` });
    if ('reason' in decoded) return json(res, 400, { error: decoded.detail ?? decoded.reason });
    const problem = refusal(decoded);
    if (problem) return json(res, problem.status, { error: problem.error });
    ctx.dispatch(decoded, 'http');
    ctx.hub.touchLoops();
    log.info({ by: session.username, kind: decoded.kind, target: id }, 'operator action');
    return json(res, 200, { ok: true, kind: decoded.kind, target: id, by: session.username, ts: decoded.ts });
  }

  function refusal(cmd: HmiCommand): { status: number; error: string } | undefined {
    if ((cmd.kind === 'alarm_ack' || cmd.kind === 'alarm_shelve') && !ctx.alarmExists(cmd.alarmId)) return { status: 404, error: `no alarm ${cmd.alarmId}` };
    if (cmd.kind === 'loop_decision' && !ctx.pendingRecommendation(cmd.loop)) return { status: 409, error: `loop ${cmd.loop} has no recommendation awaiting a decision` };
    return undefined;
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL, parts: readonly string[]): Promise<true> {
    const method = req.method ?? 'GET';
    const [first, id, verb] = parts;
    if (method === 'POST' && !sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
    if (first === 'login' && method === 'POST') {
      const body = await readJson(req);
      if (typeof body === 'string') return json(res, 400, { error: body });
      const { username, password } = body;
      if (typeof username !== 'string' || typeof password !== 'string') return json(res, 400, { error: 'username and password are required' });
      const result = await ctx.sessions.login(username, password);
      if (!result.ok) {
        log.warn({ username: username.slice(0, 64) }, 'hmi login refused');
        return json(res, result.status, { error: result.error });
      }
      const s = result.session;
      log.info({ username, role: s.role }, 'hmi login');
      return json(res, 200, { user: s.username, role: s.role, csrf: s.csrf }, { 'set-cookie': sessionCookie(s.id, ctx.secure, ctx.idleMs / 1000) });
    }
    const session = sessionOf(req);
    if (!session) return json(res, 401, { error: 'log in first' });
    if (method === 'POST' && !csrfMatches(session, req.headers['x-csrf-token'])) return json(res, 403, { error: 'missing or wrong CSRF token' });
    if (first === 'logout' && method === 'POST') {
      ctx.sessions.logout(session.id);
      return json(res, 200, { ok: true }, { 'set-cookie': sessionCookie('', ctx.secure, 0) });
    }
    if (method === 'GET') {
      if (first === 'session') return json(res, 200, { user: session.username, role: session.role, csrf: session.csrf });
      if (first === 'snapshot') return json(res, 200, ctx.hub.snapshot());
      if (first === 'events') {
        if (!ctx.hub.attach(res)) return json(res, 503, { error: 'too many live screens connected' });
        return true;
      }
      if (first === 'trend') {
        const result = await trend(ctx.store, url.searchParams, ctx.clock.now());
        return json(res, 'error' in result ? 400 : 200, result);
      }
    }
    if (method === 'POST' && first !== undefined && id !== undefined && verb !== undefined && parts.length === 3 && ACTIONS[first]?.includes(verb)) {
      return act(req, res, session, first, id, verb);
    }
    return json(res, method === 'GET' || method === 'POST' ? 404 : 405, { error: `no ${method} /hmi/api/${parts.join('/')}` });
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      if (req.method !== 'GET') return json(res, 405, { error: 'only GET is served' });
      return sendStatic(res, 'index.html');
    }
    if (path.startsWith('/ui/')) {
      if (req.method !== 'GET') return json(res, 405, { error: 'only GET is served' });
      if (await sendStatic(res, path.slice(4))) return true;
      res.writeHead(404, { ...PAGE_HEADERS, 'content-type': 'text/plain' });
      res.end('not found');
      return true;
    }
    if (path.startsWith('/hmi/api/')) {
      let parts: string[];
      try {
        parts = path.slice('/hmi/api/'.length).split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        return json(res, 400, { error: 'malformed path' });
      }
      return api(req, res, url, parts);
    }
    return false;
  };
}
