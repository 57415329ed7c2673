import mqtt from 'mqtt';

/**
 * Publisher process of the ingest benchmark: CLIENTS connections publish COUNT readings in total over
 * real sockets, QoS 0 or 1 (with INFLIGHT messages in flight per client), and print the wall time.
 * argv: url qos clients count inflight site [rate] [pattern]  (rate: readings/s over all clients; 0 = flat out)
 * pattern `own` (default): as PLCs do, each connection publishes its own signals, each in time order.
 * pattern `interleaved`: every connection publishes every signal, 50 s of event time apart, so the
 * daemon's windows see each signal's readings out of order (a stress case for the windows, not the store).
 */
const [url = 'mqtt://127.0.0.1:1883', qosText = '0', clientsText = '4', countText = '100000', inflightText = '1000', site = 'bench', rateText = '0', pattern = 'own'] =
  process.argv.slice(2);
const rate = Number(rateText);
const qos = Number(qosText) as 0 | 1;
const clients = Number(clientsText);
const count = Number(countText);
const inflight = Number(inflightText);
const signals = ['do', 'nh4_n', 'no3_n', 'mlss', 'airflow', 'kla', 'ph', 'temperature'];
const base = Date.now() - 86_400_000;

async function runClient(index: number, share: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}-${index}`, reconnectPeriod: 0, keepalive: 60 });
  const own = pattern === 'interleaved' ? signals : signals.filter((_, k) => k % clients === index % signals.length);
  const mine = own.length > 0 ? own : signals;
  const message = (n: number): [string, string] => [
    `wwtp/${site}/aerobic/${mine[n % mine.length]}`,
    `{"value":${(1 + (n % 50) / 10).toFixed(1)},"ts":${base + index * share + n}}`,
  ];
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    client.on('error', reject);
    if (qos === 0) {
      // write in slices so the socket drains between them
      const slice = (): void => {
        const until = Math.min(share, sent + 2_000);
        for (; sent < until; sent += 1) client.publish(...message(sent), { qos: 0 });
        if (sent < share) setImmediate(slice);
        else resolve();
      };
      slice();
      return;
    }
    const started = performance.now();
    // paced: no more than rate/clients readings per second from this connection
    const allowed = (): number => (rate > 0 ? Math.floor(((performance.now() - started) / 1000) * (rate / clients)) : Infinity);
    let waiting = false;
    const pump = (): void => {
      if (sent < share && sent >= allowed()) {
        if (!waiting) {
          waiting = true;
          setTimeout(() => {
            waiting = false;
            pump();
          }, 5);
        }
        return;
      }
      while (sent < share && sent - done < inflight && sent < allowed()) {
        const [topic, payload] = message(sent);
        sent += 1;
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (error) return reject(error);
          done += 1;
          if (done === share) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await client.endAsync();
}

// Wall clock (shared with the daemon's process) at the start of the first connection, after start-up.
const startedAt = Date.now();
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, i) => runClient(i, Math.floor(count / clients))));
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ sent: Math.floor(count / clients) * clients, startedAt, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
