// Bundles src/ with the wasm-bindgen glue into one shared ESM chunk (core.js), a
// small entry per runtime (index.js for Node/Bun/Deno, browser.js, workerd.js: each
// says where the .wasm comes from), the types into one .d.ts, and places the
// optimized .wasm beside them (loaded at init time).
import typescript from "@rollup/plugin-typescript";
import { copyFileSync, mkdirSync } from "node:fs";
import { dts } from "rollup-plugin-dts";

const copyWasm = {
  name: "copy-wasm",
  writeBundle() {
    mkdirSync("dist", { recursive: true });
    copyFileSync("wasm/nabla_bg.wasm", "dist/nabla_bg.wasm");
  },
};

export default [
  {
    // One shared chunk for the API, one small file per runtime entry.
    input: { index: "src/entry/node.ts", browser: "src/entry/browser.ts", workerd: "src/entry/workerd.ts" },
    output: { dir: "dist", format: "es", sourcemap: true, entryFileNames: "[name].js", chunkFileNames: "core.js" },
    external: [/^node:/, /\.wasm$/],
    plugins: [typescript({ tsconfig: "./tsconfig.json", outDir: "dist", rootDir: "src", sourceMap: true, inlineSources: true }), copyWasm],
  },
  {
    input: "src/index.ts",
    output: { file: "dist/index.d.ts", format: "es" },
    plugins: [dts({ tsconfig: "./tsconfig.json" })],
  },
];
