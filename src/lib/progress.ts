import { SingleBar, Presets } from 'cli-progress';
import type { Writable } from 'node:stream';

/** A progress bar on a TTY, one line per 10 % elsewhere (logs stay readable). */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function createProgress(label: string, stream: Writable & { isTTY?: boolean }): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`, stream, hideCursor: true }, Presets.shades_classic);
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(Math.max(1, Math.round(total)), 0);
          started = true;
        }
        bar.setTotal(Math.max(1, Math.round(total)));
        bar.update(Math.round(done));
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const decile = total > 0 ? Math.floor((10 * done) / total) : 0;
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${label}: ${decile * 10}%\n`);
      }
    },
    stop() {},
  };
}
