// Layer factories: the catalogue matches the core's; options are validated when a layer
// is made, with the layer and the option named.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { thrown } from "./helpers.js";

beforeAll(() => nb.init());

describe("nb.layers", () => {
  it("names the same layers as the core", () => {
    expect([...nb.layers.KINDS].sort()).toEqual(nb.layers.coreCatalogue().sort());
    for (const kind of nb.layers.KINDS) {
      expect(typeof (nb.layers as unknown as Record<string, unknown>)[kind], kind).toBe("function");
    }
  });

  it("returns a serializable description", () => {
    const d = nb.layers.dense({ units: 10, activation: "relu" });
    expect(d.kind).toBe("dense");
    expect(JSON.parse(JSON.stringify(d))).toEqual({ kind: "dense", config: { units: 10, activation: "relu" } });
  });

  it("invalid hyperparameters fail at construction, naming the layer and the option", () => {
    expect(thrown(() => nb.layers.dense({ units: 0 })).message).toBe("dense: invalid `units`: expected a positive integer, received 0");
    expect(thrown(() => nb.layers.dropout({ rate: 1 })).message).toBe("dropout: invalid `rate`: expected a number in [0, 1), received 1");
    expect(thrown(() => nb.layers.dense({ units: 3, activation: "swish" as never })).arg).toBe("activation");
    expect(thrown(() => nb.layers.dense({ units: 3, foo: 1 } as never)).arg).toBe("config");
  });
});
