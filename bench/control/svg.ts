/** Minimal SVG line charts: one panel, several series over a shared x axis. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (v: number): string => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: readonly Series[]; width?: number; height?: number; limit?: number }): string {
  const width = opts.width ?? 900;
  const height = opts.height ?? 260;
  const m = { l: 70, r: 160, t: 28, b: 36 };
  const xs = opts.series.flatMap((s) => s.x);
  const ys = opts.series.flatMap((s) => s.y.filter(Number.isFinite));
  if (opts.limit !== undefined) ys.push(opts.limit);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
  if (y1 <= y0) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.05;
  y0 = Math.min(y0, 0);
  const px = (x: number): number => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const py = (y: number): number => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.l}" y="16" font-size="13" font-weight="bold">${esc(opts.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${fmt(y)}</text>`);
  }
  for (let d = Math.ceil(x0); d <= Math.floor(x1); d++) {
    parts.push(`<line x1="${px(d).toFixed(1)}" x2="${px(d).toFixed(1)}" y1="${m.t}" y2="${height - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${px(d).toFixed(1)}" y="${height - m.b + 14}" text-anchor="middle">${d}</text>`);
  }
  parts.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - 4}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.t + height - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  if (opts.limit !== undefined) {
    parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${py(opts.limit).toFixed(1)}" y2="${py(opts.limit).toFixed(1)}" stroke="#c00" stroke-dasharray="4 3"/>`);
  }
  opts.series.forEach((s, i) => {
    const pts: string[] = [];
    s.x.forEach((x, j) => {
      const y = s.y[j];
      if (y !== undefined && Number.isFinite(y)) pts.push(`${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    });
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.2" points="${pts.join(' ')}"/>`);
    parts.push(`<line x1="${width - m.r + 10}" x2="${width - m.r + 30}" y1="${m.t + 10 + i * 16}" y2="${m.t + 10 + i * 16}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${width - m.r + 34}" y="${m.t + 14 + i * 16}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
