import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import type { Clock } from '../../src/lib/clock.js';
import { createSessions, csrfMatches, parseCookies } from '../../src/hmi/sessions.js';

function fakeClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, setTimeout: () => ({ clear() {} }), setInterval: () => ({ clear() {} }), advance: (ms) => (now += ms) };
}

describe('HMI sessions', async () => {
  const users = [
    { username: 'op', passwordHash: await hashPassword('secret'), role: 'hmi' as const },
    { username: 'look', passwordHash: await hashPassword('secret'), role: 'viewer' as const },
    { username: 'plc', passwordHash: await hashPassword('secret'), role: 'plc' as const },
  ];

  it('ends a session after the idle time and keeps it while used', async () => {
    const clock = fakeClock();
    const sessions = createSessions({ users, clock, idleMs: 60_000, maxSessions: 10 });
    const login = await sessions.login('op', 'secret');
    if (!login.ok) throw new Error('login failed');
    clock.advance(50_000);
    expect(sessions.get(login.session.id)?.username).toBe('op');
    clock.advance(50_000);
    expect(sessions.get(login.session.id)?.role).toBe('hmi');
    clock.advance(60_001);
    expect(sessions.get(login.session.id)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the least recently used', async () => {
    const clock = fakeClock();
    const sessions = createSessions({ users, clock, idleMs: 3_600_000, maxSessions: 2 });
    const ids: string[] = [];
    for (const name of ['op', 'look', 'op']) {
      const r = await sessions.login(name, 'secret');
      if (r.ok) ids.push(r.session.id);
      clock.advance(1000);
    }
    expect(sessions.size()).toBe(2);
    expect(sessions.get(ids[0])).toBeUndefined();
    expect(sessions.get(ids[2])?.username).toBe('op');
  });

  it('refuses wrong passwords, unknown users and PLC accounts; checks CSRF tokens exactly', async () => {
    const sessions = createSessions({ users, clock: fakeClock(), idleMs: 1000, maxSessions: 2 });
    expect(await sessions.login('op', 'Secret')).toMatchObject({ ok: false, status: 401 });
    expect(await sessions.login('ghost', 'secret')).toMatchObject({ ok: false, status: 401 });
    expect(await sessions.login('plc', 'secret')).toMatchObject({ ok: false, status: 403 });
    const r = await sessions.login('look', 'secret');
    if (!r.ok) throw new Error('login failed');
    expect(csrfMatches(r.session, r.session.csrf)).toBe(true);
    expect(csrfMatches(r.session, `${r.session.csrf}x`)).toBe(false);
    expect(csrfMatches(r.session, undefined)).toBe(false);
    expect(parseCookies('a=1; wwtp_hmi=abc; b').get('wwtp_hmi')).toBe('abc');
  });
});
