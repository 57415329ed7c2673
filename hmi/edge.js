import { get } from './api.js';
import { age, fmt, h, time } from './dom.js';

/** The edge: readiness, broker clients and intake, store size and budget, sync lag, model versions. */
export function mountEdge(root, ctx) {
  let ticks = 0;
  const health = h('dl', { class: 'facts' });
  const counters = h('dl', { class: 'facts', 'data-testid': 'edge-metrics' });
  const models = h('tbody');
  root.append(
    h('h1', {}, 'Edge'),
    health,
    h('h2', {}, 'Broker and intake'),
    counters,
    h('h2', {}, 'Models'),
    h('table', {}, h('thead', {}, h('tr', {}, ...['model', 'version', 'kind', 'stage', 'created', 'held-out figures'].map((t) => h('th', {}, t)))), models),
  );
  const fact = (k, v) => [h('dt', {}, k), h('dd', {}, v)];

  function update() {
    const s = ctx.kind('status').get('status');
    const meta = ctx.state.meta;
    const items = [];
    if (s) {
      items.push(...fact('version', s.version), ...fact('up', age(s.uptimeSec * 1000)), ...fact('status at', time(s.ts)));
      for (const [k, ok] of Object.entries(s.checks ?? {})) items.push(...fact(k, ok ? 'ok' : 'NOT READY'));
      if (typeof s.storeBytes === 'number') items.push(...fact('store', `${fmt(s.storeBytes / 1e6)} MB of ${fmt(meta.storageMaxBytes / 1e6)} MB budget (${fmt((100 * s.storeBytes) / meta.storageMaxBytes)} %)`));
      if (s.shedding) items.push(...fact('last shedding', `${time(s.shedding.ts)}: ${s.shedding.rows} rows`));
      if (s.sync) {
        items.push(...fact('central sync', s.sync.connected ? 'connected' : `disconnected${s.sync.lastError ? `: ${s.sync.lastError}` : ''}`));
        for (const [table, t] of Object.entries(s.sync.tables ?? {})) items.push(...fact(`sync ${table}`, typeof t.lagSec === 'number' ? `lag ${age(t.lagSec * 1000)}` : JSON.stringify(t)));
      } else items.push(...fact('central sync', 'off'));
    } else items.push(...fact('status', 'waiting for the first health summary'));
    health.replaceChildren(...items);
  }

  async function loadModels() {
    try {
      const list = await get('/api/v1/models');
      models.replaceChildren(
        ...list.map((m) =>
          h(
            'tr',
            {},
            h('td', {}, m.name),
            h('td', {}, `${m.version}${m.previous ? ` (previous ${m.previous})` : ''}`),
            h('td', {}, m.kind),
            h('td', {}, m.stage ?? ''),
            h('td', {}, String(m.createdAt ?? '').slice(0, 10)),
            h('td', { class: 'small' }, figures(m.metrics ?? {})),
          ),
        ),
      );
    } catch (error) {
      models.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'error' }, error.message)));
    }
  }
  /** A few figures from the daemon's own /metrics: clients on the embedded broker, readings, dead letters. */
  async function loadMetrics() {
    try {
      const text = await (await fetch('/metrics')).text();
      const sum = (name) =>
        text
          .split('\n')
          .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
          .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
      counters.replaceChildren(
        ...fact('broker clients', fmt(sum('wwtp_edge_mqtt_clients'))),
        ...fact('readings committed', fmt(sum('wwtp_edge_readings_total'))),
        ...fact('dead letters', fmt(sum('wwtp_edge_dead_letters_total'))),
        ...fact('messages published', fmt(sum('wwtp_edge_published_total'))),
      );
    } catch (error) {
      counters.replaceChildren(...fact('metrics', error.message));
    }
  }
  void loadModels();
  void loadMetrics();
  return { update, tick: () => (++ticks % 10 === 0 ? void loadMetrics() : undefined) };
}

/** A model's bundle figures in one line: mean R² over its targets, threshold or loss otherwise. */
function figures(metrics) {
  const r2 = Object.entries(metrics).filter(([k]) => k.startsWith('r2.')).map(([, v]) => v);
  const parts = [];
  if (r2.length > 0) parts.push(`R² ${fmt(r2.reduce((a, b) => a + b, 0) / r2.length)} over ${r2.length} targets (min ${fmt(Math.min(...r2))})`);
  for (const k of ['threshold', 'validationLoss', 'heldOutWindows']) if (typeof metrics[k] === 'number') parts.push(`${k} ${fmt(metrics[k])}`);
  return parts.join('; ');
}
