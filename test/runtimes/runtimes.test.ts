// One package, several runtimes: the packed tarball (as users get it) runs the same
// smoke-and-train script in Node, Deno, Bun and workerd; the losses must fall and be
// bit-identical across runtimes, and a bad call must raise a NablaError with its code.
// Chromium runs the same routine in test/browser/runtimes.test.ts, held to Node's losses.
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, packedProject, runSmoke, type SmokeResult } from "./project.js";

let project = "";

beforeAll(() => {
  project = packedProject("nabla-runtimes-");
  // Deno imports the package by its npm: specifier, resolved from the project's own
  // node_modules ("manual": Deno neither installs nor checks the registry).
  writeFileSync(join(project, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", imports: { nabla: "npm:nabla" } }));
}, 60_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

// A registry nobody listens on: a runtime that tried to download the package would fail.
const offline = { NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/" };
const run = (cmd: string, args: string[]) => runSmoke(project, cmd, args, offline);

describe("runtimes", () => {
  const results: Record<string, SmokeResult> = {};

  it.each([
    ["node", () => run(process.execPath, ["smoke.mjs"])],
    ["deno", () => run(bin("deno"), ["run", "--allow-read", "--allow-env", "smoke.mjs"])],
    ["bun", () => run(bin("bun"), ["smoke.mjs"])],
  ])("%s trains the seeded model and raises typed errors", (name, go) => {
    const r = go();
    results[name] = r;
    expect(r.info.simd).toBe(true);
    expect(r.losses).toHaveLength(20);
    expect(r.losses[19]).toBeLessThan(r.losses[0]);
    expect(r.error).toEqual({ name: "ShapeError", code: "SHAPE_MISMATCH", isNablaError: true });
  }, 60_000);

  it("workerd (Cloudflare Workers) trains on a request, with the .wasm imported as a module", async () => {
    // The package's "workerd" export, as a bundler for Workers resolves it: modules by name.
    const dist = "node_modules/nabla/dist"; // embed paths are relative to the config file
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      join(project, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "train.mjs", esModule = embed "train.mjs"),
    (name = "nabla", esModule = embed "${dist}/workerd.js"),
    (name = "core.js", esModule = embed "${dist}/core.js"),
    (name = "nabla_bg.wasm", wasm = embed "${dist}/nabla_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
`,
    );
    const server = spawn(bin("workerd"), ["serve", "config.capnp"], { cwd: project, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    server.stderr.on("data", (d) => (stderr += d));
    try {
      let response: Response | undefined;
      for (let i = 0; i < 100 && !response; i++) {
        response = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        if (!response) await new Promise((r) => setTimeout(r, 100));
      }
      expect(response, stderr).toBeDefined();
      const r = (await response!.json()) as SmokeResult;
      results.workerd = r;
      expect(r.info.simd).toBe(true);
      expect(r.error).toEqual({ name: "ShapeError", code: "SHAPE_MISMATCH", isNablaError: true });
    } finally {
      server.kill();
    }
  }, 60_000);

  it("the losses are bit-identical in every runtime", () => {
    expect(Object.keys(results).sort()).toEqual(["bun", "deno", "node", "workerd"]);
    for (const name of ["deno", "bun", "workerd"]) expect(results[name]!.losses, name).toEqual(results.node!.losses);
  });
});

describe("training in a Web Worker (nb.trainInWorker / nb.serveTraining)", () => {
  interface WorkerRun {
    events: ({ type: "batch"; batch: number } | { type: "epoch"; loss: number })[];
    losses: number[];
    aborted: boolean;
    modelBytes: number;
    reloadedLoss: number;
    error: SmokeResult["error"];
  }
  const runs: Record<string, WorkerRun> = {};

  // Node's worker_threads and Chromium's Worker are tested in packages/nabla and
  // test/browser; these are the other runtimes with a Web Worker.
  it.each([
    ["deno", () => run(bin("deno"), ["run", "--allow-read", "--allow-env", "web-worker-main.mjs"])],
    ["bun", () => run(bin("bun"), ["web-worker-main.mjs"])],
  ])("%s: progress per batch and epoch, the loss falls, the model comes back, errors arrive typed", (name, go) => {
    const r = go() as unknown as WorkerRun;
    runs[name] = r;
    // 4 epochs of 64 samples in batches of 16: 4 batch events then an epoch event, 4 times.
    const epoch = [0, 1, 2, 3].map((batch) => ({ type: "batch", batch }));
    expect(r.events.map((e) => (e.type === "epoch" ? { type: "epoch" } : e))).toEqual([...Array(4)].flatMap(() => [...epoch, { type: "epoch" }]));
    expect(r.losses).toHaveLength(4);
    expect(r.losses[3]).toBeLessThan(r.losses[0]!);
    expect(r.events.filter((e) => e.type === "epoch").map((e) => (e as { loss: number }).loss)).toEqual(r.losses);
    expect(r.aborted).toBe(false);
    expect(r.modelBytes).toBeGreaterThan(100);
    // The reloaded model is the trained one: its loss on the training data is below the first epoch's.
    expect(r.reloadedLoss).toBeLessThan(r.losses[0]!);
    expect(r.error).toEqual({ name: "ShapeError", code: "SHAPE_MISMATCH", isNablaError: true });
  }, 60_000);

  it("Deno and Bun train bit-identically in their workers", () => {
    expect(Object.keys(runs).sort()).toEqual(["bun", "deno"]);
    expect(runs.bun!.losses).toEqual(runs.deno!.losses);
    expect(runs.bun!.reloadedLoss).toBe(runs.deno!.reloadedLoss);
  });
});
