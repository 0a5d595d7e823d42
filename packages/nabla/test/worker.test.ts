// Training in a real worker_threads Worker through nb.serveTraining / nb.trainInWorker:
// progress in order, a falling loss, the trained model's bytes, abort, and the worker's
// errors arriving on this thread with their class and code.
import * as nb from "nabla";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SCRIPT = new URL("./workers/train.mjs", import.meta.url);

/** Four Gaussian blobs in 8 dimensions (seeded): [n, 8] floats and labels 0..3. */
function blobs(n: number, seed = 7) {
  let s = seed;
  const uniform = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const features = 8;
  const classes = 4;
  const centers = Array.from({ length: classes }, () => Array.from({ length: features }, () => 2 * normal()));
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    for (let j = 0; j < features; j++) x[i * features + j] = centers[y[i]][j] + normal();
  }
  return { x, y, n, features, classes };
}

function trainRequest(n: number, extra: Record<string, unknown> = {}) {
  return { kind: "train", ...blobs(n), ...extra };
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the run to fail");
}

let worker: Worker;
beforeAll(async () => {
  await nb.init();
  worker = new Worker(SCRIPT);
});
afterAll(() => worker.terminate());

describe("trainInWorker with worker_threads", () => {
  it("trains: batch events in order within each epoch, an epoch event after each, the loss falls, the model comes back", async () => {
    const request = trainRequest(1000, { epochs: 6, batchSize: 50, validationSplit: 0.2 });
    const data = { x: request.x.slice(), y: request.y.slice() };
    const events: nb.TrainingProgress[] = [];
    const run = nb.trainInWorker(worker, request, { onProgress: (e) => events.push(e), transfer: [request.x.buffer] });
    expect(request.x.byteLength).toBe(0); // transferred, not copied
    const { history, model, aborted } = await run.result;

    expect(aborted).toBe(false);
    // 800 training samples after the 20% split, in batches of 50: 16 per epoch.
    const expected: string[] = [];
    for (let e = 0; e < 6; e++) {
      for (let b = 0; b < 16; b++) expected.push(`batch ${e}.${b}/16 of 6`);
      expected.push(`epoch ${e} of 6`);
    }
    expect(events.map((e) => (e.type === "batch" ? `batch ${e.epoch}.${e.batch}/${e.batches} of ${e.epochs}` : `epoch ${e.epoch} of ${e.epochs}`))).toEqual(expected);

    const epochs = events.filter((e) => e.type === "epoch");
    const losses = epochs.map((e) => e.logs.loss);
    expect(history.history.loss).toEqual(losses);
    expect(history.epoch).toEqual([0, 1, 2, 3, 4, 5]);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThan(losses[i - 1]!);
    expect(Object.keys(epochs[0]!.logs).sort()).toEqual(["accuracy", "loss", "valAccuracy", "valLoss"]);
    const batchLosses = events.flatMap((e) => (e.type === "batch" ? [e.loss] : []));
    expect(batchLosses.every(Number.isFinite)).toBe(true);
    expect(batchLosses.slice(-16).reduce((a, b) => a + b) / 16).toBeCloseTo(losses.at(-1)!, 5);

    // The bytes are the trained model: it classifies the blobs here on the main thread.
    expect(model).toBeInstanceOf(Uint8Array);
    const trained = nb.loadModel(model);
    const logits = trained.predict(nb.tensor(data.x, [1000, 8]));
    const predicted = nb.argmax(logits, -1).data();
    const accuracy = predicted.reduce((a, p, i) => a + (p === data.y[i] ? 1 : 0), 0) / 1000;
    expect(accuracy).toBeGreaterThan(0.9);
    trained.dispose();
  });

  it("abort() stops the worker between steps: the run resolves with aborted, the history so far and a loadable model", async () => {
    const events: nb.TrainingProgress[] = [];
    let abortedAt = -1;
    const run = nb.trainInWorker(worker, trainRequest(2000, { epochs: 1000, batchSize: 10 }), {
      onProgress: (e) => {
        events.push(e);
        if (e.type === "epoch" && e.epoch === 1) {
          abortedAt = events.length;
          run.abort();
        }
      },
    });
    const t0 = Date.now();
    const result = await run.result;
    expect(Date.now() - t0).toBeLessThan(10_000); // 1000 epochs would take minutes
    expect(result.aborted).toBe(true);
    expect(abortedAt).toBeGreaterThan(0);
    const done = result.history.epoch.length;
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(10);
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(done);
    const m = nb.loadModel(result.model);
    expect(m.predict(nb.zeros([1, 8])).shape).toEqual([1, 4]);
    m.dispose();
  });

  it("an aborted signal option aborts the same way", async () => {
    const controller = new AbortController();
    const run = nb.trainInWorker(worker, trainRequest(2000, { epochs: 1000, batchSize: 10 }), {
      signal: controller.signal,
      onProgress: (e) => void (e.type === "batch" && e.batch === 50 && controller.abort()),
    });
    const result = await run.result;
    expect(result.aborted).toBe(true);
    expect(result.history.epoch.length).toBeLessThan(10);
  });

  it("fit's error in the worker arrives as the same class with its code and fields, and the worker serves on", async () => {
    const e = await rejection(nb.trainInWorker(worker, trainRequest(100, { epochs: 1, batchSize: 10, badRows: true })).result);
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(e).toBeInstanceOf(nb.NablaError);
    expect(e.name).toBe("ShapeError");
    expect(e.code).toBe("SHAPE_MISMATCH");
    expect(e.op).toBe("fit");
    expect(e.message).toMatch(/^fit: /);
    expect(e.stack).toContain("ShapeError");

    const ok = await nb.trainInWorker(worker, trainRequest(100, { epochs: 1, batchSize: 10 })).result;
    expect(ok.history.epoch).toEqual([0]);
  });

  it("save: { optimizer: false } sends the weights without adam's state: a third of the bytes, the same predictions", async () => {
    const full = await nb.trainInWorker(worker, trainRequest(200, { epochs: 2, batchSize: 20 })).result;
    const light = await nb.trainInWorker(worker, trainRequest(200, { epochs: 2, batchSize: 20, save: { optimizer: false } })).result;
    expect(full.model.byteLength).toBeGreaterThan(2.5 * light.model.byteLength);
    const x = nb.tensor(blobs(50, 9).x, [50, 8]);
    const [a, b] = [nb.loadModel(full.model), nb.loadModel(light.model)];
    expect(b.predict(x).data()).toEqual(a.predict(x).data()); // same seed, same data: the same weights
    for (const t of [x, a, b]) t.dispose();
  });

  it("every NablaError class exported by nabla crosses typed (the helper's list cannot drift)", async () => {
    const classes = Object.entries(nb).filter(([, v]) => v === nb.NablaError || (typeof v === "function" && v.prototype instanceof nb.NablaError));
    expect(classes.length).toBeGreaterThanOrEqual(8);
    const fields = { code: "INVALID_ARGUMENT", op: "custom", arg: "thing", expected: "one", received: "two" };
    for (const [name, Class] of classes) {
      const e = await rejection(nb.trainInWorker(worker, { kind: "throw", name, message: `thrown ${name}`, fields }).result);
      expect(e, name).toBeInstanceOf(Class as typeof nb.NablaError);
      expect(e.name).toBe(name);
      expect(e.message).toBe(`thrown ${name}`);
      expect({ code: e.code, op: e.op, arg: e.arg, expected: e.expected, received: e.received }).toEqual(fields);
    }
  });

  it("other errors keep their class and message; a handler result without a model is a ValueError", async () => {
    const t = await rejection(nb.trainInWorker(worker, { kind: "throw", name: "TypeError", message: "no such thing" }).result);
    expect(t).toBeInstanceOf(TypeError);
    expect(t.message).toBe("no such thing");
    expect(t).not.toBeInstanceOf(nb.NablaError);

    const v = await rejection(nb.trainInWorker(worker, { kind: "badSpec" }).result);
    expect(v).toBeInstanceOf(nb.ValueError);
    expect(v.code).toBe("INVALID_ARGUMENT");
    expect(v.message).toContain("serveTraining: invalid `handler's result`");
  });

  it("a request that cannot be cloned rejects with a ValueError", async () => {
    const v = await rejection(nb.trainInWorker(worker, { kind: "train", f: () => 1 }).result);
    expect(v).toBeInstanceOf(nb.ValueError);
    expect(v.arg).toBe("request");
  });

  it("a worker that exits mid-run rejects the run with a StateError", async () => {
    const doomed = new Worker(SCRIPT);
    try {
      const e = await rejection(nb.trainInWorker(doomed, { kind: "crash" }).result);
      expect(e).toBeInstanceOf(nb.StateError);
      expect(e.message).toContain("exited (code 3)");
    } finally {
      await doomed.terminate();
    }
  });
});

/**
 * A Node MessagePort seen through the web's API only (addEventListener with
 * MessageEvents, and nothing delivered before start(), as a web MessagePort behaves).
 */
function webPort(port: MessagePort): nb.WorkerLike {
  const listeners = new Set<(e: { data: unknown }) => void>();
  const held: { data: unknown }[] = [];
  let started = false;
  port.on("message", (data) => (started ? listeners.forEach((l) => l({ data })) : held.push({ data })));
  return {
    postMessage: (m, transfer) => port.postMessage(m, transfer as never),
    addEventListener: (type, l) => void (type === "message" && listeners.add(l)),
    removeEventListener: (_type, l) => void listeners.delete(l),
    start() {
      started = true;
      for (const e of held.splice(0)) listeners.forEach((l) => l(e));
    },
  };
}

describe("web-style channels", () => {
  it("serves and trains over MessagePorts used through addEventListener (started, events unwrapped)", async () => {
    const { port1, port2 } = new MessageChannel();
    const stop = nb.serveTraining(async (request: { n: number }) => {
      const { x, y } = blobs(request.n);
      const model = nb.sequential([nb.layers.dense({ units: 4 })], { inputShape: [8], seed: 1 });
      model.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 1e-2 }) });
      return { model, x: nb.tensor(x, [request.n, 8]), y: nb.tensor(y, [request.n], "int32"), fitOptions: { epochs: 3, batchSize: 25 } };
    }, webPort(port1));
    try {
      const events: string[] = [];
      const result = await nb.trainInWorker(webPort(port2), { n: 100 }, { onProgress: (e) => events.push(e.type) }).result;
      expect(result.history.epoch).toEqual([0, 1, 2]);
      expect(events).toEqual(Array.from({ length: 3 }, () => ["batch", "batch", "batch", "batch", "epoch"]).flat());
    } finally {
      stop();
      port1.close();
    }
  });
});

describe("serveTraining outside a worker", () => {
  it("throws a StateError naming the missing port", () => {
    const handler = () => {
      throw new Error("unreachable");
    };
    for (const port of [undefined, null]) {
      expect(() => nb.serveTraining(handler, port)).toThrow(nb.StateError);
      expect(() => nb.serveTraining(handler, port)).toThrow(/parentPort/);
    }
    expect(() => nb.serveTraining("no" as never)).toThrow(nb.ValueError);
  });
});
