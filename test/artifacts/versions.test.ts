// One version everywhere: the npm package, its TS constant, the Rust crates; and the
// wasm-bindgen crate pinned exactly, since wasm-bindgen-cli must match it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

describe("versions", () => {
  const pkg = JSON.parse(read("packages/nabla/package.json")).version as string;

  it("package.json, src/version.ts and the Cargo workspace agree", () => {
    expect(read("packages/nabla/src/version.ts")).toContain(`export const VERSION = "${pkg}";`);
    const cargo = /\[workspace\.package\][^[]*?version = "([^"]+)"/s.exec(read("Cargo.toml"));
    expect(cargo?.[1]).toBe(pkg);
  });

  it("Cargo.lock resolves wasm-bindgen to the exact version nabla-wasm pins", () => {
    const pin = /wasm-bindgen = "=([^"]+)"/.exec(read("crates/nabla-wasm/Cargo.toml"))?.[1];
    const locked = /name = "wasm-bindgen"\nversion = "([^"]+)"/.exec(read("Cargo.lock"))?.[1];
    expect(pin).toBeDefined();
    expect(locked).toBe(pin);
  });

  it("pnpm is pinned through packageManager", () => {
    expect(JSON.parse(read("package.json")).packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
  });
});
