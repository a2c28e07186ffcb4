/** Small inline SVG line charts for the operator console. */
import { t } from './i18n.ts';

const SVG = 'http://www.w3.org/2000/svg';

export interface SparklineOptions {
  width?: number;
  height?: number;
  /** The top of the scale; default the series' maximum (at least `minMax`). */
  max?: number;
  /** Smallest top of the scale, so a flat low series does not fill the chart. Default 1. */
  minMax?: number;
  /** Accessible description, e.g. "Viewers, last 5 minutes". */
  label: string;
  /** Formats the latest value for the label. */
  format?: (value: number) => string;
}

/** Draws `values` (oldest first) into `svg`, creating it when absent; returns the SVG element. */
export function sparkline(values: readonly number[], options: SparklineOptions, svg?: SVGSVGElement): SVGSVGElement {
  const width = options.width ?? 96;
  const height = options.height ?? 24;
  const chart = svg ?? document.createElementNS(SVG, 'svg');
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('width', String(width));
  chart.setAttribute('height', String(height));
  chart.setAttribute('class', 'spark');
  chart.setAttribute('role', 'img');
  const last = values.at(-1);
  const peak = values.length ? Math.max(...values) : 0;
  const format = options.format ?? ((v: number) => String(Math.round(v * 100) / 100));
  chart.setAttribute('aria-label', last === undefined ? t('chart.noData', { label: options.label }) : t('chart.nowPeak', { label: options.label, now: format(last), peak: format(peak) }));
  const top = options.max ?? Math.max(options.minMax ?? 1, peak);
  const pad = 2;
  const step = values.length > 1 ? (width - pad * 2) / (values.length - 1) : 0;
  const y = (v: number) => height - pad - (Math.min(Math.max(v, 0), top) / top) * (height - pad * 2);
  const points = values.map((v, i) => `${(pad + i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  chart.replaceChildren();
  if (values.length > 0) {
    const area = document.createElementNS(SVG, 'polygon');
    area.setAttribute('points', `${pad},${height - pad} ${points} ${(pad + (values.length - 1) * step).toFixed(1)},${height - pad}`);
    area.setAttribute('class', 'spark-area');
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', values.length === 1 ? `${pad},${y(values[0]!)} ${width - pad},${y(values[0]!)}` : points);
    line.setAttribute('class', 'spark-line');
    chart.append(area, line);
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('cx', values.length === 1 ? String(width - pad) : (pad + (values.length - 1) * step).toFixed(1));
    dot.setAttribute('cy', y(last!).toFixed(1));
    dot.setAttribute('r', '2');
    dot.setAttribute('class', 'spark-dot');
    chart.append(dot);
  }
  return chart;
}

/** A bounded series of recent samples. */
export class Series {
  readonly values: number[] = [];
  constructor(readonly capacity: number) {}
  push(value: number): void {
    this.values.push(Number.isFinite(value) ? value : 0);
    if (this.values.length > this.capacity) this.values.splice(0, this.values.length - this.capacity);
  }
}
