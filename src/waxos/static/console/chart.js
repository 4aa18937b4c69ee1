// chart.js: a uPlot time-series chart (vendored, loaded by the shell as the global `uPlot`).
// Bars for counts per hour or day; a dashed line for a plan limit and its warning level.

import { html, useEffect, useRef } from "/static/vendor/htm-preact-standalone.module.js";

const COLOURS = ["#2f5bd3", "#1f8a4c", "#b7791f", "#8a4fd3"];
const compact = new Intl.NumberFormat("en", { notation: "compact" });

// Empty bars are left out rather than drawn as a line at zero.
function dataOf(times, series) {
  return [
    times.map((t) => t.getTime() / 1000),
    ...series.map((s) => (s.kind === "bars" ? s.values.map((v) => v || null) : s.values)),
  ];
}

/**
 * series: [{label, values, kind: "bars" | "line" | "limit"}]; times: the buckets' starts (Date);
 * step: "hour" | "day" (labels); height in px.
 */
export function TimeChart({ times, series, step = "hour", height = 220, label }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const uPlot = globalThis.uPlot;
    if (!uPlot || !box.current) return undefined;
    const bars = uPlot.paths.bars({ size: [0.7 / Math.max(1, series.filter((s) => s.kind === "bars").length), 40] });
    let colour = 0;
    const options = {
      width: box.current.clientWidth || 600,
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      // Buckets are UTC hours and days (Pusher counts per UTC day): label them in UTC, not local time.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      axes: [
        { values: step === "day" ? "{D} {MMM}" : "{HH}:00", grid: { stroke: "#eef1f5" } },
        { grid: { stroke: "#eef1f5" }, size: 50, values: (_u, ticks) => ticks.map((t) => compact.format(t)) },
      ],
      series: [
        { label: step === "day" ? "Day (UTC)" : "Hour (UTC)", value: step === "day" ? "{YYYY}-{MM}-{DD}" : "{YYYY}-{MM}-{DD} {HH}:00" },
        ...series.map((s) => {
          if (s.kind === "limit") return { label: s.label, stroke: "#c53030", width: 1.5, dash: [6, 4], points: { show: false } };
          const stroke = COLOURS[colour++ % COLOURS.length];
          return s.kind === "bars"
            ? { label: s.label, stroke, fill: `${stroke}cc`, paths: bars, points: { show: false } }
            : { label: s.label, stroke, width: 2, points: { show: false } };
        }),
      ],
    };
    const data = dataOf(times, series);
    plot.current = new uPlot(options, data, box.current);
    const resize = () => plot.current?.setSize({ width: box.current.clientWidth, height });
    addEventListener("resize", resize);
    return () => {
      removeEventListener("resize", resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [JSON.stringify(series.map((s) => [s.label, s.kind])), step, height]);
  useEffect(() => {
    plot.current?.setData(dataOf(times, series));
  }, [times, series]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`;
}
