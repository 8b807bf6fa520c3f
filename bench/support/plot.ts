/**
 * One SVG line plot per figure: the figure against the size, one curve per series (the package
 * and its baseline), written beside PERFORMANCE.md in docs/plots/. Plain SVG so that the bench
 * scripts draw their own plots with no dependency and GitHub shows them inline.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Series {
  name: string;
  /** [size, value] pairs; sizes need not be shared between series. */
  points: [number, number][];
}

export interface PlotSpec {
  /** File name under docs/plots/, e.g. `event-pull-lag.svg`. */
  file: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A horizontal line drawn dashed (a goal, e.g. lag p99 ≤ 2 s). */
  goal?: { value: number; label: string };
  /** Start the y axis at 0 (default true). */
  yFromZero?: boolean;
}

const W = 760;
const H = 360;
const M = { left: 70, right: 250, top: 40, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round tick steps (1, 2, 5 × 10^k) giving about `count` ticks over [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(+v.toPrecision(12));
  return out;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 10000) return `${+(v / 1000).toPrecision(4)}k`;
  return String(+v.toPrecision(4));
}

/** The SVG text of `spec`. */
export function renderPlot(spec: PlotSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  if (spec.goal) ys.push(spec.goal.value);
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const y0 = spec.yFromZero === false ? Math.min(...ys) : Math.min(0, ...ys);
  const y1 = Math.max(...ys, y0 + 1e-9) * 1.05;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="14">${esc(spec.title)}</text>`,
  ];
  for (const t of ticks(y0, y1)) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  for (const t of ticks(x0, x1)) {
    out.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`,
      `<text x="${sx(t)}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  if (spec.goal) {
    const y = sy(spec.goal.value);
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="6 4"/>`,
      // Inside the frame, above its line: the column on the right is the legend's.
      `<text x="${M.left + pw - 6}" y="${y - 5}" text-anchor="end" fill="#555">${esc(spec.goal.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      ...pts.map(
        ([x, y]) =>
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${colour}"/>`,
      ),
      `<line x1="${M.left + pw + 8}" x2="${M.left + pw + 28}" y1="${M.top + 10 + i * 18}" y2="${M.top + 10 + i * 18}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${M.left + pw + 32}" y="${M.top + 14 + i * 18}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The repository's docs/plots/ (the nearest directory up with a package.json, from dist/ or not). */
export function plotsDir(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'docs', 'plots');
}

/** Writes `spec` as docs/plots/<file> and returns the path written. */
export function writePlot(spec: PlotSpec): string {
  const dir = plotsDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, spec.file);
  writeFileSync(path, renderPlot(spec));
  return path;
}
