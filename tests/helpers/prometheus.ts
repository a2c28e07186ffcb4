/**
 * A small reader of the Prometheus text format for tests: every sample keyed by its name and its
 * labels in sorted order, so `sample(s, 'x_total', { b: '2', a: '1' })` finds `x_total{a="1",b="2"}`
 * however the exporter ordered them.
 */
export type Samples = ReadonlyMap<string, number>;

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.length === 0 ? name : `${name}{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

export function parsePrometheus(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = match[3]!;
    // prom-client writes NaN as "Nan" (its default event-loop-lag mean before the first sample);
    // Prometheus reads the value with Go's ParseFloat, which takes any case.
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw.toLowerCase() === 'nan' ? Number.NaN : Number(raw);
    if (Number.isNaN(value) && raw.toLowerCase() !== 'nan') throw new Error(`bad sample value in: ${line}`);
    samples.set(seriesKey(match[1]!, labels), value);
  }
  return samples;
}

/** A sample's value, or undefined when the series is absent. */
export function sample(samples: Samples, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return samples.get(seriesKey(name, labels));
}

/** A sample's value; throws (failing the test) when the series is absent. */
export function must(samples: Samples, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const value = sample(samples, name, labels);
  if (value === undefined) throw new Error(`metric ${seriesKey(name, labels)} is missing`);
  return value;
}
