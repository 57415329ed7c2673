/**
 * Score margins of stage detectors on the later days of the verdicts test's plant
 * (test/lifecycle-verdicts/daemon.test.ts leaves its store and bundles in /tmp/wwtp-verdicts-*):
 * `npx tsx eval/verdicts/margins.ts STORE BUNDLE_DIR...`. Over the windows from day 7 on (the plant's
 * start is 2024-03-01), the largest score, as a multiple of each bundle's threshold, within the
 * morning air scour (10:00-10:30), within the day-8 fault (15:00-16:30) and everywhere else; and each
 * input's residual scale (its training limit of the scaled reconstruction error).
 */
import { loadConfig } from '../../src/config/load.js';
import { OnlineDetector, manifestScoring } from '../../src/anomaly/online.js';
import { buildInputVector } from '../../src/inference/features.js';
import { loadVerifiedModel, runSession } from '../../src/inference/session.js';
import { storeReadings, windowReadings } from '../../src/models/store-data.js';

const [store, ...dirs] = process.argv.slice(2);
if (!store || dirs.length === 0) throw new Error('usage: npx tsx eval/verdicts/margins.ts STORE BUNDLE_DIR...');
const config = loadConfig({ env: { WWTP_EDGE_STORAGE__PATH: store } });
const START = Date.UTC(2024, 2, 1);
const DAY_MS = 86_400_000;
const since = START + 7 * DAY_MS;
const windows = windowReadings(config, storeReadings(store, { since: since - config.windows.sizeSec * 1000 })).filter((w) => w.end >= since);
for (const dir of dirs) {
  const model = await loadVerifiedModel(dir, { intraOpThreads: 1 });
  const detector = new OnlineDetector(manifestScoring(model.manifest));
  const width = model.inputs.length;
  const max = { scour: 0, fault: 0, other: 0 };
  for (const w of windows) {
    const v = buildInputVector(w, model.inputs);
    if (!v.ok) continue;
    const r = await detector.next(v.values, async (input) => {
      const out = await runSession(model.session, input, width);
      return { squaredError: out['squared_error'] ?? new Float32Array(width), standardized: out['standardized'] };
    });
    const minute = Math.round((w.end - START) / 60_000) % 1440;
    const day = Math.floor((w.end - START) / DAY_MS);
    const part = minute > 600 && minute <= 630 ? 'scour' : day === 8 && minute > 900 && minute <= 990 ? 'fault' : 'other';
    max[part] = Math.max(max[part], r.score);
  }
  const t = detector.threshold;
  const scales = model.manifest.postprocess?.residualScale ?? [];
  const limits = model.inputs.map((i, j) => `${i.signal}.${i.feature} ${(scales[j] ?? 0).toFixed(3)}`).join(', ');
  process.stdout.write(`${dir}: threshold ${t.toFixed(3)}; largest score / threshold: scour ${(max.scour / t).toFixed(2)}, fault ${(max.fault / t).toFixed(2)}, other ${(max.other / t).toFixed(2)}; residual scales ${limits}\n`);
  await model.session.release();
}
