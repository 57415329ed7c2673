import mqtt from 'mqtt';

/**
 * Publisher process of the PLC-shaped ingest runs: CLIENTS connections, each keeping WINDOW QoS 1
 * messages unacknowledged (a PLC's MQTT client usually keeps one), publishing flat out for SECONDS.
 * Each message's ack latency (publish to PUBACK) is recorded after a warm-up. Prints one JSON line.
 * argv: url clients window seconds site [ageDays]  (ageDays: how far in the past the readings' event time starts)
 */
const [url = 'mqtt://127.0.0.1:1883', clientsText = '1', windowText = '1', secondsText = '3', site = 'bench', ageDaysText = '30'] = process.argv.slice(2);
const clients = Number(clientsText);
const window = Number(windowText);
const seconds = Number(secondsText);
const WARM_UP_MS = 500;
const signals = ['do', 'nh4_n', 'no3_n', 'mlss', 'airflow', 'kla', 'ph', 'temperature'];
const base = Date.now() - Number(ageDaysText) * 86_400_000;

const connections = await Promise.all(
  Array.from({ length: clients }, (_, i) => mqtt.connectAsync(url, { clientId: `bench-plc-${process.pid}-${i}`, reconnectPeriod: 0, keepalive: 60 })),
);

process.stdout.write('{"started":true}\n');
const latencies: number[] = [];
let acked = 0;
const t0 = performance.now();
const measureFrom = t0 + WARM_UP_MS;
const stopAt = measureFrom + seconds * 1000;
let measuredAcks = 0;
let firstMeasured = 0;
let lastMeasured = 0;
const cpu0 = process.cpuUsage();

function runClient(client: mqtt.MqttClient, index: number): Promise<void> {
  const topic = `wwtp/${site}/aerobic/${signals[index % signals.length] ?? 'do'}`;
  let sent = 0;
  let outstanding = 0;
  return new Promise((resolve, reject) => {
    client.on('error', reject);
    const pump = (): void => {
      while (outstanding < window && performance.now() < stopAt) {
        // Unique per (signal, ts) over every connection.
        const ts = base + sent * clients + index;
        sent += 1;
        outstanding += 1;
        const at = performance.now();
        client.publish(topic, `{"value":${(1 + (sent % 50) / 10).toFixed(1)},"ts":${ts}}`, { qos: 1 }, (error) => {
          if (error) return reject(error);
          outstanding -= 1;
          acked += 1;
          const now = performance.now();
          if (at >= measureFrom && now <= stopAt) {
            latencies.push(now - at);
            measuredAcks += 1;
            if (firstMeasured === 0) firstMeasured = now;
            lastMeasured = now;
          }
          pump();
        });
      }
      // Past the end, the last ack settles the connection (also when time ran out between an ack and this check).
      if (outstanding === 0) resolve();
    };
    pump();
  });
}

await Promise.all(connections.map((c, i) => runClient(c, i)));
const cpu = process.cpuUsage(cpu0);
await Promise.all(connections.map((c) => c.endAsync()));
latencies.sort((a, b) => a - b);
const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    acked,
    measured: measuredAcks,
    perSec: (measuredAcks / (stopAt - measureFrom)) * 1000,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    span: lastMeasured - firstMeasured,
    cpuUsPerMsg: (cpu.user + cpu.system) / Math.max(1, acked),
  })}\n`,
);
process.exit(0);
