// Before and during init: the guard every call goes through, and a bad module.
import * as nb from "nabla";
import { describe, expect, it } from "vitest";
import { thrown } from "./helpers.js";

describe("before init()", () => {
  it.each([
    ["tensor", () => nb.tensor([1, 2])],
    ["matmul", () => nb.matmul(undefined as never, undefined as never)],
    ["info", () => nb.info()],
  ])("%s throws a StateError NOT_INITIALIZED that says to call init", (op, call) => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(nb.StateError);
    expect(err).toBeInstanceOf(nb.NablaError);
    const e = err as nb.StateError;
    expect(e.code).toBe("NOT_INITIALIZED");
    expect(e.op).toBe(op);
    expect(e.message).toContain("await nb.init()");
    expect(e.name).toBe("StateError");
  });
});

describe("init()", () => {
  it("rejects bytes that are not a wasm module with a FormatError, and can be retried", async () => {
    const err = await nb.init({ wasm: new Uint8Array([1, 2, 3, 4]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(nb.FormatError);
    expect((err as nb.FormatError).code).toBe("INVALID_WASM");
    expect(() => nb.info()).toThrow(nb.StateError);
  });

  it("loads once: concurrent and repeated calls share one load", async () => {
    const p1 = nb.init();
    const p2 = nb.init();
    expect(p2).toBe(p1);
    await Promise.all([p1, p2]);
    await nb.init();
    expect(nb.info().simd).toBe(true);
  });

  it("info() reports the version, SIMD128, threads, memory and the shipped build's kernels", () => {
    const info = nb.info();
    expect(info).toEqual({ version: nb.version, simd: true, threads: 1, memoryBytes: expect.any(Number), referenceKernels: false });
    expect(info.version).toBe("0.1.0");
    expect(info.memoryBytes).toBeGreaterThan(0);
    expect(info.memoryBytes % 65536).toBe(0);
  });

  it("nb.reference needs the test build: the shipped .wasm says so and stays on SIMD", () => {
    const a = nb.tensor([1, 2, 3]);
    let ran = false;
    const err = thrown(() =>
      nb.reference(() => {
        ran = true;
      }),
    );
    expect(err).toBeInstanceOf(nb.StateError);
    expect(err.code).toBe("INVALID_STATE");
    expect(err.message).toBe(
      "reference: expected a build of nabla with its scalar reference kernels (the test build, cargo feature `reference`), received the shipped build, which has the SIMD128 kernels only",
    );
    expect(ran).toBe(false);
    expect(Array.from(nb.add(a, a).data())).toEqual([2, 4, 6]);
    a.dispose();
  });
});
