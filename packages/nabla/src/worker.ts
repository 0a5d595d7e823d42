// Training off the main thread: `serveTraining` runs `fit` inside a Web Worker or a
// worker_threads Worker, `trainInWorker` drives it from the main thread, with progress
// events, abort, typed errors and the trained model's bytes back (transferred).
//
// Wire protocol (structured-cloned messages, tagged `nabla` so a worker can carry the
// user's own messages on the same channel):
//   main → worker  { nabla: "train", id, request }   { nabla: "abort", id }
//   worker → main  { nabla: "progress", id, event }  { nabla: "done", id, result }
//                  { nabla: "error", id, error }

import {
  FormatError, GradientError, InternalError, NablaError, NumericError, ShapeError, StateError, ValueError,
  argError, type ErrorFields,
} from "./errors.js";
import { init } from "./init.js";
import { Sequential, type Callbacks, type EpochLogs, type FitOptions, type History, type SaveOptions } from "./model.js";
import { describe, Tensor, tensor, type TensorData } from "./tensor.js";

/**
 * Either end of a worker channel, as every runtime spells it: a browser (or Deno, Bun)
 * `Worker` and a worker's global scope (`self`), a `MessagePort`, or Node's
 * `worker_threads` `Worker` and `parentPort`. Node-style objects are listened to with
 * `on`/`off` (the listener receives the message itself), web-style ones with
 * `addEventListener` (the listener receives a `MessageEvent`).
 */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on?(event: string, listener: (value: any) => void): unknown;
  off?(event: string, listener: (value: any) => void): unknown;
  addEventListener?(type: string, listener: (event: any) => void): void;
  removeEventListener?(type: string, listener: (event: any) => void): void;
  /** A web `MessagePort` delivers nothing to `addEventListener` listeners until started. */
  start?(): void;
}

/** What a `serveTraining` handler returns: the model to train and `fit`'s arguments. */
export interface TrainingSpec {
  /**
   * A compiled model. It is disposed when training ends (its bytes are in the result),
   * unless `keepModel` is set.
   */
  model: Sequential;
  /** Inputs, `[samples, ...inputShape]`. Tensors you return stay yours (cache them across runs). */
  x: Tensor | TensorData;
  /** Targets, as for `fit`. */
  y: Tensor | TensorData;
  /** `fit`'s options; the helper adds its progress callbacks and the abort signal. `verbose` defaults to 0. */
  fitOptions?: Omit<FitOptions, "signal">;
  /** Keep the model alive after training (to train it further in a later request). */
  keepModel?: boolean;
  /**
   * How the result's bytes are saved (`model.save(save)`): `{ optimizer: false }` leaves out
   * the optimizer state, about a third of the size for a model trained with adam, when
   * the bytes are for inference or a download rather than for resuming training.
   */
  save?: SaveOptions;
}

/** What a handler gets besides the request: the run's abort signal (for its own slow work). */
export interface TrainingContext {
  signal: AbortSignal;
}

/** Builds the model and the data for one request; runs in the worker. */
export type TrainingHandler<Request> = (request: Request, context: TrainingContext) => TrainingSpec | Promise<TrainingSpec>;

/**
 * A progress event, posted from the worker as training goes.
 * - `batch`: after every training step; `loss` is that batch's loss (not a running mean).
 * - `epoch`: after every epoch, with fit's logs (`loss`, metrics, `valLoss`, `val…`).
 * `epoch` and `batch` count from 0; `epochs` and `batches` are the totals planned.
 */
export type TrainingProgress =
  | { type: "batch"; epoch: number; epochs: number; batch: number; batches: number; loss: number }
  | { type: "epoch"; epoch: number; epochs: number; logs: EpochLogs };

/** What a run resolves to. */
export interface TrainingResult {
  /** fit's history: one entry per finished epoch. */
  history: History;
  /** The trained model as `model.save()` bytes (transferred, not copied): `nb.loadModel(result.model)`. */
  model: Uint8Array;
  /** True when `abort()` stopped training early; the model is then that of the last finished step. */
  aborted: boolean;
}

export interface TrainInWorkerOptions {
  /** Called for every progress event, in order (on the main thread). */
  onProgress?: (event: TrainingProgress) => void;
  /** Aborting this signal has the effect of `run.abort()`. */
  signal?: AbortSignal;
  /** Parts of `request` to transfer instead of copying, e.g. `[x.buffer]` of a large dataset. */
  transfer?: readonly unknown[];
}

/** One training run in a worker, seen from the main thread. */
export interface TrainingRun {
  /** Settles when the worker finishes: resolves with the result, rejects with the worker's error. */
  readonly result: Promise<TrainingResult>;
  /**
   * Asks the worker to stop after its current step (fit's `signal`); `result` then
   * resolves with `aborted: true`, the history so far and the model as it is.
   */
  abort(): void;
}

type Message =
  | { nabla: "train"; id: number; request: unknown }
  | { nabla: "abort"; id: number }
  | { nabla: "progress"; id: number; event: TrainingProgress }
  | { nabla: "done"; id: number; result: TrainingResult }
  | { nabla: "error"; id: number; error: WireError };

/** An error as it crosses the channel: its class by name and NablaError's fields. */
interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
  fields?: ErrorFields;
}

/** Listens for one kind of event on either style of channel; returns the way to stop. */
function listen(port: WorkerLike, type: string, listener: (value: any) => void): () => void {
  if (typeof port.on === "function") {
    port.on(type, listener);
    return () => void port.off?.(type, listener);
  }
  if (typeof port.addEventListener === "function") {
    const l = (e: any) => listener(type === "message" ? e.data : e);
    port.addEventListener(type, l);
    if (type === "message") port.start?.();
    return () => port.removeEventListener?.(type, l);
  }
  throw argError(ValueError, "INVALID_ARGUMENT", "trainInWorker", "worker", "a Worker, a MessagePort or worker_threads' Worker or parentPort", describe(port));
}

function isMessage(data: unknown): data is Message {
  return typeof data === "object" && data !== null && typeof (data as { nabla?: unknown }).nabla === "string";
}

function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: "Error", message: String(e) };
  const wire: WireError = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof NablaError) {
    const fields: ErrorFields = { code: e.code };
    if (e.op !== undefined) fields.op = e.op;
    if (e.arg !== undefined) fields.arg = e.arg;
    if (e.expected !== undefined) fields.expected = e.expected;
    if (e.received !== undefined) fields.received = e.received;
    wire.fields = fields;
  }
  return wire;
}

const NABLA_ERRORS: Record<string, typeof NablaError> = {
  NablaError, ShapeError, ValueError, StateError, FormatError, GradientError, NumericError, InternalError,
};
const STANDARD_ERRORS: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Rebuilds a worker's error on this side: the same class (so `instanceof` works), code and fields. */
function fromWire(w: WireError): Error {
  let e: Error;
  if (w.fields) {
    e = new (NABLA_ERRORS[w.name] ?? NablaError)(w.message, w.fields);
  } else {
    e = new (STANDARD_ERRORS[w.name] ?? Error)(w.message);
    if (e.name !== w.name) e.name = w.name;
  }
  // The worker's stack says where it failed; this side's would only show the message handler.
  if (w.stack) e.stack = w.stack;
  return e;
}

/** The worker's own global scope, when this code runs inside a Web Worker. */
function workerScope(): WorkerLike | undefined {
  const g = globalThis as { postMessage?: unknown; addEventListener?: unknown; document?: unknown; window?: unknown };
  const isWorker = typeof g.postMessage === "function" && typeof g.addEventListener === "function" && g.document === undefined && g.window === undefined;
  return isWorker ? (globalThis as unknown as WorkerLike) : undefined;
}

/**
 * Serves training requests inside a worker. For each request from `trainInWorker`,
 * `handler` builds a compiled model and its data; the helper initializes nabla, runs
 * `fit` with progress callbacks and an abort signal, and sends back the history and
 * the model's bytes (transferred). Errors — the handler's or fit's — go back to the
 * caller with their class, `code` and fields. Requests may arrive while another runs;
 * each trains its own model.
 *
 * Call it at the top of the worker script, before any `await`, so no request arrives
 * before it listens. In a Web Worker the channel is the worker's global scope; in Node
 * pass `parentPort` from `node:worker_threads`. Returns a function that stops serving
 * (in Node this lets the worker exit once nothing else keeps it alive).
 *
 * ```ts
 * // worker.ts
 * import * as nb from "nabla";
 * nb.serveTraining(async (request: { epochs: number }) => {
 *   const model = nb.sequential([nb.layers.dense({ units: 10 })], { inputShape: [784] });
 *   model.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: "adam", metrics: ["accuracy"] });
 *   const { x, y } = await loadData();
 *   return { model, x, y, fitOptions: { epochs: request.epochs, batchSize: 64 } };
 * });
 * ```
 *
 * @param port The channel to serve on: omit it in a Web Worker; `parentPort` in Node.
 */
export function serveTraining<Request = unknown>(handler: TrainingHandler<Request>, port?: WorkerLike | null): () => void {
  if (typeof handler !== "function") throw argError(ValueError, "INVALID_ARGUMENT", "serveTraining", "handler", "a function (request) => ({ model, x, y, fitOptions })", describe(handler));
  const channel = port === undefined ? workerScope() : port;
  if (channel === undefined || channel === null) {
    throw new StateError(
      "serveTraining: no channel to serve on: expected to run inside a Web Worker, or a port (in Node, pass `parentPort` from node:worker_threads from inside a worker)",
      { code: "INVALID_STATE", op: "serveTraining", arg: "port" },
    );
  }
  const runs = new Map<number, AbortController>();
  const send = (message: Message, transfer?: unknown[]) => channel.postMessage(message, transfer);

  async function run(id: number, request: Request, controller: AbortController): Promise<void> {
    await init();
    const spec = await handler(request, { signal: controller.signal });
    if (typeof spec !== "object" || spec === null || !(spec.model instanceof Sequential)) {
      throw argError(ValueError, "INVALID_ARGUMENT", "serveTraining", "handler's result", "{ model, x, y, fitOptions } with a model from nb.sequential or nb.loadModel", describe(spec?.model ?? spec));
    }
    const { model, fitOptions = {} } = spec;
    const temps: Tensor[] = [];
    const own = (v: Tensor | TensorData) => {
      if (v instanceof Tensor) return v;
      const t = tensor(v); // as fit would make it, so its sample count is fit's
      temps.push(t);
      return t;
    };
    try {
      const x = own(spec.x);
      const y = own(spec.y);
      const epochs = fitOptions.epochs ?? 1;
      const n = x.shape[0] ?? 0;
      const split = fitOptions.validationData ? 0 : (fitOptions.validationSplit ?? 0);
      // fit holds out the last floor(n · split) samples (as Keras), and batches the rest.
      const batches = Math.ceil((n - Math.floor(n * split)) / (fitOptions.batchSize ?? 32));
      let epoch = 0;
      const progress: Callbacks = {
        onBatchEnd: (batch, { loss }) => send({ nabla: "progress", id, event: { type: "batch", epoch, epochs, batch, batches, loss } }),
        onEpochEnd: (e, logs) => {
          send({ nabla: "progress", id, event: { type: "epoch", epoch: e, epochs, logs: { ...logs } } });
          epoch = e + 1;
        },
      };
      const callbacks = fitOptions.callbacks === undefined ? [] : Array.isArray(fitOptions.callbacks) ? fitOptions.callbacks : [fitOptions.callbacks];
      const history = await model.fit(x, y, { verbose: 0, ...fitOptions, callbacks: [...callbacks, progress], signal: controller.signal });
      let bytes = model.save(spec.save);
      if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
      // An abort that arrives after the last step stopped nothing.
      const aborted = controller.signal.aborted && history.epoch.length < epochs;
      send({ nabla: "done", id, result: { history, model: bytes, aborted } }, [bytes.buffer]);
    } finally {
      temps.forEach((t) => t.dispose());
      if (!spec.keepModel) model.dispose();
    }
  }

  const onMessage = (data: unknown) => {
    if (!isMessage(data)) return;
    if (data.nabla === "abort") runs.get(data.id)?.abort();
    if (data.nabla !== "train") return;
    const { id } = data;
    const controller = new AbortController();
    runs.set(id, controller);
    run(id, data.request as Request, controller)
      .catch((e: unknown) => send({ nabla: "error", id, error: toWire(e) }))
      .finally(() => runs.delete(id));
  };
  return listen(channel, "message", onMessage);
}

let nextId = 1;

/**
 * Trains in a worker that runs `serveTraining`, from the main thread: sends `request`
 * to the worker's handler, reports progress per batch and per epoch, and returns the
 * run with `abort()` and a promise of its result (history and the model's bytes).
 * An error inside the worker rejects `result` with the same class, `name` and `code`
 * (a `ShapeError` from fit arrives as a `ShapeError`); a worker that fails or exits
 * first rejects it with a `StateError`. The worker stays alive for more runs: end it
 * with `worker.terminate()`.
 *
 * ```ts
 * const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
 * const run = nb.trainInWorker(worker, { epochs: 5 }, {
 *   onProgress: (e) => { if (e.type === "epoch") console.log(e.epoch, e.logs.loss); },
 * });
 * stopButton.onclick = () => run.abort();
 * const { history, model } = await run.result;
 * const trained = nb.loadModel(model);   // after nb.init() on this thread
 * ```
 *
 * @param worker A browser `Worker` or Node's `worker_threads` `Worker` (or a MessagePort).
 * @param request Anything structured-cloneable; it reaches the handler as is.
 */
export function trainInWorker<Request = unknown>(worker: WorkerLike, request: Request, options: TrainInWorkerOptions = {}): TrainingRun {
  const id = nextId++;
  const stops: (() => void)[] = [];
  let settled = false;
  const abort = () => {
    if (!settled) worker.postMessage({ nabla: "abort", id } satisfies Message);
  };
  const result = new Promise<TrainingResult>((resolve, reject) => {
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      stops.forEach((stop) => stop());
      f();
    };
    const failed = (what: string, cause?: unknown) => {
      const e = new StateError(`trainInWorker: the worker ${what} before training finished`, { code: "INVALID_STATE", op: "trainInWorker" });
      if (cause !== undefined) Object.defineProperty(e, "cause", { value: cause, configurable: true, writable: true });
      abort(); // a web worker survives its uncaught errors: do not leave it training
      settle(() => reject(e));
    };
    stops.push(
      listen(worker, "message", (data: unknown) => {
        if (!isMessage(data) || data.id !== id) return;
        if (data.nabla === "progress") options.onProgress?.(data.event);
        else if (data.nabla === "done") settle(() => resolve(data.result));
        else if (data.nabla === "error") settle(() => reject(fromWire(data.error)));
      }),
      listen(worker, "error", (e: unknown) => failed(`reported an uncaught error (${e instanceof Error ? e.message : ((e as { message?: string })?.message ?? String(e))})`, e)),
    );
    // Node's Worker says when its thread ends; a web Worker has no such event.
    if (typeof worker.on === "function") stops.push(listen(worker, "exit", (code: unknown) => failed(`exited (code ${String(code)})`)));
    if (options.signal) {
      const signal = options.signal;
      signal.addEventListener("abort", abort);
      stops.push(() => signal.removeEventListener("abort", abort));
    }
    try {
      worker.postMessage({ nabla: "train", id, request } satisfies Message, options.transfer);
    } catch (e) {
      // DataCloneError: something in `request` cannot be sent to a worker.
      settle(() => reject(argError(ValueError, "INVALID_ARGUMENT", "trainInWorker", "request", "a structured-cloneable value", `one that postMessage refused (${e instanceof Error ? e.message : String(e)})`)));
      return;
    }
    if (options.signal?.aborted) abort();
  });
  return { result, abort };
}

