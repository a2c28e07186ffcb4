/**
 * A node's Prometheus histograms, read from its `GET /metrics` (open unless `--metrics-token`), so a
 * bench can say how long the server itself took, apart from how late its load generators read the
 * answers. Series of one histogram are summed over their labels.
 */

/** Cumulative counts by bucket upper bound (seconds; `+Inf` included). */
export type Buckets = Map<number, number>;

export async function readHistogram(base: string, name: string, timeoutMs = 5000): Promise<Buckets> {
  const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text();
  const buckets: Buckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || !Number.isFinite(value)) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value);
  }
  return buckets;
}

/** `after − before`, bucket by bucket, summed over several nodes' pairs. */
export function histogramDelta(pairs: ReadonlyArray<readonly [before: Buckets, after: Buckets]>): Buckets {
  const out: Buckets = new Map();
  for (const [before, after] of pairs) for (const [bound, n] of after) out.set(bound, (out.get(bound) ?? 0) + n - (before.get(bound) ?? 0));
  return out;
}

/** How many observations, and the bucket bound at or under which a share `q` of them fell (an upper estimate of the quantile). */
export function histogramQuantile(buckets: Buckets, q: number): { n: number; atMostS: number } {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const n = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
  for (const bound of bounds) if ((buckets.get(bound) ?? 0) >= q * n) return { n, atMostS: bound };
  return { n, atMostS: Number.NaN };
}
