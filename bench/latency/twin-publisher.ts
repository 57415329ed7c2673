/**
 * Publisher process of the latency benchmark: the twin's readings (all signals each plant minute),
 * paced at RATE readings/s over one QoS 1 connection, as the plant's PLCs would send them from their
 * own hardware. Prints `{"published": N}` when done.
 * argv: url site days rate
 */
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/load.js';
import { simulate } from '../../src/sim/index.js';

const [url = 'mqtt://127.0.0.1:1883', site = 'bench', daysText = '1', rateText = '10000'] = process.argv.slice(2);
const rate = Number(rateText);
const config = loadConfig();
const sim = simulate({ influent: 'dry', days: Number(daysText), seed: 7, sampleMin: 1, plant: 'full', signals: config.signals });
const client = await mqtt.connectAsync(url, { clientId: `bench-latency-${process.pid}`, reconnectPeriod: 0 });
const keys = Object.keys(sim.series.readings);
let published = 0;
const started = performance.now();
for (let i = 0; i < sim.series.ts.length; i += 1) {
  const wait = started + (published / rate) * 1000 - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const ts = sim.series.ts[i] ?? 0;
  const sends: Promise<unknown>[] = [];
  for (const key of keys) {
    const value = sim.series.readings[key]?.[i];
    if (value === undefined || !Number.isFinite(value)) continue;
    sends.push(client.publishAsync(`wwtp/${site}/${key}`, JSON.stringify({ value, ts }), { qos: 1 }));
  }
  await Promise.all(sends);
  published += sends.length;
}
await client.endAsync();
process.stdout.write(`${JSON.stringify({ published, signals: keys.length })}\n`);
