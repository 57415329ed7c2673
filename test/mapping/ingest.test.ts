import { describe, expect, it } from 'vitest';
import { ingestHarness, manualClock, testConfig } from '../ingest/helpers.js';

const now = Date.UTC(2026, 5, 1, 12);
const clock = manualClock(now);

/** A plant that publishes its own tree, JSON with other field names, several tags per message, US units. */
const tags = {
  mqtt: [
    { topic: 'plant/+line/zone7/+tag', tag: '{line}.{tag}', value: 'v', timestamp: { path: 't', format: 'iso', timezone: 'America/Chicago' }, quality: { path: 'q' } },
    { topic: 'plant/+line/bare/+tag', tag: '{line}.{tag}' },
    { topic: 'scada/+area/batch', array: { path: 'readings', tag: 'name', value: 'value', timestamp: 'ts', quality: 'status' }, timestamp: { format: 'epoch-ms' }, quality: { good: ['OK'], uncertain: ['MAN'] } },
    { topic: 'scada/+area/snapshot', tag: '{area}_{name}', object: 'values', timestamp: { path: 'time', format: 'epoch-s' } },
    { topic: 'blowers/+unit', fields: [{ path: 'air.scfm', tag: '{unit}_air' }, { path: 'mode', tag: '{unit}_mode' }], timestamp: { path: 'ts', format: 'epoch-ms' } },
  ],
  points: [
    { tag: 'ab3.ammonia', stage: 'aerobic', signal: 'nh4_n' },
    { tag: 'ab3.temp', stage: 'aerobic', signal: 'temperature', unit: 'degF' },
    { tag: 'ab3.level', stage: 'secondary', signal: 'sludge_blanket', unit: 'ft' },
    { tag: 'FT101', stage: 'influent', signal: 'flow', unit: 'MGD' },
    { tag: 'PT7', stage: 'membrane', signal: 'tmp', unit: 'psi', valid: { max: 10, otherwise: 'uncertain' } },
    { tag: 'east_do', stage: 'aerobic', signal: 'do' },
    { tag: 'east_mlss', stage: 'aerobic', signal: 'mlss', unit: 'g/L' },
    { tag: 'b1_air', stage: 'aerobic', signal: 'airflow', unit: 'SCFM', valid: { when: { tag: 'b1_mode', in: [1, 2] } } },
  ],
};

const harness = () => ingestHarness({ clock, config: testConfig({ tags }) });

describe('plant tags over MQTT', () => {
  it('maps a topic with named levels and a JSON payload with its own field names, in the plant time zone and units', async () => {
    const h = harness();
    expect(await h.send('plant/ab3/zone7/ammonia', '{"v": 1.2, "t": "2026-06-01 06:30:00", "q": 192}')).toBe(true);
    await h.send('plant/ab3/zone7/temp', '{"v": 68, "t": "2026-06-01 06:30:00", "q": "uncertain"}');
    await h.send('plant/ab3/bare/level', '6.5');
    expect(h.sink.deadLetters).toEqual([]);
    expect(h.sink.readings.map((r) => [r.stage, r.signal, r.ts, +r.value.toFixed(4), r.quality])).toEqual([
      ['aerobic', 'nh4_n', Date.UTC(2026, 5, 1, 11, 30), 1.2, 'good'],
      ['aerobic', 'temperature', Date.UTC(2026, 5, 1, 11, 30), 20, 'uncertain'],
      ['secondary', 'sludge_blanket', now, 1.9812, 'good'],
    ]);
  });

  it('reads several tags from one message: an array of records, an object of tags, fields at their paths', async () => {
    const h = harness();
    const batch = { readings: [
      { name: 'FT101', value: 2.5, ts: now - 60_000, status: 192 },
      { name: 'PT7', value: 3, ts: now - 60_000, status: 0 },
      { name: 'PT7', value: 12, ts: now - 30_000 },
      { name: 'FT101', value: 2.4, ts: now - 20_000, status: 'OK' },
      { name: 'FT101', value: 2.3, ts: now - 10_000, status: 'MAN' },
      { name: 'FT101', value: 2.2, ts: now - 5_000, status: 'ERR' },
    ] };
    await h.send('scada/north/batch', JSON.stringify(batch));
    await h.send('scada/east/snapshot', JSON.stringify({ time: now / 1000 - 10, values: { do: 2.1, mlss: 3.2 } }));
    await h.send('blowers/b1', JSON.stringify({ ts: now - 5000, air: { scfm: 1000 }, mode: 2 }));
    await h.send('blowers/b1', JSON.stringify({ ts: now - 4000, air: { scfm: 900 }, mode: 0 }));
    expect(h.sink.deadLetters).toEqual([]);
    expect(h.sink.readings.map((r) => [r.signal, r.ts, +r.value.toFixed(3), r.quality])).toEqual([
      ['flow', now - 60_000, 9463.529, 'good'],
      ['tmp', now - 60_000, 20.684, 'bad'],
      // above the tag's valid range: kept, marked
      ['tmp', now - 30_000, 82.737, 'uncertain'],
      // the plant's own quality codes; one it does not list is bad
      ['flow', now - 20_000, 9084.988, 'good'],
      ['flow', now - 10_000, 8706.447, 'uncertain'],
      ['flow', now - 5_000, 8327.906, 'bad'],
      ['do', now - 10_000, 2.1, 'good'],
      ['mlss', now - 10_000, 3200, 'good'],
      // the blower's mode flag decides whether its air flow is valid
      ['airflow', now - 5000, 1607.468, 'good'],
      ['airflow', now - 4000, 1446.721, 'bad'],
    ]);
  });

  it('dead-letters `unmapped` what no pattern covers, and a tag no point maps; the mapped tags of the same message are kept', async () => {
    const h = harness();
    await h.send('plant/ab3/zone8/ammonia', '1');
    await h.send('factory/line1/temp', '{"v": 1}');
    await h.send('plant/zz9/zone7/ammonia', '{"v": 1, "t": "2026-06-01 06:30:00"}');
    await h.send('scada/east/snapshot', JSON.stringify({ time: now / 1000, values: { do: 2.2, cod: 400 } }));
    expect(h.sink.deadLetters.map((d) => [d.topic, d.reason, d.detail])).toEqual([
      ['plant/ab3/zone8/ammonia', 'unmapped', 'no tags.mqtt pattern matches and not under wwtp/'],
      ['factory/line1/temp', 'unmapped', 'no tags.mqtt pattern matches and not under wwtp/'],
      ['plant/zz9/zone7/ammonia', 'unmapped', 'no tags.points entry for zz9.ammonia'],
      ['scada/east/snapshot', 'unmapped', 'no tags.points entry for east_cod'],
    ]);
    expect(h.sink.readings.map((r) => [r.signal, r.value])).toEqual([['do', 2.2]]);
    expect(h.published.map((d) => d.reason)).toEqual(['unmapped', 'unmapped', 'unmapped', 'unmapped']);
  });

  it('applies the checks of every reading after conversion, each with its reason', async () => {
    const h = harness();
    await h.send('plant/ab3/zone7/ammonia', '{"v": "n/a", "t": "2026-06-01 06:30:00"}');
    await h.send('plant/ab3/zone7/ammonia', '{"t": "2026-06-01 06:30:00"}');
    await h.send('plant/ab3/zone7/ammonia', '{"v": 1, "t": "noon"}');
    await h.send('plant/ab3/zone7/ammonia', '{"v": 1, "t": "2026-06-02 06:30:00"}');
    await h.send('plant/ab3/zone7/ammonia', '{"v": 1');
    await h.send('plant/ab3/zone7/temp', '{"v": 400, "t": "2026-06-01 06:30:00"}');
    await h.send('scada/north/batch', '{"readings": 5}');
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual(['wrong_type', 'wrong_type', 'bad_timestamp', 'bad_timestamp', 'unparseable', 'out_of_range', 'wrong_type']);
    expect(h.sink.deadLetters[5]?.detail).toBe('tag ab3.temp (400 degF): 204.44444444444446 outside [0, 40]');
    expect(h.sink.readings).toEqual([]);
  });

  it('leaves wwtp/{site}/... readings as they are', async () => {
    const h = harness();
    await h.send(`wwtp/${h.config.site}/aerobic/do`, '2.5');
    await h.send(`wwtp/${h.config.site}/aerobic/nope`, '2.5');
    expect(h.sink.readings.map((r) => r.value)).toEqual([2.5]);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual(['unknown_signal']);
  });
});

describe('a broad pattern', () => {
  it('takes neither HMI commands nor the daemon own outputs, and a pattern may map topics under wwtp/ too', async () => {
    const h = ingestHarness({
      clock,
      config: testConfig({ tags: { mqtt: [{ topic: '#rest', tag: '{rest}' }], points: [{ tag: 'legacy/plc7/DO', stage: 'aerobic', signal: 'do' }] } }),
    });
    const site = h.config.site;
    await h.send(`wwtp/${site}/hmi/loops/do/mode`, '{"mode":"manual","by":"op"}');
    await h.send(`wwtp/${site}/aerobic/setpoint/do`, '{"value":2}');
    await h.send(`wwtp/${site}/edge/status`, 'online');
    await h.send('legacy/plc7/DO', '1.7');
    await h.send(`wwtp/${site}/aerobic/do`, '2.5');
    expect(h.commands.map((c) => c.kind)).toEqual(['loop_mode']);
    expect(h.sink.readings.map((r) => [r.signal, r.value])).toEqual([['do', 1.7], ['do', 2.5]]);
    expect(h.sink.deadLetters).toEqual([]);
    await h.send(`wwtp/${site}/aerobic/nope`, '1');
    expect(h.sink.deadLetters.map((d) => [d.reason, d.detail])).toEqual([['unmapped', `no tags.points entry for wwtp/${site}/aerobic/nope`]]);
  });
});
