// uPlot (vendored, /vendor/uPlot.iife.min.js: a global) with the app's
// defaults: times in the site's zone, sized to its container, and the
// point count on the element (data-points, data-series) so a test can tell
// a chart that has its data from an empty frame.
import {zone, tickLabel, dateTime} from './fmt.js';

const GREY = 'rgba(90, 104, 120, 0.35)';
export const COLORS = ['#0b63c5', '#c2410c', '#15803d', '#7c3aed', '#b45309'];

// Seconds since the epoch whatever the unit the series came in.
export function toSeconds(t) {
  const x = t.find((v) => v !== null && v !== undefined) || 0;
  const div = x > 1e14 ? 1e6 : x > 1e11 ? 1e3 : 1;
  return div === 1 ? t : t.map((v) => v / div);
}

export function chart(el, {series, data, yLabel, time = true, xLabel, legend = true, height = 300, bands}) {
  if (!window.uPlot) { el.textContent = 'Chart library not loaded.'; return null; }
  const tz = zone();
  const opts = {
    width: Math.max(280, el.clientWidth || 600),
    height,
    scales: {x: {time}},
    legend: {show: legend},
    cursor: {drag: {x: true, y: false}},
    tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1e3), tz),
    axes: [
      {label: xLabel, stroke: '#334155', grid: {stroke: '#e2e8f0'}, space: 80,
       values: time ? (u, ticks) => {
         const span = ticks.length > 1 ? ticks[ticks.length - 1] - ticks[0] : 0;
         return ticks.map((t) => tickLabel(t * 1000, span));
       } : undefined},
      {label: yLabel, stroke: '#334155', grid: {stroke: '#e2e8f0'}, size: 60},
    ],
    bands,
    series: [{label: time ? 'Time' : xLabel || 'x',
              value: time ? (u, v) => (v === null || v === undefined ? '—' : dateTime(v * 1000)) : undefined}, ...series],
  };
  el.replaceChildren();
  const u = new window.uPlot(opts, data, el);
  let points = 0;
  for (let i = 1; i < data.length; i++) for (const v of data[i]) if (v !== null && v !== undefined) points++;
  el.dataset.points = String(points);
  el.dataset.series = String(data.length - 1);
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, el.clientWidth);
    if (Math.abs(w - u.width) > 4) u.setSize({width: w, height});
  });
  ro.observe(el);
  u.ro = ro;
  return u;
}

export function destroy(u) {
  if (!u) return;
  if (u.ro) u.ro.disconnect();
  u.destroy();
}

export const grey = GREY;
