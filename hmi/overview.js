import { age, fmt, h } from './dom.js';



/** Plant overview by stage: live values, quality, age (stale ones marked), indicators, anomaly state. */
export function mountOverview(root, ctx) {
  const { meta } = ctx.state;
  const cells = new Map();
  const stageBoxes = new Map();
  const grid = h('div', { class: 'stages' });
  root.append(h('h1', {}, 'Plant overview'), grid);
  for (const stage of meta.stages) {
    const signals = meta.signals.filter((s) => s.stage === stage);
    if (signals.length === 0) continue;
    const anomaly = h('p', { class: 'anomaly', 'data-testid': `anomaly-${stage}` }, 'no anomaly score yet');
    const indicators = h('dl', { class: 'indicators' });
    const rows = signals.map((s) => {
      const key = `${s.stage}.${s.id}`;
      const value = h('td', { class: 'num', 'data-testid': `value-${key}` }, '–');
      const quality = h('td', {}, '');
      const ageCell = h('td', { class: 'num' }, '');
      const row = h('tr', { 'data-key': key }, h('th', { scope: 'row', title: s.description ?? '' }, s.id), value, h('td', { class: 'unit' }, s.unit), quality, ageCell);
      cells.set(key, { s, row, value, quality, ageCell });
      return row;
    });
    const box = h(
      'section',
      { class: 'stage', 'aria-label': `Stage ${stage}` },
      h('h2', {}, stage),
      anomaly,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'signal'), h('th', { class: 'num' }, 'value'), h('th', {}, 'unit'), h('th', {}, 'q.'), h('th', { class: 'num' }, 'age'))), h('tbody', {}, rows)),
      indicators,
    );
    stageBoxes.set(stage, { anomaly, indicators });
    grid.append(box);
  }

  function tick() {
    const readings = ctx.kind('reading');
    const now = Date.now();
    for (const [key, c] of cells) {
      const r = readings.get(key);
      if (!r) {
        c.row.classList.add('stale');
        continue;
      }
      const stale = now - r.receivedAt > c.s.periodSec * 1000 * meta.staleAfterPeriods;
      c.row.classList.toggle('stale', stale);
      c.ageCell.textContent = stale ? `stale ${age(now - r.receivedAt)}` : age(now - r.receivedAt);
    }
  }

  function update() {
    const readings = ctx.kind('reading');
    for (const [key, c] of cells) {
      const r = readings.get(key);
      if (!r) continue;
      c.value.textContent = fmt(r.value);
      c.quality.textContent = r.quality === 'good' ? 'ok' : r.quality;
      c.quality.title = r.quality;
      c.row.classList.toggle('bad', r.quality !== 'good');
    }
    const anomalies = ctx.kind('anomaly');
    const indicators = [...ctx.kind('indicator').entries()];
    for (const [stage, box] of stageBoxes) {
      const a = anomalies.get(stage);
      if (a) {
        const top = a.contributors.slice(0, 3).map((c) => `${c.signal} ${Math.round(c.share * 100)} %`).join(', ');
        const gone = (a.missing ?? []).map((m) => m.input).join(', ');
        const state = a.verdict === 'none' ? 'no verdict' : a.isAnomaly ? 'ANOMALY' : 'normal';
        box.anomaly.textContent = `${state}: score ${fmt(a.score)} / ${fmt(a.threshold)}${top ? ` (${top})` : ''}${gone ? `; missing ${gone}` : ''}`;
        box.anomaly.classList.toggle('alarm', a.isAnomaly);
      }
      const mine = indicators.filter(([k]) => k.startsWith(`${stage}.`));
      box.indicators.replaceChildren(...mine.flatMap(([k, i]) => [h('dt', {}, k.slice(stage.length + 1)), h('dd', {}, `${fmt(i.value)} ${i.unit}`)]));
    }
    tick();
  }
  return { update, tick };
}
