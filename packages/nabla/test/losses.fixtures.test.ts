// Every loss through the public API against reference values and gradients computed in
// float64 by PyTorch 1.13 (or an independent float64 implementation where torch has no
// such loss): test/fixtures/losses/cases.json, written by
// test/fixtures/losses/generate.py. The same file is checked natively by
// crates/nabla-core/tests/loss_fixtures.rs.
//
// Each case calls `nb.losses[loss](config)` with the inputs positionally in the
// catalogue's order (inputs a case leaves out take the API's defaults) and
// `{ sampleWeight }` when given; checks the value and `loss.grad(...)` per element:
// |got − want| ≤ 1e-6 + 1e-4·|want|. Nothing is skipped: a case that cannot run fails.
import { readFileSync } from "node:fs";
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";

interface FixtureTensor {
  shape: number[];
  data: number[];
}
interface FixtureInput extends FixtureTensor {
  name: string;
  dtype: "float32" | "int32";
}
interface FixtureCase {
  id: string;
  loss: string;
  config: nb.LossConfig;
  inputs: FixtureInput[];
  sampleWeight?: FixtureTensor;
  expected: { value: number | FixtureTensor };
  grads: (FixtureTensor & { input: string })[];
  reference: string;
}

const RTOL = 1e-4;
const ATOL = 1e-6;

const cases: FixtureCase[] = JSON.parse(readFileSync(new URL("../../../test/fixtures/losses/cases.json", import.meta.url), "utf8"));

beforeAll(() => nb.init());

/** Every element within tolerance, else an error listing the first differences. */
function check(what: string, got: ArrayLike<number>, want: readonly number[]): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= ATOL + RTOL * Math.abs(w))) {
      count++;
      if (bad.length < 4) bad.push(`[${i}] got ${g} want ${w}`);
    }
  }
  if (count > 0) throw new Error(`${what}: ${count} of ${want.length} elements differ: ${bad.join(", ")}`);
}

function checkTensor(what: string, got: nb.Tensor, want: FixtureTensor): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  check(what, got.data(), want.data);
}

const counts = new Map<string, number>();
for (const c of cases) counts.set(c.loss, (counts.get(c.loss) ?? 0) + 1);

describe("loss fixtures", () => {
  it("cover every loss in the catalogue (≥ 150 cases, ≥ 3 per loss)", () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    for (const name of Object.keys(nb.losses.CATALOGUE)) {
      expect(counts.get(name) ?? 0, `cases for ${name}`).toBeGreaterThanOrEqual(3);
    }
    for (const name of counts.keys()) expect(Object.keys(nb.losses.CATALOGUE), `fixture loss ${name}`).toContain(name);
  });

  for (const c of cases) {
    it(`${c.loss}: ${c.id}`, () => {
      const factory = (nb.losses as unknown as Record<string, (config: nb.LossConfig) => nb.Loss>)[c.loss];
      if (typeof factory !== "function") throw new Error(`nb.losses.${c.loss} is not a function`);
      const names = nb.losses.CATALOGUE[c.loss]!.inputs;
      expect(
        c.inputs.map((x) => x.name),
        "fixture inputs are a prefix of the catalogue's inputs",
      ).toEqual(names.slice(0, c.inputs.length));

      const made: nb.Tensor[] = [];
      const mk = (data: Float32Array | Int32Array, shape: number[]) => {
        const t = nb.tensor(data, shape);
        made.push(t);
        return t;
      };
      try {
        const inputs = c.inputs.map((x) => mk(x.dtype === "int32" ? Int32Array.from(x.data) : Float32Array.from(x.data), x.shape));
        const args: (nb.Tensor | nb.LossCallOptions)[] = [...inputs];
        if (c.sampleWeight) args.push({ sampleWeight: mk(Float32Array.from(c.sampleWeight.data), c.sampleWeight.shape) });
        const loss = factory(c.config);
        const call = loss as unknown as (...a: (nb.Tensor | nb.LossCallOptions)[]) => number | nb.Tensor;
        const grad = loss.grad as unknown as (...a: (nb.Tensor | nb.LossCallOptions)[]) => nb.Tensor | nb.Tensor[];

        const value = call(...args);
        const want = c.expected.value;
        if (typeof want === "number") {
          expect(typeof value, "value is a number").toBe("number");
          check("value", [value as number], [want]);
        } else {
          expect(value, "value is a Tensor for reduction none").toBeInstanceOf(nb.Tensor);
          made.push(value as nb.Tensor);
          checkTensor("value", value as nb.Tensor, want);
        }

        const g = grad(...args);
        const grads = Array.isArray(g) ? g : [g];
        made.push(...grads);
        expect(grads.length, `gradients for ${c.grads.map((x) => x.input).join(", ")}`).toBe(c.grads.length);
        c.grads.forEach((want, i) => checkTensor(`d/d${want.input}`, grads[i]!, want));
      } finally {
        for (const t of made) t.dispose();
      }
    });
  }
});
