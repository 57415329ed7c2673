import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { binPath, repoRoot } from '../helpers/daemon.js';

/** `wwtp-edge models list | true`: the reader is gone before the command writes. */
function listIntoClosedPipe(): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'models', 'list'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.destroy();
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('a command whose reader closes stdout', () => {
  it('ends quietly with its exit code, no EPIPE stack', async () => {
    const { code, stderr } = await listIntoClosedPipe();
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});
