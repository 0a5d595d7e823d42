// The browser demo page (web/): `pnpm run serve` builds it into dist/ and serves it.
// Its data come from npm packages at build time (src/web-data.js), never from the internet.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { demoData } from "./src/web-data.js";

export default defineConfig({
  root: fileURLToPath(new URL("./web", import.meta.url)),
  base: "./",
  build: { outDir: fileURLToPath(new URL("./dist", import.meta.url)), emptyOutDir: true, target: "es2022" },
  // The worker is a module worker with its own bundle, which needs the data plugin.
  worker: { format: "es", plugins: () => [demoData()] },
  plugins: [demoData()], // the dev server serves the worker through these
  preview: { port: 4173 },
});
