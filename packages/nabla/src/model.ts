// Models: `nb.sequential` builds the layers in wasm; `fit` drives the training loop from
// JavaScript one batch per wasm call (forward, loss, backward and update all run in
// wasm, on buffers reused across steps), yielding to the event loop between batches
// so pages stay responsive. The data stay in wasm memory: batches are gathered there.

import * as wasm from "../wasm/nabla.js";
import { argError, core, StateError, ValueError } from "./errors.js";
import { ready } from "./init.js";
import type { LayerSpec } from "./layers.js";
import type { Loss } from "./losses.js";
import type { Optimizer } from "./optim.js";
import { describe, handle, Tensor, tensor, type TensorData, wrap } from "./tensor.js";

export interface SequentialOptions {
  /** Shape of one sample, without the batch axis, e.g. [28, 28, 1]. */
  inputShape: readonly number[];
  /** Seed for weight initialization, dropout and shuffling (default 0). */
  seed?: number;
}

/** A metric by name, or `{ name, config }` (e.g. `{ name: "sparseTopK", config: { k: 3 } }`). */
export type MetricSpec =
  | "accuracy" | "binaryAccuracy" | "sparseTopK" | "mse" | "mae" | "precision" | "recall" | "f1"
  | { name: string; config?: Record<string, unknown> };

export interface CompileOptions {
  /** A Loss from nb.losses, or its name (with default options). */
  loss: Loss | string;
  /** An optimizer from nb.optim, or its name (with default options). */
  optimizer: Optimizer | string;
  /** Reported per epoch (and for validation, as valAccuracy, ...), computed in wasm. */
  metrics?: readonly MetricSpec[];
  /** Do not print the loss/output warnings (compile still returns them). */
  silent?: boolean;
}

export interface SaveOptions {
  /**
   * Save the optimizer's state and the random generators' positions, so that training
   * resumes exactly (default true). False: a smaller file for inference or fine-tuning,
   * loaded with a fresh optimizer. See: Keras's `include_optimizer`.
   */
  optimizer?: boolean;
}

/** `loss`, `valLoss`, and each metric by name (validation ones prefixed `val`). */
export type EpochLogs = { loss: number; valLoss?: number } & Record<string, number>;

export interface Callbacks {
  onTrainBegin?(model: Sequential): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs, model: Sequential): void | Promise<void>;
  onBatchEnd?(batch: number, logs: { loss: number }, model: Sequential): void | Promise<void>;
  onTrainEnd?(model: Sequential): void | Promise<void>;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Fraction of the samples (the last ones, as Keras) held out for validation. */
  validationSplit?: number;
  validationData?: [Tensor | TensorData, Tensor | TensorData];
  callbacks?: Callbacks | Callbacks[];
  /** Stops cleanly between steps; the weights are those of the last finished step. */
  signal?: AbortSignal;
  /** Per-sample weights `[n]` (Keras semantics: multiply each sample's loss). */
  sampleWeight?: Tensor | TensorData;
  /** A weight per class (index = class), applied through each sample's label. */
  classWeight?: readonly number[] | Record<number, number>;
  /** 1 (default in a terminal): a progress bar per epoch on stderr; 2: one line per epoch; 0: silent. */
  verbose?: 0 | 1 | 2;
}

export interface History {
  epoch: number[];
  /** One array per log key: loss, valLoss, accuracy, valAccuracy, ... */
  history: { loss: number[] } & Record<string, number[]>;
}

function classWeights(cw: FitOptions["classWeight"]): Float32Array | undefined {
  if (cw === undefined) return undefined;
  if (Array.isArray(cw)) return Float32Array.from(cw);
  if (typeof cw === "object" && cw !== null) {
    const entries = Object.entries(cw).map(([k, v]) => [Number(k), v] as const);
    const size = Math.max(-1, ...entries.map(([k]) => k)) + 1;
    const out = new Float32Array(size).fill(1); // classes left out weigh 1, as in Keras
    for (const [k, v] of entries) {
      if (!Number.isInteger(k) || k < 0) throw argError(ValueError, "INVALID_ARGUMENT", "fit", "classWeight", "class indices as keys", String(k));
      out[k] = v as number;
    }
    return out;
  }
  throw argError(ValueError, "INVALID_ARGUMENT", "fit", "classWeight", "an array or an object of class → weight", describe(cw));
}

function isTerminal(): boolean {
  const p = (globalThis as { process?: { stderr?: { isTTY?: boolean } } }).process;
  return p?.stderr?.isTTY === true;
}

function write(text: string): void {
  const p = (globalThis as { process?: { stderr?: { write(s: string): void } } }).process;
  if (p?.stderr) p.stderr.write(text);
  else console.log(text.replace(/^\r/, ""));
}

function progress(epoch: number, epochs: number, batch: number, batches: number, loss: number, t0: number): void {
  const width = 24;
  const done = Math.round((batch / batches) * width);
  const bar = "=".repeat(Math.max(0, done - 1)) + (done > 0 ? ">" : "") + ".".repeat(width - done);
  write(`\rEpoch ${epoch + 1}/${epochs} [${bar}] ${batch}/${batches} · loss ${loss.toFixed(4)} · ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function epochLine(epoch: number, epochs: number, logs: EpochLogs, t0: number, overwrite: boolean): void {
  const parts = Object.entries(logs).map(([k, v]) => `${k} ${v.toFixed(4)}`);
  write(`${overwrite ? "\r\x1b[K" : ""}Epoch ${epoch + 1}/${epochs} · ${parts.join(" · ")} · ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

/** Yields to the event loop: setImmediate in Node-like runtimes, a message elsewhere. */
const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === "function"
    ? () => new Promise((r) => setImmediate(r))
    : typeof MessageChannel === "function"
      ? () =>
          new Promise((r) => {
            const c = new MessageChannel();
            c.port1.onmessage = () => r();
            c.port2.postMessage(null);
          })
      : () => new Promise((r) => setTimeout(r, 0));

function toTensor(x: Tensor | TensorData, temps: Tensor[]): Tensor {
  if (x instanceof Tensor) return x;
  const t = tensor(x);
  temps.push(t);
  return t;
}

function positiveInt(op: string, arg: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw argError(ValueError, "INVALID_ARGUMENT", op, arg, "a positive integer", describe(v));
  }
  return v;
}

export class Sequential {
  #m: wasm.Model | undefined;
  #fitting = false;
  #metrics: string[] = [];
  /** Set to true (e.g. by a callback) to end `fit` after the current batch. */
  stopTraining = false;

  /** @internal Use nb.sequential or nb.loadModel. */
  constructor(layers: readonly LayerSpec[], options: SequentialOptions, loaded?: wasm.Model) {
    if (loaded) {
      this.#m = loaded;
      return;
    }
    if (!Array.isArray(layers)) throw argError(ValueError, "INVALID_ARGUMENT", "sequential", "layers", "an array of nb.layers", describe(layers));
    if (typeof options !== "object" || options === null || !Array.isArray(options.inputShape)) {
      throw argError(ValueError, "INVALID_ARGUMENT", "sequential", "options.inputShape", "the shape of one sample, e.g. [784]", describe(options?.inputShape));
    }
    const json = JSON.stringify(layers.map((l) => ({ kind: l.kind, config: l.config })));
    this.#m = core(() => new wasm.Model(json, Float64Array.from(options.inputShape), options.seed ?? 0));
  }

  #model(op: string): wasm.Model {
    if (!this.#m) throw new StateError(`${op}: the model was disposed`, { code: "DISPOSED", op });
    return this.#m;
  }

  /**
   * Sets the loss, the optimizer and the metrics. Returns (and prints with console.warn)
   * warnings when the loss does not fit the model's output — probabilities into a
   * from-logits loss, logits into a probability loss, MSE on a classifier, a binary loss
   * on exclusive classes — each naming the fix.
   */
  compile(options: CompileOptions): string[] {
    const m = this.#model("compile");
    const spec = (x: unknown, what: string): [string, string] => {
      if (typeof x === "string") return [x, "{}"];
      // Losses are callable (functions); optimizers are objects: both carry name and config.
      if (x && (typeof x === "object" || typeof x === "function") && "name" in x && "config" in x) {
        return [(x as Loss).name, JSON.stringify((x as Loss).config)];
      }
      throw argError(ValueError, "INVALID_ARGUMENT", "compile", what, `an nb.${what === "loss" ? "losses" : "optim"} object or its name`, describe(x));
    };
    const [loss, lossConfig] = spec(options?.loss, "loss");
    const [opt, optConfig] = spec(options?.optimizer, "optimizer");
    const metrics = (options.metrics ?? []).map((x) => (typeof x === "string" ? { name: x, config: {} } : { name: x?.name, config: x?.config ?? {} }));
    core(() => m.compile(loss, lossConfig, opt, optConfig, JSON.stringify(metrics)));
    this.#metrics = metrics.map((x) => String(x.name));
    const warnings = m.compileWarnings();
    if (!options.silent) for (const w of warnings) console.warn(`nabla: ${w}`);
    return warnings;
  }

  /** One training step; returns the loss. */
  trainOnBatch(x: Tensor | TensorData, y: Tensor | TensorData): number {
    const m = this.#model("trainOnBatch");
    const temps: Tensor[] = [];
    try {
      const xi = handle(toTensor(x, temps), "trainOnBatch", "x");
      const yi = handle(toTensor(y, temps), "trainOnBatch", "y");
      return core(() => m.trainOnBatch(xi, yi));
    } finally {
      temps.forEach((t) => t.dispose());
    }
  }

  /** The model's output, computed `batchSize` samples at a time. */
  predict(x: Tensor | TensorData, options: { batchSize?: number } = {}): Tensor {
    const m = this.#model("predict");
    const temps: Tensor[] = [];
    try {
      const xi = handle(toTensor(x, temps), "predict", "x");
      const bs = positiveInt("predict", "batchSize", options.batchSize, 256);
      return wrap(core(() => m.predict(xi, bs)));
    } finally {
      temps.forEach((t) => t.dispose());
    }
  }

  /** The mean loss over (x, y) in inference mode, and each compiled metric by name. */
  evaluate(x: Tensor | TensorData, y: Tensor | TensorData, options: { batchSize?: number } = {}): { loss: number } & Record<string, number> {
    const m = this.#model("evaluate");
    const temps: Tensor[] = [];
    try {
      const xi = handle(toTensor(x, temps), "evaluate", "x");
      const yi = handle(toTensor(y, temps), "evaluate", "y");
      const bs = positiveInt("evaluate", "batchSize", options.batchSize, 256);
      const loss = core(() => m.evaluate(xi, yi, bs));
      const values = m.metricResults(true);
      return Object.fromEntries([["loss", loss], ...this.#metrics.map((name, i) => [name, values[i]!])]) as { loss: number } & Record<string, number>;
    } finally {
      temps.forEach((t) => t.dispose());
    }
  }

  /**
   * Trains for `epochs` over (x, y) in batches. Async: yields to the event loop between
   * batches; `signal` stops between steps. Errors leave the model at its last step.
   */
  async fit(x: Tensor | TensorData, y: Tensor | TensorData, options: FitOptions = {}): Promise<History> {
    const m = this.#model("fit");
    if (this.#fitting) throw new StateError("fit: expected no other fit in progress on this model, received a second call", { code: "INVALID_STATE", op: "fit" });
    const epochs = positiveInt("fit", "epochs", options.epochs, 1);
    const batchSize = positiveInt("fit", "batchSize", options.batchSize, 32);
    const split = options.validationSplit ?? 0;
    if (typeof split !== "number" || !(split >= 0 && split < 1)) throw argError(ValueError, "INVALID_ARGUMENT", "fit", "validationSplit", "a number in [0, 1)", describe(split));
    const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
    const temps: Tensor[] = [];
    const history: History = { epoch: [], history: { loss: [] } as History["history"] };
    this.#fitting = true;
    try {
      const xi = handle(toTensor(x, temps), "fit", "x");
      const yi = handle(toTensor(y, temps), "fit", "y");
      let vx: number | undefined;
      let vy: number | undefined;
      if (options.validationData) {
        const [a, b] = options.validationData;
        vx = handle(toTensor(a, temps), "fit", "validationData[0]");
        vy = handle(toTensor(b, temps), "fit", "validationData[1]");
      }
      const sw = options.sampleWeight === undefined ? undefined : handle(toTensor(options.sampleWeight, temps), "fit", "sampleWeight");
      const cw = classWeights(options.classWeight);
      const n = core(() => m.fitBegin(xi, yi, vx, vy, split, options.shuffle ?? true, sw, cw));
      const verbose = options.verbose ?? (isTerminal() ? 1 : 0);
      let last = Date.now();
      const record = (key: string, value: number) => void (history.history[key] ??= []).push(value);
      this.stopTraining = false;
      for (const c of callbacks) await c.onTrainBegin?.(this);
      for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
        m.fitEpoch();
        m.resetMetrics();
        let sum = 0;
        let batch = 0;
        const batches = Math.ceil(n / batchSize);
        const t0 = Date.now();
        for (let start = 0; start < n && !this.stopTraining; start += batchSize, batch++) {
          if (options.signal?.aborted) return history;
          const end = Math.min(start + batchSize, n);
          const loss = core(() => m.fitBatch(start, end));
          sum += loss * (end - start);
          for (const c of callbacks) await c.onBatchEnd?.(batch, { loss }, this);
          if (Date.now() - last > 16) {
            if (verbose === 1) progress(epoch, epochs, batch + 1, batches, sum / end, t0);
            await yieldToEventLoop();
            last = Date.now();
          }
        }
        const logs = { loss: sum / n } as EpochLogs;
        m.metricResults(false).forEach((v, i) => (logs[this.#metrics[i]!] = v));
        const val = core(() => m.fitValidate(batchSize));
        if (val !== undefined && val !== null) {
          logs.valLoss = val;
          const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
          m.metricResults(true).forEach((v, i) => (logs[`val${cap(this.#metrics[i]!)}`] = v));
        }
        history.epoch.push(epoch);
        for (const [k, v] of Object.entries(logs)) record(k, v);
        if (verbose > 0) epochLine(epoch, epochs, logs, t0, verbose === 1);
        for (const c of callbacks) await c.onEpochEnd?.(epoch, logs, this);
        await yieldToEventLoop();
        last = Date.now();
      }
      for (const c of callbacks) await c.onTrainEnd?.(this);
      return history;
    } finally {
      m.fitEnd();
      this.#fitting = false;
      temps.forEach((t) => t.dispose());
    }
  }

  /** The optimizer's base learning rate (the schedule applies on top). */
  get learningRate(): number {
    return this.#model("learningRate").learningRate();
  }

  set learningRate(lr: number) {
    const m = this.#model("learningRate");
    core(() => m.setLearningRate(lr));
  }

  /** Layers with output shapes and parameter counts, as a table. */
  summary(): string {
    const s = JSON.parse(this.#model("summary").summary()) as { inputShape: number[]; layers: { kind: string; outputShape: number[]; params: number }[] };
    const rows = s.layers.map((l, i) => [`${i} ${l.kind}`, `[batch, ${l.outputShape.join(", ")}]`, String(l.params)]);
    const total = s.layers.reduce((a, l) => a + l.params, 0);
    const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), ["layer", "output shape", "params"][c]!.length));
    const line = (r: string[]) => r.map((v, c) => (c === 2 ? v.padStart(w[c]!) : v.padEnd(w[c]!))).join("  ");
    return [line(["layer", "output shape", "params"]), ...rows.map(line), `total params: ${total}`].join("\n");
  }

  /** Copies of every parameter, layer by layer (kernel, bias, ...). */
  getWeights(): Tensor[] {
    return Array.from(this.#model("getWeights").getWeights(), wrap);
  }

  /** Replaces every parameter (same order and shapes as getWeights). */
  setWeights(weights: readonly Tensor[]): void {
    const m = this.#model("setWeights");
    if (!Array.isArray(weights)) throw argError(ValueError, "INVALID_ARGUMENT", "setWeights", "weights", "an array of tensors", describe(weights));
    const ids = Uint32Array.from(weights.map((t, i) => handle(t, "setWeights", `weights[${i}]`)));
    core(() => m.setWeights(ids));
  }

  /**
   * The model as bytes in the safetensors format: weights (`layers.{i}.{name}`), the
   * optimizer's state, and the architecture, loss and optimizer as JSON metadata.
   * `nb.loadModel(bytes)` restores it to predict and resume training bit-identically.
   *
   * `{ optimizer: false }` leaves out the training state (the optimizer's buffers, e.g.
   * Adam's two moments, which triple an MLP's file; its step count; the shuffle and dropout
   * generators' positions) and keeps what inference needs (weights, batchNorm's moving
   * statistics, the architecture). The loaded model predicts identically; if it was
   * compiled, it is compiled again with the same loss and optimizer, the optimizer's state
   * fresh, so `fit` starts over from these weights as Keras does. Metrics are not saved.
   * See: Keras `model.save(include_optimizer=False)`.
   */
  save(options: SaveOptions = {}): Uint8Array {
    const m = this.#model("save");
    if (typeof options !== "object" || options === null) throw argError(ValueError, "INVALID_ARGUMENT", "save", "options", "an object such as { optimizer: false }", describe(options));
    const { optimizer = true } = options;
    if (typeof optimizer !== "boolean") throw argError(ValueError, "INVALID_ARGUMENT", "save", "options.optimizer", "true or false", describe(optimizer));
    return m.save(optimizer);
  }

  dispose(): void {
    this.#m?.free();
    this.#m = undefined;
  }
}

/** A model from `model.save()`'s bytes. Metrics are not saved: compile again to add them. */
export function loadModel(bytes: Uint8Array): Sequential {
  ready("loadModel");
  if (!(bytes instanceof Uint8Array)) throw argError(ValueError, "INVALID_ARGUMENT", "loadModel", "bytes", "a Uint8Array from model.save()", describe(bytes));
  const m = core(() => wasm.Model.loadModel(bytes));
  return new Sequential([], { inputShape: [] }, m);
}

/** A stack of layers. See: tf.sequential, keras.Sequential, torch.nn.Sequential. */
export function sequential(layers: readonly LayerSpec[], options: SequentialOptions): Sequential {
  ready("sequential");
  return new Sequential(layers, options);
}
