/** Small statistics helpers: percentiles of latency samples, medians across runs, formatting. */

/** Percentile (0..100) of an ascending-sorted array, nearest-rank. NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarizeLatency(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  return {
    samples: sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Thousands-separated integer, or "n/a". */
export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

export function fmtPct(x: number, digits = 0): string {
  return Number.isFinite(x) ? `${x.toFixed(digits)}%` : 'n/a';
}

/** Renders a markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** Least-squares line y ≈ intercept + slope·x through the finite points; undefined with fewer than two distinct x. */
export function linearFit(points: ReadonlyArray<{ x: number; y: number }>): { slope: number; intercept: number } | undefined {
  const pts = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length < 2) return undefined;
  const mx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const sxx = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const slope = pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

/** The kind of a limit without its figures: "worker CPU 81% ≥ 80%" → "worker CPU", "12 failed requests" → "failed requests". */
export function limitKind(limit: string): string {
  const words: string[] = [];
  for (const word of limit.split(/\s+/)) {
    const figure = /^[\d,.]+%?$/.test(word) || /^[<>≥≤(]/.test(word);
    if (figure && words.length > 0) break;
    if (!figure) words.push(word);
  }
  return words.join(' ').replace(/[:;,]$/, '');
}

/** How often each kind of limit stopped the runs, e.g. "node CPU (2 of 3 runs), segment fetch p99 (1 of 3 runs)"; one run: its limits as they are. */
export function limitTally(perRun: ReadonlyArray<readonly string[]>): string {
  if (perRun.length === 1) return perRun[0]!.join('; ');
  const kinds = [...new Set(perRun.flatMap((limits) => limits.map(limitKind)))];
  return kinds.map((kind) => `${kind} (${perRun.filter((limits) => limits.some((l) => limitKind(l) === kind)).length} of ${perRun.length} runs)`).join(', ');
}
