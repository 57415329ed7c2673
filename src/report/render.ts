import type { DailyReport } from './compute.js';

/** A figure with at most `digits` decimals, trailing zeros dropped; empty for none. */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  const text = v.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * One CSV with a `section` column, so a spreadsheet can filter it: effluent, load, removal, alarms,
 * completeness, plus a header section with the site, day and flow meter.
 */
export function reportCsv(r: DailyReport): string {
  const rows: string[][] = [['section', 'item', 'unit', 'value', 'limit', 'hours_above_limit', 'samples', 'detail']];
  rows.push(['report', 'site', '', r.site, '', '', '', ''], ['report', 'day', '', r.day, '', '', '', `${r.timezone}, ${r.hours} h from ${new Date(r.from).toISOString()}`]);
  rows.push(['report', 'flow', 'm3', num(r.volumeM3, 1), '', '', '', r.flowSignal ?? 'no flow meter']);
  for (const e of r.effluent) {
    rows.push(['effluent', e.signal, e.unit, num(e.mean), num(e.limit), num(e.hoursAboveLimit, 2), String(e.samples), `${e.weighting}-weighted mean; min ${num(e.min)} max ${num(e.max)}`]);
  }
  for (const l of r.loads) {
    rows.push(['load_in', l.parameter, 'kg/d', num(l.influentKgPerDay, 1), '', '', '', '']);
    rows.push(['load_out', l.parameter, 'kg/d', num(l.effluentKgPerDay, 1), '', '', '', '']);
    if (l.removalPct !== null) rows.push(['removal_overall', l.parameter, '%', num(l.removalPct, 1), '', '', '', 'by load']);
  }
  for (const x of r.removal) rows.push(['removal', `${x.parameter} ${x.from}->${x.to}`, '%', num(x.removalPct, 1), '', '', '', 'by mean concentration']);
  for (const [priority, n] of Object.entries(r.alarms)) rows.push(['alarms', priority, 'count', String(n), '', '', '', 'raised in the day']);
  for (const c of r.completeness) rows.push(['completeness', `${c.stage}.${c.signal}`, '%', num(c.share * 100, 1), '', '', String(c.readings), `of ${num(c.expected, 0)} expected${c.bad > 0 ? `; ${c.bad} marked bad, left out` : ''}`]);
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** An inline SVG of the hourly means with the limit as a dashed line. */
function plot(hourly: readonly (number | null)[], limit: number | null, label: string): string {
  const values = [...hourly.filter((v): v is number => v !== null), ...(limit !== null ? [limit] : [])];
  if (values.length === 0) return '';
  const W = 480;
  const H = 120;
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values) * 1.1 || 1;
  const last = Math.max(1, hourly.length - 1);
  const x = (h: number): number => 30 + (h / last) * (W - 40);
  const y = (v: number): number => H - 15 - ((v - lo) / (hi - lo)) * (H - 25);
  const pts = hourly.map((v, h) => (v === null ? null : `${x(h).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean).join(' ');
  const lim = limit === null ? '' : `<line x1="30" x2="${W - 10}" y1="${y(limit).toFixed(1)}" y2="${y(limit).toFixed(1)}" class="limit"/>`;
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}"><text x="0" y="12">${num(hi, 2)}</text><text x="0" y="${H - 15}">${num(lo, 2)}</text>${lim}<polyline points="${pts}" class="line"/><text x="30" y="${H - 2}">00 h</text><text x="${W - 40}" y="${H - 2}">23 h</text></svg>`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A self-contained printable page (no scripts, no external files). */
export function reportHtml(r: DailyReport): string {
  const effluent = r.effluent
    .map(
      (e) => `<section class="param"><h3>${esc(e.signal)} (${esc(e.unit)})</h3><p>${e.weighting === 'flow' ? 'flow-weighted' : 'time'} mean <strong>${num(e.mean)}</strong>${e.limit !== null ? `, limit ${num(e.limit)}, ${num(e.hoursAboveLimit, 2)} h above` : ''}; min ${num(e.min)}, max ${num(e.max)}, ${e.samples} samples</p>${plot(e.hourly, e.limit, `${e.signal} hourly means on ${r.day}`)}</section>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Daily report ${esc(r.site)} ${esc(r.day)}</title><style>
body{font:12px/1.4 system-ui,sans-serif;margin:1.5cm;color:#111}h1{font-size:18px}h2{font-size:14px;margin-top:1.2em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%;margin:.4em 0}th,td{border:1px solid #bbb;padding:2px 5px;text-align:left}td:nth-child(n+2){text-align:right}
.params{display:grid;grid-template-columns:1fr 1fr;gap:8px}.param{break-inside:avoid}svg{width:100%;height:auto;font-size:9px}
.line{fill:none;stroke:#0b5cad;stroke-width:1.5}.limit{stroke:#b3261e;stroke-dasharray:4 3}@page{size:A4;margin:1.2cm}
</style></head><body>
<h1>Daily report: site ${esc(r.site)}, ${esc(r.day)} (${esc(r.timezone)}${r.hours !== 24 ? `, ${r.hours} h: the clocks changed` : ''})</h1>
<p>Flow ${r.flowSignal ? `${num(r.volumeM3, 1)} m³ (${esc(r.flowSignal)})` : 'not metered: arithmetic means'}. Generated by wwtp-edge from its store.</p>
<h2>Effluent, daily averages against the limits</h2>
${table(['parameter', 'unit', 'mean', 'weighting', 'limit', 'hours above', 'samples'], r.effluent.map((e) => [e.signal, e.unit, num(e.mean), e.weighting, num(e.limit), num(e.hoursAboveLimit, 2), String(e.samples)]))}
<div class="params">${effluent}</div>
<h2>Loads in and out</h2>
${table(['parameter', 'influent kg/d', 'effluent kg/d', 'removal %'], r.loads.map((l) => [l.parameter, num(l.influentKgPerDay, 1), num(l.effluentKgPerDay, 1), num(l.removalPct, 1)]))}
<h2>Removal per stage</h2>
${table(['parameter', 'from', 'to', 'removal %'], r.removal.map((x) => [x.parameter, x.from, x.to, num(x.removalPct, 1)]))}
<h2>Alarms raised</h2>
${table(['critical', 'high', 'medium', 'low'], [[String(r.alarms.critical), String(r.alarms.high), String(r.alarms.medium), String(r.alarms.low)]])}
<h2>Data completeness</h2>
${table(['signal', 'readings', 'marked bad (left out)', 'expected', 'complete %'], r.completeness.map((c) => [`${c.stage}.${c.signal}`, String(c.readings), String(c.bad), num(c.expected, 0), num(c.share * 100, 1)]))}
</body></html>
`;
}
