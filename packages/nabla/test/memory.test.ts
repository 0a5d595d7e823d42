// Tensor lifetimes: tidy, keep, dispose, `using`, and bounded memory over long loops.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { thrown } from "./helpers.js";

beforeAll(() => nb.init());

describe("memory", () => {
  it("100,000 op calls inside tidy keep live tensors constant and wasm memory bounded", () => {
    const a = nb.randn([64], { seed: 1 });
    const b = nb.randn([64], { seed: 2 });
    let acc = nb.zeros([64]);
    const step = () => {
      const next = nb.tidy(() => nb.add(acc, nb.mul(nb.sub(a, b), 1e-6)));
      acc.dispose();
      acc = next;
    };
    for (let i = 0; i < 1000; i++) step();
    const { tensors: live, bytes, wasmBytes } = nb.memory();
    for (let i = 0; i < 33_000; i++) step(); // 3 ops per step: 99,000 op calls
    expect(nb.memory().tensors).toBe(live);
    expect(nb.memory().bytes).toBe(bytes);
    expect(nb.memory().wasmBytes).toBe(wasmBytes);
  });

  it("tidy returns nested results and frees the rest; keep() exempts a tensor", () => {
    const before = nb.memory().tensors;
    let kept: nb.Tensor | undefined;
    const out = nb.tidy(() => {
      const x = nb.ones([3]);
      kept = nb.keep(nb.mul(x, 2));
      return { y: nb.add(x, 1), list: [nb.neg(x)] };
    });
    expect(nb.memory().tensors).toBe(before + 3);
    expect(out.y.toArray()).toEqual([2, 2, 2]);
    expect(kept!.toArray()).toEqual([2, 2, 2]);
    nb.dispose([out, kept!]);
    expect(nb.memory().tensors).toBe(before);
  });

  it("nested tidy passes results outward", () => {
    const before = nb.memory().tensors;
    const r = nb.tidy(() => {
      const inner = nb.tidy(() => nb.add(nb.ones([2]), 1));
      return nb.mul(inner, 3);
    });
    expect(r.toArray()).toEqual([6, 6]);
    expect(nb.memory().tensors).toBe(before + 1);
  });

  it("tidy refuses async functions", () => {
    const e = thrown(() => nb.tidy((async () => nb.ones([1])) as never));
    expect(e).toBeInstanceOf(nb.StateError);
  });

  it("`using` disposes at the end of the block", () => {
    const before = nb.memory().tensors;
    {
      using t = nb.ones([4]);
      expect(nb.memory().tensors).toBe(before + 1);
      expect(t.size).toBe(4);
    }
    expect(nb.memory().tensors).toBe(before);
  });

  it("a disposed tensor throws a StateError wherever it is used", () => {
    const t = nb.ones([2]);
    t.dispose();
    for (const f of [() => t.data(), () => nb.exp(t), () => nb.add(1, t), () => t.shape]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(nb.StateError);
      expect(e.code).toBe("DISPOSED");
    }
  });

  it("memory() reports bytes of live tensors", () => {
    const before = nb.memory();
    const t = nb.zeros([10, 10]);
    expect(nb.memory().bytes - before.bytes).toBe(400);
    t.dispose();
    expect(nb.memory().bytes).toBe(before.bytes);
  });
});
