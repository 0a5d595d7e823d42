// The demo's tests (test/) run with vitest's defaults: this file only keeps vitest from
// taking vite.config.js, which is the browser page's build (rooted in web/).
import { defineConfig } from "vitest/config";

export default defineConfig({ test: { include: ["test/**/*.test.js"] } });
