// @ts-check
/** Small canvas charts for the dashboard: bars (score distribution) and lines over time. */

const COLORS = { grid: '#2a3440', text: '#8b98a5', bars: '#4aa3ff', flagged: '#ff6b6b' };

/**
 * @param {HTMLCanvasElement} canvas
 * @param {number[]} counts one per bin over [0, 1)
 * @param {number | undefined} threshold scores from here on are drawn as flagged
 */
export function drawHistogram(canvas, counts, threshold) {
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const { width: w, height: h } = canvas;
  const pad = 28;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...counts);
  const bw = (w - 2 * pad) / counts.length;
  counts.forEach((n, i) => {
    const bh = ((h - 2 * pad) * n) / max;
    g.fillStyle = threshold !== undefined && i / counts.length >= threshold ? COLORS.flagged : COLORS.bars;
    g.fillRect(pad + i * bw + 1, h - pad - bh, bw - 2, bh);
  });
  axes(g, w, h, pad);
  g.fillStyle = COLORS.text;
  g.font = '11px system-ui';
  for (const x of [0, 0.25, 0.5, 0.75, 1]) g.fillText(x.toFixed(2), pad + x * (w - 2 * pad) - 10, h - 10);
  g.fillText(String(max), 2, pad);
}

/**
 * @param {HTMLCanvasElement} canvas
 * @param {{ name: string, color: string, points: [number, number][], unit: string }[]} series  (time ms, value); each scaled to its own maximum
 */
export function drawLines(canvas, series) {
  const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const { width: w, height: h } = canvas;
  const pad = 30;
  g.clearRect(0, 0, w, h);
  axes(g, w, h, pad);
  const all = series.flatMap((s) => s.points.map((p) => p[0]));
  if (all.length === 0) return;
  const t1 = Math.max(...all);
  const t0 = Math.min(t1 - 60_000, ...all);
  const x = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (w - 2 * pad);
  series.forEach((s, k) => {
    const max = Math.max(1e-9, ...s.points.map((p) => p[1]));
    const y = (v) => h - pad - (v / max) * (h - 2 * pad);
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    s.points.forEach(([t, v], i) => {
      if (i === 0) g.moveTo(x(t), y(v));
      else g.lineTo(x(t), y(v));
    });
    g.stroke();
    g.fillStyle = s.color;
    g.font = '12px system-ui';
    const last = s.points.at(-1);
    g.fillText(`${s.name}: ${last ? Math.round(last[1]).toLocaleString() : '–'} ${s.unit} (max ${Math.round(max).toLocaleString()})`, pad + 10 + k * 330, 16);
  });
}

/** @param {CanvasRenderingContext2D} g @param {number} w @param {number} h @param {number} pad */
function axes(g, w, h, pad) {
  g.strokeStyle = COLORS.grid;
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad, pad / 2);
  g.lineTo(pad, h - pad);
  g.lineTo(w - pad / 2, h - pad);
  g.stroke();
}
