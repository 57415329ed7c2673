import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { readingsFrom, tempDir } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url));

/** Runs the appending child, kills it with SIGKILL after `acksBeforeKill` acks; returns the acked batches. */
function runAndKill(path: string, acksBeforeKill: number): Promise<{ start: number; count: number }[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, 'full'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: { start: number; count: number }[] = [];
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      const m = /^ACK (\d+) (\d+)$/.exec(line);
      if (!m) return;
      acked.push({ start: Number(m[1]), count: Number(m[2]) });
      if (acked.length === acksBeforeKill) proc.kill('SIGKILL');
    });
    proc.on('exit', (code, signal) => {
      // Lines already written by the child before it died are still read from the pipe.
      lines.close();
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited ${code}: ${stderr}`));
    });
  });
}

describe('durability (kill -9)', () => {
  it('every acknowledged reading is in the file after SIGKILL, 10 runs', async () => {
    const tmp = tempDir();
    try {
      const runs = Array.from({ length: 10 }, (_, i) => i);
      // Two at a time: each run owns its file.
      for (let i = 0; i < runs.length; i += 2) {
        await Promise.all(
          runs.slice(i, i + 2).map(async (run) => {
            const path = `${tmp.dir}/run${run}.sqlite`;
            const acked = await runAndKill(path, 5 + ((run * 37) % 60));
            expect(acked.length).toBeGreaterThanOrEqual(5);
            const db = new Database(path);
            const has = db.prepare('SELECT value FROM readings WHERE stage = ? AND signal = ? AND ts = ?');
            let missing = 0;
            for (const a of acked) {
              for (const r of readingsFrom(a.start, a.count)) {
                const row = has.get(r.stage, r.signal, r.ts) as { value: number } | undefined;
                if (row?.value !== r.value) missing++;
              }
            }
            db.close();
            expect(missing).toBe(0);
          }),
        );
      }
    } finally {
      tmp.cleanup();
    }
  });
});
