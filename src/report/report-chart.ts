/** One line of the pass@k chart: points (k, score) in increasing k, scores from 0 to 1. */
export interface ChartSeries {
  label: string;
  /** Stroke colour (CSS). */
  color: string;
  dashed: boolean;
  points: { k: number; value: number }[];
}

/** The chart's size and margins, in CSS pixels. */
const WIDTH = 640;
const HEIGHT = 320;
const MARGIN = { top: 16, right: 20, bottom: 44, left: 56 };

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Round to 0.1 px: enough for the eye, and keeps a 120-point path short. */
function pixel(value: number): string {
  return (Math.round(value * 10) / 10).toString();
}

/** Tick values 1, 2, 5, 10, 20, 50, … up to `max` on the log axis. */
function logTicks(max: number): number[] {
  const ticks: number[] = [];
  for (let decade = 1; decade <= max; decade *= 10) {
    for (const step of [1, 2, 5]) if (decade * step <= max) ticks.push(decade * step);
  }
  return ticks;
}

/**
 * pass@k against k as an inline SVG: k on a log axis from 1 to the largest k of any series (at least 2, so one point
 * still has an axis), score from 0 to 100 %. Each point is a circle with `data-k`, `data-value` and its pixel centre
 * in `cx`/`cy`, so a test can find the curve on a screenshot. A series of one point (one sample per task) is its
 * marker alone.
 */
export function passAtKChartSvg(series: readonly ChartSeries[]): string {
  const plotted = series.filter((line) => line.points.length > 0);
  const maxK = Math.max(2, ...plotted.flatMap((line) => line.points.map((point) => point.k)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (k: number): number => MARGIN.left + (Math.log(k) / Math.log(maxK)) * plotWidth;
  const y = (value: number): number => MARGIN.top + (1 - value) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ` +
      `${HEIGHT}" role="img" aria-label="pass@k curve">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
  ];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const ty = pixel(y(tick));
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${ty}" y2="${ty}" stroke="#dddddd"/>`);
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${ty}" dy="4" text-anchor="end" font-size="11" fill="#444444">${tick * 100}%</text>`,
    );
  }
  for (const tick of logTicks(maxK)) {
    const tx = pixel(x(tick));
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#eeeeee"/>`);
    parts.push(
      `<text x="${tx}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11" fill="#444444">${tick}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888888"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 8}" text-anchor="middle" font-size="12" fill="#222222">k (log scale)</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="12" ` +
      `fill="#222222">pass@k</text>`,
  );
  for (const [index, line] of plotted.entries()) {
    const dash = line.dashed ? ' stroke-dasharray="7 4"' : '';
    const color = escapeXml(line.color);
    if (line.points.length > 1) {
      const path = line.points
        .map((point, position) => `${position === 0 ? 'M' : 'L'}${pixel(x(point.k))} ${pixel(y(point.value))}`)
        .join(' ');
      parts.push(
        `<path class="curve" data-series="${index}" d="${path}" fill="none" stroke="${color}" stroke-width="2.5"${dash}/>`,
      );
    }
    // Markers only where they can be told apart: every point of a short curve, else about a dozen.
    const every = Math.max(1, Math.ceil(line.points.length / 12));
    for (const [position, point] of line.points.entries()) {
      if (position % every !== 0 && position !== line.points.length - 1) continue;
      parts.push(
        `<circle class="point" data-series="${index}" data-k="${point.k}" data-value="${point.value}" cx="${pixel(x(point.k))}" cy="${pixel(y(point.value))}" r="4" fill="${line.dashed ? '#ffffff' : color}" stroke="${color}" stroke-width="2"><title>${escapeXml(`${line.label}: pass@${point.k} = ${(point.value * 100).toFixed(2)}%`)}</title></circle>`,
      );
    }
  }
  // Legend, bottom right inside the plot: pass@k only grows with k, so that corner is the emptiest.
  const legendX = WIDTH - MARGIN.right - 190;
  for (const [index, line] of plotted.entries()) {
    const ly = HEIGHT - MARGIN.bottom - 12 - (plotted.length - 1 - index) * 16;
    const dash = line.dashed ? ' stroke-dasharray="7 4"' : '';
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 26}" y1="${ly}" y2="${ly}" stroke="${escapeXml(line.color)}" stroke-width="2.5"${dash}/>`,
      `<text x="${legendX + 32}" y="${ly}" dy="4" font-size="11" fill="#222222">${escapeXml(line.label)}</text>`,
    );
  }
  if (plotted.length === 0)
    parts.push(
      `<text x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle" font-size="13" fill="#444444">no counted task, so no pass@k</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}
