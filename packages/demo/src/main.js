#!/usr/bin/env node
// README's first command (`./dev.sh demo`): which loss fits which task, measured.
//
// On real data, with no downloads, it trains
//   1. an MLP and a small CNN on MNIST digits with the losses that fit a classifier
//      (crossEntropy from logits, with label smoothing, focal) and mse on a softmax as
//      the cautionary case, comparing test accuracy, final loss, time and samples/s;
//   2. an LSTM and a GRU forecasting the Mauna Loa CO2 series with mse, mae and huber,
//      on clean training data and with 5% of the training targets spiked, comparing the
//      test RMSE in ppm (the robustness argument for mae and huber);
//   3. and asks nb.losses.advise for each task whether the measured winner is its pick.
// It prints a progress bar per run (one line per finished run when stderr is not a
// terminal), the comparison tables, and writes a self-contained HTML report.
//
// Epoch presets, timed on this project's 2-core machine (one wasm thread): --quick
// about 30 s, the default about 2-2.5 minutes, --full about 4.5 minutes.
// Ctrl-C stops the current run between two batches, prints what finished, writes the
// report and exits 130 (a second Ctrl-C exits at once).
import * as nb from "nabla";
import { archText, loadData, plan, PRESETS, runTitle, SEED, train } from "./experiments.js";
import { secs, textTable } from "./format.js";
import { writeReport } from "./report.js";
import { summarize, VERDICT } from "./summary.js";

const USAGE = `usage: ./dev.sh demo [options]      (or: node packages/demo/src/main.js [options])

Trains an MLP and a CNN on MNIST digits and an LSTM and a GRU on the Mauna Loa CO2
series, each with the losses that fit its task, compares them in tables, checks the
loss advisor (nb.losses.advise) against the measurements, and writes an HTML report.
Real data from installed npm packages; nothing is downloaded.

options:
  --quick        few epochs: about 30 s
  (default)      about 2-3 minutes on a 2-core machine
  --full         more epochs: about 4-5 minutes
  --epochs N     N epochs for every run (instead of the preset's)
  --out DIR      write the report into DIR (default ./nabla-report)
  --no-report    do not write the report
  -h, --help     show this help

Ctrl-C stops cleanly: the tables and the report hold the runs that finished (exit 130).`;

function usageError(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { preset: "default", epochs: undefined, out: "nabla-report", report: true };
  const seen = new Set();
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    const takesValue = arg === "--epochs" || arg === "--out";
    if (!takesValue && value !== undefined) usageError(`option ${arg} takes no value`);
    if (takesValue && value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith("--")) usageError(`option ${arg} needs a value`);
    }
    if (seen.has(arg)) usageError(`option ${arg} given twice`);
    seen.add(arg);
    switch (arg) {
      case "-h":
      case "--help":
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      case "--quick":
      case "--full":
        if (opts.preset !== "default") usageError("--quick and --full exclude each other");
        opts.preset = arg.slice(2);
        break;
      case "--epochs":
        if (!/^[1-9]\d*$/.test(value) || Number(value) > 10000) usageError(`invalid value for --epochs: ${JSON.stringify(value)} (expected an integer from 1 to 10000)`);
        opts.epochs = Number(value);
        break;
      case "--out":
        if (value.trim() === "") usageError("invalid value for --out: an empty path");
        opts.out = value;
        break;
      case "--no-report":
        opts.report = false;
        break;
      default:
        usageError(`unknown option: ${arg}`);
    }
  }
  if (!opts.report && seen.has("--out")) usageError("--out and --no-report exclude each other");
  return opts;
}

/** Per-run progress on stderr: a bar redrawn in place on a terminal, one line per finished run otherwise. */
function progressReporter() {
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write("\r\x1b[K");
    drawn = false;
  };
  return {
    tty,
    update(prefix, run, { epoch, batch, batches, loss }, t0) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDraw < 80) return;
      lastDraw = now;
      const done = (epoch * batches + batch + 1) / (run.epochs * batches);
      const width = 24;
      const fill = Math.min(width, Math.round(done * width));
      const bar = "=".repeat(Math.max(0, fill - 1)) + (fill > 0 ? ">" : "") + ".".repeat(width - fill);
      const elapsed = (now - t0) / 1000;
      const eta = done > 0.02 ? ` · ETA ${secs(elapsed * (1 / done - 1))}` : "";
      const tail = ` [${bar}] epoch ${Math.min(epoch + 1, run.epochs)}/${run.epochs} · loss ${loss.toFixed(4)} · ${secs(elapsed)}${eta}`;
      // Shorten the run's title, not the numbers, to fit the terminal on one line.
      const room = (process.stderr.columns || 100) - 1 - tail.length - prefix.length - 1;
      const title = runTitle(run);
      const shown = title.length <= room ? title : `${title.slice(0, Math.max(0, room - 1))}…`;
      process.stderr.write(`\r\x1b[K${`${prefix} ${shown}${tail}`.slice(0, (process.stderr.columns || 100) - 1)}`);
      drawn = true;
    },
    line(text) {
      clear();
      process.stderr.write(`${text}\n`);
    },
  };
}

function printSection(s) {
  const out = [`\n${s.title}`, textTable(s.columns, s.rows), ...s.notes.map((n) => `  · ${n}`), "", "  the advisor and the measurement:"];
  for (const v of s.verdicts) {
    out.push(`  ${v.model}: nb.losses.advise(${v.questionText}) → ${v.adviceText}`);
    for (const r of v.advice.reasons) out.push(`    – ${r}`);
    out.push(`    measured → ${VERDICT[v.agrees]}: ${v.text}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tStart = Date.now();
  await nb.init();
  const info = nb.info();
  const epochsOf = (model) => opts.epochs ?? PRESETS[opts.preset][model];
  process.stdout.write(
    `nabla ${info.version} · wasm SIMD128 ${info.simd ? "on" : "off"} · ${info.threads} thread · Node ${process.versions.node}\n` +
      `preset: ${opts.epochs ? `--epochs ${opts.epochs}` : opts.preset} (epochs: MLP ${epochsOf("MLP")}, CNN ${epochsOf("CNN")}, LSTM ${epochsOf("LSTM")}, GRU ${epochsOf("GRU")}) · Ctrl-C stops cleanly\n`,
  );

  const controller = new AbortController();
  let interruptedRun;
  let stopping = false;
  const onSigint = () => {
    if (stopping) {
      process.stderr.write("\nsecond Ctrl-C: exiting now\n");
      process.exit(130);
    }
    stopping = true;
    controller.abort();
    const erase = process.stderr.isTTY ? "\r\x1b[K" : "";
    process.stderr.write(`${erase}^C stopping after this batch; printing what finished… (Ctrl-C again to quit now)\n`);
  };
  process.on("SIGINT", onSigint);

  const tLoad = Date.now();
  const data = loadData();
  process.stdout.write(
    `data: MNIST ${data.mnist.nTrain} train / ${data.mnist.nTest} test digits · CO2 ${data.co2.series.start}..${data.co2.series.end}, ` +
      `${data.co2.nTrain} train / ${data.co2.nTest} test windows · loaded in ${secs((Date.now() - tLoad) / 1000)}\n`,
  );

  const runs = plan(epochsOf);
  const results = [];
  const progress = progressReporter();
  const width = String(runs.length).length;
  for (const [i, run] of runs.entries()) {
    if (controller.signal.aborted) {
      interruptedRun = `before ${runTitle(run)}`;
      progress.line(`stopped before [${String(i + 1).padStart(width)}/${runs.length}] ${runTitle(run)}`);
      break;
    }
    const prefix = `[${String(i + 1).padStart(width)}/${runs.length}]`;
    const t0 = Date.now();
    const result = await train(run, data, { signal: controller.signal, onProgress: (p) => progress.update(prefix, run, p, t0) });
    if (result.status !== "done") {
      interruptedRun = `during ${runTitle(run)}`;
      progress.line(`${prefix} ${runTitle(run)}: interrupted after ${result.epochsDone} of ${run.epochs} epochs (not counted)`);
      break;
    }
    results.push(result);
    const score = run.task === "mnist" ? `test acc ${(100 * result.final.testAccuracy).toFixed(2)}%` : `test RMSE ${result.final.rmse.toFixed(3)} ppm`;
    progress.line(`${prefix} ${runTitle(run)}: ${result.epochsDone} epochs · ${score} · ${secs(result.trainSeconds)} · ${Math.round(result.samplesPerSecond).toLocaleString("en-US")} samples/s`);
  }

  const sections = summarize(results, data);
  if (sections.length === 0) process.stdout.write("\nno run finished: nothing to compare\n");
  for (const s of sections) printSection(s);

  if (controller.signal.aborted) interruptedRun ??= "after the last run";
  const total = (Date.now() - tStart) / 1000;
  if (opts.report) {
    const meta = {
      version: info.version, simd: info.simd, threads: info.threads, node: process.versions.node, date: new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC",
      preset: opts.epochs ? `--epochs ${opts.epochs}` : opts.preset, total: secs(total), seed: SEED, interrupted: interruptedRun, planned: runs.length,
      architectures: Object.fromEntries(["MLP", "CNN", "LSTM", "GRU"].map((m) => [m, archText(m)])),
    };
    const file = writeReport(opts.out, { results, sections, data, meta });
    process.stdout.write(`\nreport: ${file}\n`);
  }
  process.stdout.write(`${interruptedRun ? "interrupted" : "done"}: ${results.length} of ${runs.length} runs in ${secs(total)}\n`);
  data.dispose();
  process.off("SIGINT", onSigint);
  return interruptedRun ? 130 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    process.stderr.write(`\n${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
