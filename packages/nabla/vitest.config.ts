import { defineConfig } from "vitest/config";

// Tests import "nabla" as users do: the built package (dist/), not the sources.
export default defineConfig({
  resolve: { alias: { nabla: new URL("./dist/index.js", import.meta.url).pathname } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
