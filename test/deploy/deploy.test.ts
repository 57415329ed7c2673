import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function unitEntries(text: string): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    expect(eq, `line without '=': ${line}`).toBeGreaterThan(0);
    const key = `${section}.${line.slice(0, eq)}`;
    entries.set(key, [...(entries.get(key) ?? []), line.slice(eq + 1)]);
  }
  return entries;
}

describe('systemd unit', () => {
  const unit = unitEntries(read('systemd/wwtp-edge.service'));
  const one = (key: string): string | undefined => unit.get(key)?.[0];

  it('is a notify service with a watchdog that restarts', () => {
    expect(one('Service.Type')).toBe('notify');
    expect(one('Service.NotifyAccess')).toBe('all');
    expect(one('Service.WatchdogSec')).toMatch(/^\d+s$/);
    expect(one('Service.Restart')).toBe('always');
    expect(one('Service.ExecStart')).toMatch(/wwtp-edge\.js run/);
  });

  it('runs as its own user with a state directory and a hardened filesystem', () => {
    expect(one('Service.User')).toBe('wwtp-edge');
    expect(one('Service.StateDirectory')).toBe('wwtp-edge');
    expect(one('Service.ProtectSystem')).toBe('strict');
    expect(one('Service.NoNewPrivileges')).toBe('yes');
    expect(one('Service.ProtectHome')).toBe('yes');
    expect(one('Service.PrivateTmp')).toBe('yes');
  });

  it('gives SIGTERM more time than the daemon needs to drain (5 s)', () => {
    expect(Number(one('Service.TimeoutStopSec')?.replace('s', ''))).toBeGreaterThan(5);
  });
});

describe('Dockerfile.arm64', () => {
  const text = read('Dockerfile.arm64');
  const instructions = text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim());
  const known = new Set(['FROM', 'RUN', 'COPY', 'ENV', 'WORKDIR', 'USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'ENTRYPOINT', 'CMD', 'ARG', 'LABEL']);

  it('has only known instructions', () => {
    for (const line of instructions) expect(known.has(line.split(/\s+/)[0] ?? ''), line).toBe(true);
  });

  it('is multi-stage on arm64 with a supported Node LTS', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM'));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      expect(from).toContain('linux/arm64');
      const major = Number(/node:(\d+)/.exec(from)?.[1]);
      expect(major).toBeGreaterThanOrEqual(24);
    }
    expect(instructions.some((l) => l.startsWith('COPY --from=build'))).toBe(true);
  });

  it('runs as non-root with a data volume and a health check', () => {
    const user = instructions.filter((l) => l.startsWith('USER')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/root|\b0\b/);
    expect(instructions.some((l) => l.startsWith('VOLUME') && l.includes('/var/lib/wwtp-edge'))).toBe(true);
    expect(instructions.some((l) => l.startsWith('HEALTHCHECK') && l.includes('/readyz'))).toBe(true);
  });

  it('copies only files that exist in the repository', () => {
    for (const line of instructions.filter((l) => l.startsWith('COPY') && !l.includes('--from'))) {
      const parts = line.split(/\s+/).slice(1, -1);
      for (const part of parts) expect(() => readFileSync(join(root, part === '.npmrc' ? '.npmrc' : part)), part).not.toThrow(/ENOENT/);
    }
  });
});
