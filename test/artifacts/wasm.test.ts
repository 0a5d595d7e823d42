// The shipped .wasm, read as a module: it must hold SIMD128 instructions, or the
// kernels silently fell back to scalar code (a build without +simd128).
import binaryen from "binaryen";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const wasmPath = createRequire(import.meta.url).resolve("nabla/nabla_bg.wasm");

describe("the shipped nabla_bg.wasm", () => {
  const bytes = readFileSync(wasmPath);
  const mod = binaryen.readBinary(bytes);
  const text = mod.emitText();
  const count = (op: string) => text.split(op).length - 1;

  it("declares the SIMD128 feature", () => {
    expect(mod.getFeatures() & binaryen.Features.SIMD128).toBe(binaryen.Features.SIMD128);
  });

  it("contains the GEMM micro-kernel's f32x4 multiply-adds and v128 loads", () => {
    // The 4×8 micro-kernel issues 8 f32x4.mul and 8 f32x4.add per k step.
    expect(count("f32x4.mul")).toBeGreaterThanOrEqual(8);
    expect(count("f32x4.add")).toBeGreaterThanOrEqual(8);
    expect(count("v128.load")).toBeGreaterThan(0);
  });

  it("validates as WebAssembly in this runtime", () => {
    expect(WebAssembly.validate(bytes)).toBe(true);
  });
});
