import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { tempDir } from '../helpers/daemon.js';

describe('why /readyz is 503', () => {
  it('is logged at info once per change, with the failing check and what it means', async () => {
    const dir = tempDir('wwtp-readyz-');
    const lines: { level: number; msg: string; why?: string[] }[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const config = loadConfig({
      override: {
        site: 'readyzlog',
        storage: { path: join(dir, 'edge.sqlite') },
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
        http: { host: '127.0.0.1', port: 0 },
        models: { enabled: true, dir: join(dir, 'no-models') },
      },
    });
    const runtime = createRuntime(config, { logger });
    await runtime.start(new AbortController().signal);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${runtime.ports().http}/readyz`);
        expect(res.status).toBe(503);
      }
      const notReady = lines.filter((l) => l.msg.startsWith('not ready'));
      expect(notReady).toHaveLength(1);
      expect(notReady[0]).toMatchObject({ level: 30, msg: 'not ready (/readyz 503): models:false' });
      expect(notReady[0]!.why?.[0]).toMatch(/no model bundle is active/);
    } finally {
      await runtime.stop();
    }
  }, 60_000);
});
