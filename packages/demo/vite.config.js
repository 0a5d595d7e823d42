// The browser demo page (web/): `pnpm run serve` builds it into dist/ and serves it.
// Its data come from npm packages at build time (src/web-data.js), never from the internet.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { demoData } from "./src/web-data.js";

export default defineConfig({
  root: fileURLToPath(new URL("./web", import.meta.url)),
  base: "./",
  build: { outDir: fileURLToPath(new URL("./dist", import.meta.url)), emptyOutDir: true, target: "es2022" },
  // The worker is a module worker; its bundle needs the data plugin, the page's does not.
  worker: { format: "es", plugins: () => [demoData()] },
  preview: { port: 4173 },
});
