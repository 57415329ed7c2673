/**
 * The `ingest` section of docs/benchmarks.md. The table is measured by each run; the profile shares
 * and the before/after figures below it were measured once (dated) and are refreshed by hand after a
 * new profile (`node --cpu-prof --import tsx bench/ingest/run.ts --dry --no-reference --qos N`).
 */
import { cpus, loadavg } from 'node:os';

/** Measured by hand (see the header); refresh after a new profile. */
const PROFILE = `**Where the time goes** (CPU profile of the daemon's main thread while messages arrive, 2026-11-24, load 0.9; shares of busy
time, QoS 0 / QoS 1): MQTT parsing, aedes routing and PUBACK writing (aedes, mqtt-packet, bl, debug, mqemitter)
31 % / 40 %; SQLite inserts 19 % / 12 %; garbage collection 16 % / 16 %; SQLite BEGIN/COMMIT, the commit queue and
the fsync hand-off 3 % / 4 %; ingest (route, decode, validate, batch) and the broker's checks 8 % / 7 %; windows
pipeline and commissioning log 5 % / 5 %; timers, ticks and the rest of Node 19 % / 16 % (clock reads, timers, ticks, socket reads; at QoS 0 also a few % of modules and configuration loaded while the first messages arrived). The profiler samples wall time on the main
thread, so on a busy machine the shares of calls that wake another thread (fsync, socket writes) grow; busy time
per reading under the profiler 8.3 / 11.4 µs. The reading fast path took decoding from 8 % to 2 %, the topic-match
caches took qlobber's 4 % / 7 % to nothing.
Allocation: about 4 KB of JavaScript heap per reading, a fifth of it the argument lists of mqtt-packet's disabled
\`debug\` calls; the messages held until their commit (aedes' packets and callbacks, the readings) are
still alive when the young generation is collected, so those collections (most of the GC time) copy them. SQLite inserts cost 1.7-1.9 µs per row alone (half of it the natural-key
index); sorting a commit's rows by key, larger statements or a larger page cache change nothing measurable.`;

const HISTORY = `**Regression check (2026-12-02, \`--qos 0 --no-plc --no-reference\`).** QoS 0 fell from 44,000-53,000 to
10,000-14,000 readings/s when the broker's connection guard (src/broker/guard.ts) read every connection
through a Duplex of its own that checked each packet's declared length: aedes reads its connection with
\`readable\`/\`read()\`, and the wrapper's own buffering left data waiting in the sockets while the daemon
idled (1.5 s of CPU and 0.5 s in commits over 14 s; the guard bypassed gave 60,533/s in the same minutes).
The guard now taps the chunks aedes reads (a \`data\` listener beside aedes' \`readable\` one) and no longer
sits between the socket and aedes: 112,867 readings/s committed at 7.7 µs CPU per reading
(\`npx tsx bench/ingest/run.ts --readings 200000 --qos 0 --no-reference --dry --no-plc\`, load 1.0), with the
oversized-packet, CONNECT and idle refusals unchanged (test/broker, test/blackbox/protocol.test.ts).

**QoS 0 check (2026-12-03).** The 14,185 readings/s of the run of 2026-12-02 23:09 came from before the guard fix
above (e76416b, 23:15), not from the store change after it (68c5763, the WAL starting over at 8 MiB): the same
command on the code after both gave 46,264 readings/s at 14.5 µs CPU per reading (\`--dry --no-reference\`, load
0.8-1.8, 2026-12-03 05:33 UTC), and in the run of 06:30 UTC 40,875/s at 11.5 µs beside Mosquitto's pass-through of
50,865/s (127,959/s in the run of 2026-12-02): the wall rate follows the machine's load (about 8 there), the ratio to
Mosquitto went from 0.11 to 0.80, and the commit path of QoS 0 (commits of about 1,900 rows, fsynced on the thread
pool) is unchanged by the in-place fsync of small commits.

**Regression check (2026-11-24).** The drop from 68,000-82,000 readings/s at 7.5-9.2 µs per reading to
35,500-42,500/s at 17.6-20.0 µs came from the machine, not the code: the code of the earlier figures (before the
state writes joined the group commit, WAL checkpoints moved to a worker thread and the latency bench changed) and
the code after those changes, run alternately in the same minutes (3 pairs, load 1.6-6.0), cost the same: QoS 0
9.5-11.5 against 9.4-10.6 µs per reading, QoS 1 12.7-13.3 against 12.6-13.8 µs, at the same wall rates. A busy machine
(another process's evaluations on both cores) raises both the wall time and the CPU time per reading.

**Before/after** (3 alternating runs each, same minutes, load 2.2-3.5, \`--no-reference\`): daemon CPU per reading QoS 0
9.5-10.0 -> 8.5-9.1 µs, QoS 1 11.3-12.6 -> 9.7-10.4 µs; wall rates in those runs QoS 0 66,000-91,000 ->
70,000-93,000 readings/s, QoS 1 37,000-53,000 -> 44,000-60,000. Changes: the usual reading payloads (a bare number,
or \`{"value":N}\` with \`"ts":N\` and \`"quality"\`, no whitespace) are read straight from the bytes, to the same
double JSON.parse gives (15 significant digits at most, no exponent; anything else goes through JSON.parse and the
schema as before, which still produce every refusal); aedes' topic matches (its emitter, and at QoS 1 its
persistence's offline-queue lookup) are cached per topic and cleared by every subscription change, so forwarding to
subscribers is unchanged; the broker remembers each topic's depth check with its role verdict. The round before:
multi-row \`INSERT\`s (128 rows per execution, in arrival order), the commit's fsync off the event loop, a hand
check of well-formed JSON in front of the schema and one counter update per commit took QoS 0 from 9.7-11.7 to
7.5-9.2 µs per reading. With \`--interleaved\` every signal arrives out of event-time order and the windows' sorted
insert costs O(buffered samples) per reading; real PLCs publish each signal in order.`;

export interface ReportOptions {
  readonly readings: number;
  readonly clients: number;
  readonly inflight: number;
  readonly pattern: 'own' | 'interleaved';
}

export function report(rows: readonly string[], o: ReportOptions): string {
  const command = `npx tsx bench/ingest/run.ts --readings ${o.readings} --clients ${o.clients}${o.pattern === 'interleaved' ? ' --interleaved' : ''}`;
  return `## Ingest: publishers -> embedded broker -> SQLite committed

Command: \`${command}\` (${o.clients} publisher connections (mqtt.js) in a separate process, JSON
readings, ${o.pattern === 'own' ? 'each connection publishing its own signals in time order, as PLCs do' : 'every connection publishing every signal, 50 s of event time apart'}; QoS 1 with
${o.inflight} messages in flight per connection, each PUBACK sent only after the reading's SQLite commit and its fsync
(\`storage.synchronous: full\`); the whole daemon runs: ingest, store, windows, control). Reference: the same
publishers through the machine's Mosquitto (127.0.0.1:1883, default limits) to one mqtt.js subscriber, measured in
the same run. Rates run from the publishers' first connection (their process start-up, about half a second in
which the daemon idles, is not counted) to the last commit, or for Mosquitto to the last message delivered.
Ratios: daemon committed/s over Mosquitto's pass-through (delivered to the subscriber) and over what
Mosquitto accepted from the same publishers (at QoS 1: PUBACKed, from memory). At QoS 1 Mosquitto drops what passes
its \`max_queued_messages\` (1000) for the subscriber, hence the delivered share; the second ratio compares like with like.

| QoS | daemon readings/s committed | readings | commit p99 (ms) | peak RSS (MB) | daemon CPU µs/reading | capacity on one core (readings/s) | publisher CPU µs/msg | Mosquitto pass-through msg/s | Mosquitto accepted msg/s | ratio to pass-through | ratio to accepted |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, ${cpus().length} cores shared with other work (load
average ${loadavg()[0]?.toFixed(1) ?? 'n/a'} at the end of the run): the wall rate follows the machine's load from run to run, and so, less, does
CPU per reading (a busy machine slows every instruction); compare CPU per reading across runs of the same minutes.
"Capacity on one core" is 10^6 / daemon CPU time per reading (all daemon threads); the wall rate is lower because
the publishers, which cost about as much CPU per message as the daemon, share the machine with it.

${PROFILE}

${HISTORY}`;
}
