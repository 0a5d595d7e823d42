// Shared by the tests: catching NablaErrors, seeded data, the test build of the .wasm.
import * as nb from "nabla";
import { existsSync, readFileSync } from "node:fs";

/**
 * init() with the test build of the .wasm (`scripts/build.sh --reference`, which
 * ./dev.sh test runs): the shipped kernels plus the scalar reference twins that
 * nb.reference switches to. The shipped .wasm leaves the twins out.
 */
export async function initReference(): Promise<void> {
  const path = new URL("../wasm-reference/nabla_bg.wasm", import.meta.url);
  if (!existsSync(path)) throw new Error(`${path.pathname} is missing: run scripts/build.sh --reference`);
  await nb.init({ wasm: readFileSync(path) });
  if (!nb.info().referenceKernels) throw new Error(`${path.pathname} is not the reference build`);
}

export function thrown(f: () => unknown): nb.NablaError {
  try {
    f();
  } catch (e) {
    if (e instanceof nb.NablaError) return e;
    throw new Error(`expected a NablaError, got ${String(e)}`);
  }
  throw new Error("expected a NablaError, nothing was thrown");
}

/** Deterministic values in [-scale, scale) from xorshift32. */
export function randomValues(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`element ${i}: got ${g}, want ${w} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
