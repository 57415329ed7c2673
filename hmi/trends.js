import { get } from './api.js';
import { fmt, h, time } from './dom.js';

const W = 900;
const H = 300;
const PAD = 40;
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** A line chart of the actuals (with their min-max band) and each horizon's predictions. */
export function chart(t, unit) {
  const values = [...t.points.flatMap((p) => [p.min, p.max]), ...t.predictions.flatMap((s) => s.points.map((p) => p.value))];
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${t.stage} ${t.signal} from ${time(t.from)} to ${time(t.to)}` });
  if (values.length === 0) return root;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    hi += 1;
    lo -= 1;
  }
  const x = (ts) => PAD + ((ts - t.from) / (t.to - t.from)) * (W - 2 * PAD);
  const y = (v) => H - PAD - ((v - lo) / (hi - lo)) * (H - 2 * PAD);
  for (const v of [lo, (lo + hi) / 2, hi]) {
    root.append(svg('line', { x1: PAD, x2: W - PAD, y1: y(v), y2: y(v), class: 'grid' }));
    const label = svg('text', { x: 2, y: y(v) + 4, class: 'axis' });
    label.textContent = fmt(v);
    root.append(label);
  }
  const band = [...t.points.map((p) => `${x(p.ts)},${y(p.max)}`), ...[...t.points].reverse().map((p) => `${x(p.ts)},${y(p.min)}`)];
  if (band.length > 0) root.append(svg('polygon', { points: band.join(' '), class: 'band' }));
  root.append(svg('polyline', { points: t.points.map((p) => `${x(p.ts)},${y(p.mean)}`).join(' '), class: 'actual' }));
  t.predictions.forEach((s, i) => {
    const pts = s.points.filter((p) => p.ts <= t.to);
    root.append(svg('polyline', { points: pts.map((p) => `${x(p.ts)},${y(p.value)}`).join(' '), class: `predicted p${i % 3}` }));
  });
  const unitLabel = svg('text', { x: W - PAD, y: 14, class: 'axis', 'text-anchor': 'end' });
  unitLabel.textContent = unit;
  root.append(unitLabel);
  return root;
}

/** Any signal over the last 24 h or 7 d from the store, predictions against actuals. */
export function mountTrends(root, ctx) {
  const { meta } = ctx.state;
  const pick = h('select', { 'aria-label': 'Signal' }, meta.signals.map((s) => h('option', { value: `${s.stage}.${s.id}` }, `${s.stage} · ${s.id} (${s.unit})`)));
  const span = h('select', { 'aria-label': 'Time span' }, h('option', { value: 24 }, 'last 24 h'), h('option', { value: 168 }, 'last 7 d'));
  const out = h('div', { class: 'trend' });
  const legend = h('p', { class: 'small' });
  async function load() {
    const [stage, signal] = pick.value.split('.');
    const unit = meta.signals.find((s) => s.stage === stage && s.id === signal)?.unit ?? '';
    try {
      const t = await get(`/hmi/api/trend?stage=${stage}&signal=${signal}&hours=${span.value}`);
      out.replaceChildren(chart(t, unit));
      legend.textContent = `${t.points.length} points (mean and min–max band)` + (t.predictions.length ? `; predictions at ${t.predictions.map((p) => `${p.horizonMin} min`).join(', ')} ahead, dashed` : '; no predictions for this signal');
    } catch (error) {
      out.replaceChildren(h('p', { class: 'error' }, error.message));
    }
  }
  pick.addEventListener('change', () => void load());
  span.addEventListener('change', () => void load());
  root.append(h('h1', {}, 'Trends'), h('div', { class: 'controls' }, pick, span, h('button', { type: 'button', onclick: () => void load() }, 'Reload')), out, legend);
  void load();
  return { update() {} };
}
