// nb.layer: a layer on its own, with its weights as tensors, applied on the autograd tape.
// Recurrent layers take initialState and give their final states (returnState): checked
// against torch's nn modules (the recurrent-state cases of test/fixtures/layers/cases.json,
// also checked natively by crates/nabla-core/tests/layer_fixtures.rs), trained as an
// encoder–decoder with valueAndGrad + adam, and stepped one step at a time.
import { readFileSync } from "node:fs";
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { close, thrown } from "./helpers.js";

beforeAll(() => nb.init());

interface FixtureTensor {
  name?: string;
  shape: number[];
  data: number[];
}
interface StateCase {
  id: string;
  kind: string;
  config: Record<string, unknown>;
  input: FixtureTensor;
  params: FixtureTensor[];
  gy: FixtureTensor;
  initialState?: FixtureTensor[];
  gyStates?: FixtureTensor[];
  expected: {
    output: FixtureTensor;
    gx: FixtureTensor;
    grads: FixtureTensor[];
    finalStates?: FixtureTensor[];
    initialStateGrads?: FixtureTensor[];
  };
}

const RTOL = 1e-4;
const ATOL = 1e-5;
const cases: StateCase[] = (JSON.parse(readFileSync(new URL("../../../test/fixtures/layers/cases.json", import.meta.url), "utf8")) as StateCase[]).filter(
  (c) => c.initialState !== undefined || c.gyStates !== undefined,
);
const tensorOf = (t: FixtureTensor) => nb.tensor(Float32Array.from(t.data), t.shape);
type AnySpecFactory = (config: Record<string, unknown>) => nb.LayerSpec<nb.Tensor | nb.Tensor[]>;

describe("nb.layer: outputs, weights and types", () => {
  it("lstm with returnState gives [output, h, c]; gru [output, h]; without it a Tensor", () => {
    const lstm = nb.layer(nb.layers.lstm({ units: 4, returnState: true }), { inputShape: [null, 3], seed: 1 });
    const gru = nb.layer(nb.layers.gru({ units: 5, returnState: true, returnSequences: true }), { inputShape: [6, 3], seed: 1 });
    const plain = nb.layer(nb.layers.simpleRnn({ units: 2 }), { inputShape: [6, 3] });
    const x = nb.randn([2, 6, 3], { seed: 1 });
    const [out, h, c]: [nb.Tensor, nb.Tensor, nb.Tensor] = lstm.apply(x);
    expect([out.shape, h.shape, c.shape]).toEqual([[2, 4], [2, 4], [2, 4]]);
    close(out.data(), h.data(), 0, 0); // without returnSequences the output is the last h
    const [seq, gh] = gru.apply(x);
    expect([seq.shape, gh.shape]).toEqual([[2, 6, 5], [2, 5]]);
    const y: nb.Tensor = plain.apply(x);
    expect(y.shape).toEqual([2, 2]);
    // @ts-expect-error -- returnState: true gives an array, not a Tensor
    const wrong: nb.Tensor = lstm.apply(x);
    void wrong;

    expect(lstm.weightNames).toEqual(["kernel", "recurrentKernel", "bias"]);
    expect(lstm.weights.map((w) => w.shape)).toEqual([[3, 16], [4, 16], [16]]);
    expect(gru.weightNames).toEqual(["kernel", "recurrentKernel", "bias", "recurrentBias"]);
    expect([lstm.stateNames, gru.stateNames, plain.stateNames]).toEqual([["h", "c"], ["h"], ["h"]]);
    expect([lstm.inputShape, lstm.outputShape, gru.outputShape]).toEqual([[null, 3], [4], [6, 5]]);
    expect(lstm.returnState && !plain.returnState).toBe(true);
    expect(String(lstm)).toBe("Layer(lstm, input [batch, time, 3] → [batch, 4] + states h, c)");
    // any length with a null time axis
    expect(lstm.apply(nb.randn([1, 11, 3], { seed: 2 })).map((t) => t.shape)).toEqual([[1, 4], [1, 4], [1, 4]]);
    // the same seed gives the weights nb.sequential gives its first layer
    const model = nb.sequential([nb.layers.simpleRnn({ units: 2 })], { inputShape: [6, 3], seed: 0 });
    const mw = model.getWeights();
    plain.weights.forEach((w, i) => close(w.data(), mw[i]!.data(), 0, 0));
    for (const l of [lstm, gru, plain]) l.dispose();
    expect(lstm.weights.every((w) => w.isDisposed) && lstm.isDisposed).toBe(true);
    model.dispose();
  });

  it("bidirectional with returnState gives Keras's [output, forward h, c, backward h, c]; dense works standalone", () => {
    const bi = nb.layer(nb.layers.bidirectional({ layer: { kind: "lstm", config: { units: 3, returnState: true } } }), { inputShape: [5, 2], seed: 4 });
    const outs: nb.BidirectionalLstmOutputs = bi.apply(nb.randn([2, 5, 2], { seed: 5 }));
    expect(outs.map((t) => t.shape)).toEqual([[2, 6], [2, 3], [2, 3], [2, 3], [2, 3]]);
    expect(bi.stateNames).toEqual(["forward_h", "forward_c", "backward_h", "backward_c"]);
    // concat: the first half of the output is the forward copy's last h
    close(outs[0].data().filter((_, i) => i % 6 < 3), outs[1].data(), 0, 0);

    const dense = nb.layer(nb.layers.dense({ units: 3, activation: "tanh" }), { inputShape: [4], seed: 1 });
    const x = nb.randn([5, 4], { seed: 6 });
    const [kernel, bias] = dense.weights;
    close(dense.apply(x).data(), nb.tanh(nb.add(nb.matmul(x, kernel!), bias!)).data(), 1e-6, 1e-6);
    const [gk] = nb.grad((k: nb.Tensor) => nb.sum(nb.square(dense.apply(x))))(kernel!);
    const [want] = nb.grad((k: nb.Tensor) => nb.sum(nb.square(nb.tanh(nb.add(nb.matmul(x, k), bias!)))))(kernel!);
    close(gk!.data(), want!.data(), 1e-5, 1e-6);
    bi.dispose();
    dense.dispose();
  });

  it("a tidy() around nb.layer keeps its weights; apply inside tidy frees the outputs", () => {
    let l!: nb.Layer<nb.RnnOutputs>;
    nb.tidy(() => {
      l = nb.layer(nb.layers.gru({ units: 3, returnState: true }), { inputShape: [2, 2] });
    });
    expect(l.weights.some((w) => w.isDisposed)).toBe(false);
    const before = nb.memory().tensors;
    const x = nb.ones([1, 2, 2]);
    nb.tidy(() => {
      l.apply(x);
    });
    expect(nb.memory().tensors).toBe(before + 1);
    x.dispose();
    l.dispose();
  });
});

describe("nb.layer: torch reference (recurrent states)", () => {
  it(`reads the ${cases.length} recurrent-state cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(["simpleRnn", "lstm", "gru", "bidirectional"]));
  });

  it.each(cases.map((c) => [c.id, c] as const))("%s: output, final states and every gradient through valueAndGrad", (_, c) => {
    const spec = (nb.layers[c.kind as "lstm"] as unknown as AnySpecFactory)(c.config);
    const layer = nb.layer(spec, { inputShape: c.input.shape.slice(1) });
    const values = layer.weightNames.map((n) => tensorOf(c.params.find((p) => p.name === n)!));
    layer.setWeights(values);
    nb.dispose(values);
    const x = tensorOf(c.input);
    const init = (c.initialState ?? []).map(tensorOf);
    const gy = tensorOf(c.gy);
    const gyStates = (c.gyStates ?? []).map(tensorOf);
    const outputs = (out: nb.Tensor | nb.Tensor[]) => (Array.isArray(out) ? out : [out]);
    // L = Σ gy·y + Σ gyStatesᵢ·finalᵢ; the weights are arguments so they get gradients
    const loss = (x: nb.Tensor, ...rest: nb.Tensor[]) => {
      const [y, ...finals] = outputs(layer.apply(x, { initialState: rest.slice(0, init.length) }));
      return finals.reduce((acc, f, i) => nb.add(acc, nb.sum(nb.mul(f, gyStates[i]!))), nb.sum(nb.mul(y!, gy)));
    };
    const { value, grads } = nb.valueAndGrad(loss)(x, ...init, ...layer.weights);
    const [y, ...finals] = outputs(layer.apply(x, { initialState: init }));
    const e = c.expected;
    expect(y!.shape).toEqual(e.output.shape);
    close(y!.data(), e.output.data, RTOL, ATOL);
    expect(finals.length).toBe(e.finalStates?.length ?? 0);
    finals.forEach((f, i) => close(f.data(), e.finalStates![i]!.data, RTOL, ATOL));
    close(grads[0]!.data(), e.gx.data, RTOL, ATOL);
    init.forEach((_, i) => close(grads[1 + i]!.data(), e.initialStateGrads![i]!.data, RTOL, ATOL));
    layer.weightNames.forEach((n, i) => close(grads[1 + init.length + i]!.data(), e.grads.find((g) => g.name === n)!.data, RTOL, ATOL));
    expect(Number.isFinite(value.item())).toBe(true);
    nb.dispose([value, grads, y!, finals, x, init, gy, gyStates]);
    layer.dispose();
  });
});

describe("nb.layer: an encoder–decoder trained with valueAndGrad + adam", () => {
  // Reverse a sequence of 4 tokens (vocabulary 4). The encoder's final (h, c) start the
  // decoder, which reads the target shifted right after a start token (teacher forcing);
  // a dense readout (matmul) gives the logits.
  const [N, T, V, H] = [64, 4, 4, 32];
  const F = V + 1; // one-hot tokens plus the start token (never all-zero: no step is masked)
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const sequences = (n: number) => Array.from({ length: n }, () => Array.from({ length: T }, () => Math.floor(rand() * V)));
  const onehot = (rows: number[][]) => nb.tensor(rows.map((r) => r.map((tok) => Array.from({ length: F }, (_, k) => (k === tok ? 1 : 0)))));
  const src = sequences(N);
  const tgt = src.map((r) => [...r].reverse());
  const argmax = (values: Float32Array, rows: number, width: number) =>
    Array.from({ length: rows }, (_, r) => {
      let best = 0;
      for (let k = 1; k < width; k++) if (values[r * width + k]! > values[r * width + best]!) best = k;
      return best;
    });

  it("the loss falls, and stepping the decoder one token at a time equals the whole-sequence run", () => {
    const before = nb.memory().tensors;
    const x = onehot(src);
    const decIn = onehot(tgt.map((r) => [V, ...r.slice(0, T - 1)]));
    const labels = nb.tensor(Int32Array.from(tgt.flat()));
    const enc = nb.layer(nb.layers.lstm({ units: H, returnState: true }), { inputShape: [T, F], seed: 1 });
    const dec = nb.layer(nb.layers.lstm({ units: H, returnSequences: true, returnState: true }), { inputShape: [null, F], seed: 2 });
    const W = nb.randn([H, V], { seed: 3, stddev: 0.2 });
    const b = nb.zeros([V]);
    const readout = (out: nb.Tensor, rows: number) => nb.add(nb.matmul(nb.reshape(out, [rows, H]), W), b);
    const ce = nb.losses.crossEntropy({ fromLogits: true });
    const params = [...enc.weights, ...dec.weights, W, b];
    const opt = nb.optim.adam({ learningRate: 0.02 });
    const loss = () => {
      const [, h, c] = enc.apply(x);
      const [out] = dec.apply(decIn, { initialState: [h, c] });
      return ce.tensor(labels, readout(out, N * T));
    };
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const { value, grads } = nb.valueAndGrad(loss)(...params);
      opt.step(params, grads);
      losses.push(value.item());
      nb.dispose([value, grads]);
    }
    console.log(`seq2seq reverse: loss ${losses[0]!.toFixed(3)} → ${losses[59]!.toFixed(3)} in 60 adam steps`);
    expect(losses[0]).toBeGreaterThan(1.2); // ≈ ln 4 at the start
    expect(losses[59]).toBeLessThan(0.15 * losses[0]!);

    // Stepping: one token at a time, carrying (h, c), equals the whole-sequence run.
    nb.tidy(() => {
      const [, h0, c0] = enc.apply(x);
      const [whole, hT, cT] = dec.apply(decIn, { initialState: [h0, c0] });
      const wholeData = whole.data();
      let state = [h0, c0];
      const decRows = tgt.map((r) => [V, ...r.slice(0, T - 1)]);
      for (let t = 0; t < T; t++) {
        const [out, h, c] = dec.apply(onehot(decRows.map((r) => [r[t]!])), { initialState: state });
        expect(out.shape).toEqual([N, 1, H]);
        const want = Array.from({ length: N * H }, (_, i) => wholeData[(Math.floor(i / H) * T + t) * H + (i % H)]!);
        close(out.data(), want, 1e-5, 1e-6);
        state = [h, c];
      }
      close(state[0]!.data(), hT.data(), 1e-5, 1e-6);
      close(state[1]!.data(), cT.data(), 1e-5, 1e-6);
    });

    // Generation on new sequences: greedy, each step's prediction fed back.
    const test = sequences(32);
    const generated = nb.tidy(() => {
      const [, h0, c0] = enc.apply(onehot(test));
      let state = [h0, c0];
      let tokens = test.map(() => V);
      const out: number[][] = test.map(() => []);
      for (let t = 0; t < T; t++) {
        const [o, h, c] = dec.apply(onehot(tokens.map((tok) => [tok])), { initialState: state });
        tokens = argmax(readout(o, test.length).data(), test.length, V);
        tokens.forEach((tok, i) => out[i]!.push(tok));
        state = [h, c];
      }
      return out;
    });
    const right = generated.flat().filter((tok, i) => tok === test[Math.floor(i / T)]![T - 1 - (i % T)]).length;
    console.log(`seq2seq reverse: greedy generation on 32 new sequences, ${right}/${32 * T} tokens right`);
    expect(right / (32 * T)).toBeGreaterThan(0.9);

    nb.dispose([x, decIn, labels, W, b]);
    enc.dispose();
    dec.dispose();
    opt.dispose();
    expect(nb.memory().tensors).toBe(before);
  });
});

describe("nb.layer: errors name the argument, the expected and the received", () => {
  it("initialState of the wrong count or shape", () => {
    const l = nb.layer(nb.layers.lstm({ units: 2, returnState: true }), { inputShape: [4, 3] });
    const x = nb.randn([2, 4, 3], { seed: 1 });
    const h = nb.zeros([2, 2]);
    let e = thrown(() => l.apply(x, { initialState: [h] }));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect([e.code, e.arg, e.expected, e.received]).toEqual(["SHAPE_MISMATCH", "initialState", "2 tensors (h, c) or none", "1 tensors"]);
    e = thrown(() => l.apply(x, { initialState: [h, nb.zeros([2, 3])] }));
    expect(e.message).toBe("lstm: invalid `initialState[1]`: expected shape [2, 2] (c: [batch, units]), received shape [2, 3]");
    e = thrown(() => l.apply(x, { initialState: h as never }));
    expect(e).toBeInstanceOf(nb.ValueError);
    expect([e.arg, e.expected]).toEqual(["initialState", "an array of tensors (h, c)"]);
    e = thrown(() => l.apply(x, { initialState: [h, 3 as never] }));
    expect([e.arg, e.received]).toEqual(["initialState[1]", "number 3"]);
    const d = nb.zeros([2, 2]);
    d.dispose();
    e = thrown(() => l.apply(x, { initialState: [h, d] }));
    expect([e.code, e.arg]).toEqual(["DISPOSED", "initialState[1]"]);
    // after errors the layer works as before
    expect(l.apply(x, { initialState: [h, h] }).length).toBe(3);
    const dense = nb.layer(nb.layers.dense({ units: 2 }), { inputShape: [3] });
    e = thrown(() => dense.apply(nb.zeros([1, 3]), { initialState: [h] }));
    expect(e.message).toBe("dense: invalid `initialState`: expected none (dense has no recurrent state), received 1 tensors");
    l.dispose();
    dense.dispose();
  });

  it("apply on the wrong input rank or size", () => {
    const l = nb.layer(nb.layers.gru({ units: 2 }), { inputShape: [4, 3] });
    let e = thrown(() => l.apply(nb.zeros([2, 4])));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(e.message).toBe("gru: invalid `x`: expected shape [batch, 4, 3], received shape [2, 4]");
    e = thrown(() => l.apply(nb.zeros([2, 5, 3])));
    expect([e.arg, e.expected, e.received]).toEqual(["x", "shape [batch, 4, 3]", "shape [2, 5, 3]"]);
    const any = nb.layer(nb.layers.gru({ units: 2 }), { inputShape: [null, 3] });
    e = thrown(() => any.apply(nb.zeros([2, 5, 4])));
    expect(e.message).toBe("gru: invalid `x`: expected shape [batch, time, 3], received shape [2, 5, 4]");
    e = thrown(() => l.apply([[1, 2, 3]] as never));
    expect([e.arg, e.expected, e.received]).toEqual(["x", "a Tensor", "an array of length 1"]);
    l.dispose();
    any.dispose();
  });

  it("a disposed layer, or a disposed weight", () => {
    const l = nb.layer(nb.layers.lstm({ units: 2 }), { inputShape: [4, 3] });
    const x = nb.zeros([1, 4, 3]);
    l.dispose();
    l.dispose(); // idempotent
    let e = thrown(() => l.apply(x));
    expect(e).toBeInstanceOf(nb.StateError);
    expect([e.code, e.arg, e.expected, e.received]).toEqual(["DISPOSED", "layer", "a live layer", "a disposed layer (dispose() was called)"]);
    expect(thrown(() => l.setWeights([])).code).toBe("DISPOSED");
    const m = nb.layer(nb.layers.lstm({ units: 2 }), { inputShape: [4, 3] });
    m.weights[1]!.dispose();
    e = thrown(() => m.apply(x));
    expect([e.code, e.arg]).toEqual(["DISPOSED", "weights[1] (recurrentKernel)"]);
    m.dispose();
  });

  it("bad specs and options, setWeights, and returnState in nb.sequential", () => {
    let e = thrown(() => nb.layer(nb.layers.lstm({ units: 2 }), { inputShape: [NaN, 3] }));
    expect([e.code, e.arg, e.received]).toEqual(["INVALID_ARGUMENT", "inputShape", '["NaN",3]']);
    e = thrown(() => nb.layer(nb.layers.dense({ units: 2 }), { inputShape: [null] }));
    expect(e.arg).toBe("inputShape");
    e = thrown(() => nb.layer(nb.layers.lstm({ units: 2 }), { inputShape: [3] }));
    expect(e).toBeInstanceOf(nb.ShapeError);
    e = thrown(() => nb.layer(nb.layers.dropout({ rate: 0.5 }), { inputShape: [3] }));
    expect([e.arg, e.received]).toEqual(["spec", "dropout"]);
    e = thrown(() => nb.layer(nb.layers.lstm({ units: 2, kernelRegularizer: { l2: 0.1 } }), { inputShape: [4, 3] }));
    expect(e.received).toBe("lstm with a regularizer on `kernel`");
    e = thrown(() => nb.layer("lstm" as never, { inputShape: [4, 3] }));
    expect([e.arg, e.received]).toEqual(["spec", 'the string "lstm"']);
    e = thrown(() => nb.layer(nb.layers.lstm({ units: 2 }), {} as never));
    expect(e.arg).toBe("options.inputShape");

    const l = nb.layer(nb.layers.dense({ units: 2 }), { inputShape: [3] });
    e = thrown(() => l.setWeights([nb.zeros([3, 2])]));
    expect(e.message).toBe("setWeights: invalid `weights`: expected 2 tensors (kernel, bias), received 1 tensors");
    e = thrown(() => l.setWeights([nb.zeros([3, 2]), nb.zeros([3])]));
    expect(e.message).toBe("setWeights: invalid `weights[1]`: expected shape [2], received shape [3]");
    expect(l.weights[0]!.data().some((v) => v !== 0)).toBe(true); // unchanged after the error
    l.setWeights([nb.ones([3, 2]), nb.zeros([2])]);
    close(l.apply(nb.ones([1, 3])).data(), [3, 3]);
    l.dispose();

    const spec = nb.layers.lstm({ units: 3, returnState: true });
    // @ts-expect-error -- a returnState spec in nb.sequential is a type error too
    e = thrown(() => nb.sequential([spec], { inputShape: [4, 2] }));
    expect(e).toBeInstanceOf(nb.ValueError);
    expect(e.arg).toBe("layers[0] (lstm): returnState");
    expect(e.message).toContain("nb.layer(nb.layers.lstm({ units, returnState: true }), { inputShape }).apply(x) gives [output, h, c]");
  });
});
