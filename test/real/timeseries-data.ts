// A real monthly time series from the npm `vega-datasets` package (a devDependency; the
// CSV is read from the installed package, nothing is downloaded), cut into windows for
// one-step-ahead forecasting.
//
// data/co2-concentration.csv: monthly mean atmospheric CO2 at Mauna Loa Observatory,
// Hawaii, in ppm (SIO manometric mole fraction scale, 2012), 1958-03 .. 2020-04. Source:
// the Scripps CO2 Program (https://scrippsco2.ucsd.edu/data/atmospheric_co2/primary_mlo_co2_record,
// file monthly_in_situ_co2_mlo.csv). License: Creative Commons Attribution 4.0, as the
// package's datapackage.json states for this file (the package's own BSD-3-Clause covers
// its code only). Note: this is Scripps's record, not NOAA's public-domain one from the
// same observatory.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as nb from "nabla";

const require = createRequire(import.meta.url);

export interface Series {
  /** First month, "YYYY-MM". */
  start: string;
  /** One value per consecutive month. */
  values: number[];
}

/**
 * The CO2 column (ppm) over the longest run of consecutive months: the file skips
 * 1958-06, 1958-10 and 1964-02..04, so 1964-05 .. 2020-04, 672 months.
 */
export function loadCo2(): Series {
  // The package's `exports` hides data/: find it next to build/index.js, its entry point.
  const file = join(dirname(require.resolve("vega-datasets")), "..", "data", "co2-concentration.csv");
  const [header, ...lines] = readFileSync(file, "utf8").trim().split(/\r?\n/);
  if (header !== "Date,CO2,adjusted CO2") throw new Error(`co2-concentration.csv: unexpected header ${header}`);
  const rows = lines.map((line) => {
    const [date, co2] = line.split(",");
    const [y, m] = date!.split("-").map(Number);
    return { month: y! * 12 + m! - 1, date: date!.slice(0, 7), value: Number(co2) };
  });
  let best = [0, 0];
  for (let start = 0, i = 1; i <= rows.length; i++) {
    if (i === rows.length || rows[i]!.month !== rows[i - 1]!.month + 1) {
      if (i - start > best[1]! - best[0]!) best = [start, i];
      start = i;
    }
  }
  const run = rows.slice(best[0], best[1]);
  if (run.some((r) => !Number.isFinite(r.value))) throw new Error("co2-concentration.csv: a non-numeric CO2 value");
  return { start: run[0]!.date, values: run.map((r) => r.value) };
}

export interface ForecastWindows {
  lookback: number;
  /** [n, lookback, 1] inputs and [n, 1] targets, normalized month-to-month changes. */
  trainX: nb.Tensor;
  trainY: nb.Tensor;
  testX: nb.Tensor;
  testY: nb.Tensor;
  /** The test inputs again, row-major [n · lookback], to build padded variants. */
  testRows: Float32Array;
  /** Per test window: the last observed value and the value to forecast (original units). */
  testLast: Float64Array;
  testTarget: Float64Array;
  /** The training split's mean and std of the monthly change. */
  mean: number;
  std: number;
  /** A normalized predicted change for test window i → the forecast in original units. */
  toOriginal(prediction: number, i: number): number;
}

/**
 * Windows for forecasting value t from the months before it. The series trends (CO2 rose
 * ~65 ppm over the record), so the test years lie above every training level: the windows
 * hold month-to-month changes d[t] = v[t] − v[t−1] instead of levels, normalized with the
 * training split's mean and std, and the target is the next change (the forecast is
 * v[t−1] + change). Input i of a window is d[t−lookback+i] (so it spans lookback + 1
 * months of values). Chronological split of the series: targets in its first
 * `trainFraction` train, the rest test (their inputs may reach back into training months).
 */
export function forecastWindows(series: Series, lookback = 24, trainFraction = 0.8): ForecastWindows {
  const v = series.values;
  const split = Math.round(trainFraction * v.length);
  const trainDiffs = v.slice(1, split).map((x, i) => x - v[i]!);
  const mean = trainDiffs.reduce((a, b) => a + b, 0) / trainDiffs.length;
  const std = Math.sqrt(trainDiffs.reduce((a, b) => a + (b - mean) ** 2, 0) / trainDiffs.length);
  const d = (t: number) => (v[t]! - v[t - 1]! - mean) / std;
  const windows = (from: number, to: number) => {
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
  const testLast = Float64Array.from({ length: test.n }, (_, r) => v[split + r - 1]!);
  const testTarget = Float64Array.from({ length: test.n }, (_, r) => v[split + r]!);
  return {
    lookback,
    trainX: nb.tensor(train.x, [train.n, lookback, 1]),
    trainY: nb.tensor(train.y, [train.n, 1]),
    testX: nb.tensor(test.x, [test.n, lookback, 1]),
    testY: nb.tensor(test.y, [test.n, 1]),
    testRows: test.x,
    testLast,
    testTarget,
    mean,
    std,
    toOriginal: (prediction, i) => testLast[i]! + prediction * std + mean,
  };
}
