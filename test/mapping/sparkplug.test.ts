import { get } from 'sparkplug-payload';
import { describe, expect, it } from 'vitest';
import { ingestHarness, manualClock, testConfig } from '../ingest/helpers.js';

const codec = get('spBv1.0')!;
const clock = manualClock();
const now = clock.now();
type Payload = Parameters<typeof codec.encodePayload>[0];
const encode = (p: Payload): Buffer => Buffer.from(codec.encodePayload(p));

describe('Sparkplug metrics through the tag map', () => {
  it('maps a metric that ingest.sparkplug.metrics does not name by tags.points, with its unit and validity; both maps work side by side', async () => {
    const h = ingestHarness({
      clock,
      config: testConfig({
        ingest: { sparkplug: { metrics: [{ node: 'plc1', metric: 'Aeration/DO', stage: 'aerobic', signal: 'do' }] } },
        tags: {
          points: [
            { tag: 'Membrane/TMP', stage: 'membrane', signal: 'tmp', unit: 'psi', valid: { when: { tag: 'Membrane/Filtering', equals: 1 }, otherwise: 'uncertain' } },
            { tag: 'Influent/Flow', stage: 'influent', signal: 'flow', unit: 'MGD' },
          ],
        },
      }),
    });
    await h.send('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: now - 1000, seq: 0, metrics: [
      { name: 'bdSeq', type: 'UInt64', value: 0 },
      { name: 'Aeration/DO', alias: 1, type: 'Float', value: 2 },
      { name: 'Membrane/Filtering', alias: 2, type: 'Boolean', value: true },
      { name: 'Membrane/TMP', alias: 3, type: 'Double', value: 2 },
      { name: 'Influent/Flow', alias: 4, type: 'Double', value: 3 },
    ] }));
    await h.send('spBv1.0/plant/NDATA/plc1', encode({ timestamp: now - 500, seq: 1, metrics: [
      { alias: 2, type: 'Boolean', value: false },
      { alias: 3, type: 'Double', value: 0.5 },
      { alias: 4, type: 'Double', value: -1 },
    ] }));
    expect(h.sink.readings.map((r) => [r.signal, r.ts, +r.value.toFixed(3), r.quality])).toEqual([
      ['do', now - 1000, 2, 'good'],
      ['tmp', now - 1000, 13.79, 'good'],
      ['flow', now - 1000, 11356.235, 'good'],
      ['tmp', now - 500, 3.447, 'uncertain'],
    ]);
    expect(h.sink.deadLetters.map((d) => [d.reason, d.detail])).toEqual([['out_of_range', 'tag Influent/Flow (-1 MGD): -3785.411784 outside [0, 120000]']]);
    // the node's death marks the tag-mapped signals bad too
    await h.send('spBv1.0/plant/NDEATH/plc1', encode({ timestamp: now - 100, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }));
    expect(h.sink.readings.slice(4).map((r) => [r.signal, r.quality]).sort()).toEqual([['do', 'bad'], ['flow', 'bad'], ['tmp', 'bad']]);
  });
});
