import { get } from './api.js';
import { age, fmt, h, time } from './dom.js';

/** The edge: readiness, store size and budget, sync lag, model versions and their events. */
export function mountEdge(root, ctx) {
  const health = h('dl', { class: 'facts' });
  const models = h('tbody');
  root.append(
    h('h1', {}, 'Edge'),
    health,
    h('h2', {}, 'Models'),
    h('table', {}, h('thead', {}, h('tr', {}, ...['model', 'version', 'state', 'detail'].map((t) => h('th', {}, t)))), models),
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
        ...list.map((m) => h('tr', {}, h('td', {}, m.name ?? m.model ?? ''), h('td', {}, String(m.version ?? '')), h('td', {}, m.state ?? (m.active ? 'active' : '')), h('td', { class: 'small' }, JSON.stringify(m.lastEvent ?? m.event ?? m.activatedAt ?? '')))),
      );
    } catch (error) {
      models.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'error' }, error.message)));
    }
  }
  void loadModels();
  return { update };
}
