/** A small multi-series line chart as standalone SVG (each series scaled to its own maximum, labelled with it). */
export function lineChartSvg(title: string, xs: readonly number[], series: ReadonlyArray<{ name: string; values: readonly number[] }>): string {
  const width = 900;
  const height = 420;
  const left = 50;
  const top = 40;
  const plotW = width - left - 220;
  const plotH = height - top - 40;
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const x = (v: number) => left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const lines = series.map((s, i) => {
    const max = Math.max(...s.values, 1);
    const points = s.values.map((v, j) => `${x(xs[j]!).toFixed(1)},${(top + plotH - (v / max) * plotH).toFixed(1)}`).join(' ');
    const color = colors[i % colors.length]!;
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>` +
      `<text x="${left + plotW + 15}" y="${top + 18 * i + 10}" fill="${color}" font-size="13">${escape(s.name)} (max ${Math.round(max)})</text>`;
  });
  const ticks = Array.from({ length: 6 }, (_, i) => xMin + ((xMax - xMin) * i) / 5)
    .map((v) => `<text x="${x(v).toFixed(1)}" y="${top + plotH + 18}" font-size="11" text-anchor="middle">${v.toFixed(1)}s</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`,
    ...ticks,
    ...lines,
    `<text x="${left}" y="${height - 6}" font-size="11" fill="#666">each series is scaled to its own maximum (shown in the legend)</text>`,
    '</svg>',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
