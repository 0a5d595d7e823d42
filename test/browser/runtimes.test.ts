// The packed package in headless Chromium, loaded the ways a web page gets it: a Vite
// build, Vite's dev server, a Rollup build, and the unbundled dist files through an
// import map. Each page runs the smoke-and-train routine of every runtime
// (test/runtimes/train.mjs): the losses must fall and be bit-identical to Node's (which
// test/runtimes holds equal to Deno's, Bun's and workerd's), and a bad call must raise
// a NablaError with its code. Then: a page stays responsive while fit() trains.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Plugin } from "rollup";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { here, packedProject, runSmoke, type SmokeResult } from "../runtimes/project.js";
import { launchChromium, serveDir } from "./chromium.js";

let project = "";
let browser: Browser;
let node: SmokeResult;

beforeAll(async () => {
  const launching = launchChromium();
  project = packedProject("nabla-browser-");
  for (const [way, html] of [["vite", "vite"], ["vite-dev", "vite"], ["rollup", "rollup"], ["plain", "plain"]] as const) {
    const dir = join(project, way);
    mkdirSync(dir);
    cpSync(join(here, "web", `${html}.html`), join(dir, "index.html"));
    cpSync(join(here, "web", "main.js"), join(dir, "main.js"));
    cpSync(join(here, "train.mjs"), join(dir, "train.mjs"));
  }
  cpSync(join(here, "web", "fit.html"), join(project, "plain", "fit.html"));
  cpSync(join(here, "web", "fit.js"), join(project, "plain", "fit.js"));
  node = runSmoke(project, process.execPath, ["smoke.mjs"]);
  browser = await launching;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Opens a page, waits for the promise it leaves in `globalThis[name]`, and reports what went wrong on the way. */
async function visit(url: string, name: string) {
  const page = await browser.newPage();
  const problems: string[] = [];
  const wasm: string[] = [];
  page.on("console", (m) => void (["error", "warning"].includes(m.type()) && problems.push(`console.${m.type()}: ${m.text()}`)));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    if (new URL(r.url()).pathname.endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  try {
    await page.goto(url);
    const result = await page.evaluate((g) => (globalThis as Record<string, unknown>)[g], name);
    return { result, problems, wasm };
  } finally {
    await page.close();
  }
}

/** Serves `root` and visits `path` on it. */
async function served(root: string, path: string, name = "smokeResult") {
  const server = await serveDir(root);
  try {
    return await visit(new URL(path, server.url).href, name);
  } finally {
    await server.close();
  }
}

/** A Vite logger that keeps its warnings and errors. */
async function viteLogger() {
  const { createLogger } = await import("vite");
  const warnings: string[] = [];
  const logger = createLogger("warn");
  logger.warn = (msg) => void warnings.push(msg);
  logger.warnOnce = (msg) => void warnings.push(msg);
  logger.error = (msg) => void warnings.push(msg);
  return { logger, warnings };
}

async function viteBuild(dir: string): Promise<string[]> {
  const { build } = await import("vite");
  const { logger, warnings } = await viteLogger();
  await build({ root: dir, configFile: false, logLevel: "warn", customLogger: logger, build: { outDir: "dist", emptyOutDir: true } });
  return warnings;
}

/** Vite's dev server (its dependency pre-bundling included), as `vite` serves a project. */
async function viteDev(dir: string) {
  const { createServer } = await import("vite");
  const { logger, warnings } = await viteLogger();
  const server = await createServer({ root: dir, configFile: false, logLevel: "warn", customLogger: logger, server: { host: "127.0.0.1", port: 0, watch: null } });
  await server.listen();
  try {
    const visited = await visit(server.resolvedUrls!.local[0]!, "smokeResult");
    expect(warnings, "Vite's warnings").toEqual([]);
    return visited;
  } finally {
    await server.close();
  }
}

async function rollupBuild(dir: string): Promise<string[]> {
  const { rollup } = await import("rollup");
  const { nodeResolve } = await import("@rollup/plugin-node-resolve");
  // What a Rollup user adds for nabla: Rollup leaves `new URL("./nabla_bg.wasm",
  // import.meta.url)` as it is, so the bundle looks for the .wasm beside itself. Put it
  // there (the package exports the file as "nabla/nabla_bg.wasm").
  const require = createRequire(join(dir, "main.js"));
  const nablaWasm: Plugin = {
    name: "nabla-wasm",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "nabla_bg.wasm", source: readFileSync(require.resolve("nabla/nabla_bg.wasm")) });
    },
  };
  const warnings: string[] = [];
  const bundle = await rollup({
    input: join(dir, "main.js"),
    plugins: [nodeResolve({ browser: true }), nablaWasm],
    onwarn: (w) => void warnings.push(w.message),
  });
  await bundle.write({ dir: join(dir, "dist"), format: "es" });
  await bundle.close();
  return warnings;
}

/** Every .js the build wrote: a browser bundle must not import Node's built-ins. */
const importsNode = /\b(?:from|import)\s*["']node:|\b(?:import|require)\s*\(\s*["'`]node:/;
function bundledJs(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".js"))
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("\n");
}

describe("Chromium", () => {
  const results: Record<string, SmokeResult> = {};

  const ways: [string, () => Promise<{ result: unknown; problems: string[]; wasm: string[] }>][] = [
    [
      "a Vite build",
      async () => {
        const dir = join(project, "vite");
        expect(await viteBuild(dir), "Vite's warnings").toEqual([]);
        const out = join(dir, "dist");
        expect(bundledJs(out)).not.toMatch(importsNode);
        expect(readdirSync(join(out, "assets")).filter((f) => f.endsWith(".wasm"))).toHaveLength(1);
        return served(out, "/");
      },
    ],
    ["Vite's dev server", () => viteDev(join(project, "vite-dev"))],
    [
      "a Rollup build",
      async () => {
        const dir = join(project, "rollup");
        expect(await rollupBuild(dir), "Rollup's warnings").toEqual([]);
        expect(bundledJs(join(dir, "dist"))).not.toMatch(importsNode);
        return served(dir, "/");
      },
    ],
    ["the unbundled dist files (import map)", () => served(project, "/plain/")],
  ];

  it.each(ways)("%s trains the seeded model and raises typed errors", async (way, load) => {
    const { result, problems, wasm } = await load();
    expect(problems).toEqual([]);
    expect(wasm, "the .wasm is fetched once").toHaveLength(1);
    const r = result as SmokeResult;
    results[way] = r;
    expect(r.info).toMatchObject({ version: "0.1.0", simd: true });
    expect(r.losses).toHaveLength(20);
    expect(r.losses[19]).toBeLessThan(r.losses[0]!);
    expect(r.error).toEqual({ name: "ShapeError", code: "SHAPE_MISMATCH", isNablaError: true });
  });

  it("the losses are bit-identical to Node's", () => {
    expect(Object.keys(results)).toHaveLength(ways.length);
    for (const [way, r] of Object.entries(results)) expect(r.losses, way).toEqual(node.losses);
  });

  it("fit() does not freeze the page: timers fire while it trains", async () => {
    const { result, problems } = await served(project, "/plain/fit.html", "fitResult");
    expect(problems).toEqual([]);
    const r = result as { ticks: number; ms: number; maxGap: number; batches: number; loss: number[] };
    console.log(`fit: ${r.batches} batches in ${r.ms.toFixed(0)} ms, ${r.ticks} timer ticks, longest gap ${r.maxGap.toFixed(0)} ms`);
    expect(r.loss).toHaveLength(4);
    expect(r.ms, "fit runs long enough for a frozen page to show").toBeGreaterThan(250);
    expect(r.ticks).toBeGreaterThanOrEqual(Math.max(5, r.ms / 100));
    expect(r.maxGap).toBeLessThan(250);
  });
});
