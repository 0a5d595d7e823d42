// The browser demo page (packages/demo/web) as a visitor sees it: built with Vite into a
// temporary directory, served over HTTP, opened in headless Chromium. Training runs in
// the page's Web Worker: the reported loss falls while the page keeps drawing frames and
// answering at once, the page's own thread never loads nabla's wasm, and Stop stops.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, serveDir } from "./chromium.js";

const CONFIG = fileURLToPath(new URL("../../packages/demo/vite.config.js", import.meta.url));

let outDir: string;
let server: { url: string; close: () => Promise<void> };
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "nabla-demo-page-"));
  await build({ configFile: CONFIG, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  server = await serveDir(outDir);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => void (m.type() === "error" && pageErrors.push(m.text())));
  await page.goto(server.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

interface Sample {
  t: number;
  roundTrip: number;
  state: string;
  loss: number;
  frames: number;
}

/** Polls the page every `every` ms until `until(sample)`, timing each round trip into the page. */
async function watch(until: (s: Sample) => boolean, every = 100, timeout = 20_000): Promise<Sample[]> {
  const samples: Sample[] = [];
  const t0 = Date.now();
  for (;;) {
    const start = Date.now();
    const s = await page.evaluate(() => ({
      state: document.getElementById("status")!.dataset.state!,
      loss: Number(document.getElementById("live-loss")!.dataset.value || NaN),
      frames: Number(document.getElementById("frames")!.dataset.count),
    }));
    const sample = { ...s, t: start - t0, roundTrip: Date.now() - start };
    samples.push(sample);
    if (until(sample)) return samples;
    if (Date.now() - t0 > timeout) throw new Error(`timed out; last: ${JSON.stringify(sample)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

describe("the browser demo page", () => {
  it("builds into a small page: the data packs are compressed and the page's own script holds no wasm", () => {
    const assets = readdirSync(join(outDir, "assets")).map((f) => ({ f, size: statSync(join(outDir, "assets", f)).size }));
    const find = (re: RegExp) => assets.filter((a) => re.test(a.f));
    expect(find(/\.wasm$/)).toHaveLength(1);
    expect(find(/^mnist.*\.gz$/)[0]!.size).toBeLessThan(1_200_000);
    expect(find(/^co2.*\.gz$/)[0]!.size).toBeLessThan(100_000);
    const total = assets.reduce((a, x) => a + x.size, 0);
    expect(total).toBeLessThan(2_500_000);
    for (const script of find(/^index-.*\.js$/)) expect(script.size).toBeLessThan(60_000);
  });

  it("trains an MLP in its worker: the loss falls while the page keeps drawing and answering", async () => {
    // The advisor's answer comes from the worker: once it shows, the worker is running.
    await page.waitForSelector("#advice .verdict", { timeout: 15_000 });
    await page.selectOption("#model", "MLP");
    await page.selectOption("#loss", "ce");
    expect(await page.textContent("#advice .verdict")).toBe("Your choice is the advisor's pick.");
    await page.fill("#epochs", "12");
    await page.click("#train");

    const samples = await watch((s) => s.state === "done" || s.state === "error");
    const during = samples.filter((s) => s.state === "training" && Number.isFinite(s.loss));
    expect(samples.at(-1)!.state).toBe("done");
    expect(during.length).toBeGreaterThanOrEqual(5);
    // The loss reported over time falls: the last reading under half the first, and the
    // later half of the readings below the earlier half on average.
    const losses = during.map((s) => s.loss);
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    const half = Math.floor(losses.length / 2);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(losses.slice(half))).toBeLessThan(mean(losses.slice(0, half)));

    // Responsive throughout: every round trip into the page was quick, frames kept coming,
    // and the page's own longest pause while training was short.
    expect(Math.max(...samples.map((s) => s.roundTrip))).toBeLessThan(250);
    const seconds = (during.at(-1)!.t - during[0]!.t) / 1000;
    expect(during.at(-1)!.frames - during[0]!.frames).toBeGreaterThan(10 * seconds);
    expect(Number(await page.getAttribute("#pause", "data-ms"))).toBeLessThan(200);

    // Every epoch is in the table, and the MLP learned the digits.
    const rows = await page.$$eval("#epochs-table tbody tr", (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    expect(rows).toHaveLength(12);
    expect(Number.parseFloat(rows.at(-1)![4]!)).toBeGreaterThan(85);
    expect(await page.textContent("#result")).toMatch(/Trained 12 epochs .* test accuracy .*Download the model \(\d+ KB, safetensors\)/);
  });

  it("keeps nabla's wasm in the worker: the page's thread never fetched it", async () => {
    const pageResources = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
    expect(pageResources.some((n) => n.endsWith(".wasm"))).toBe(false);
    expect(page.workers()).toHaveLength(1);
    const workerResources = await page.workers()[0]!.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
    expect(workerResources.some((n) => n.endsWith(".wasm"))).toBe(true);
  });

  it("forecasts CO2 with a GRU and huber on outlier-spiked targets: the advisor agrees, the loss falls, RMSE is reported", async () => {
    await page.selectOption("#model", "GRU");
    await page.selectOption("#condition", "outliers");
    await page.selectOption("#loss", "huber");
    await page.waitForSelector('#advice .verdict[data-verdict="match"]');
    await page.fill("#epochs", "20");
    await page.click("#train");
    const samples = await watch((s) => s.state === "done" || s.state === "error");
    expect(samples.at(-1)!.state).toBe("done");
    const rows = await page.$$eval("#epochs-table tbody tr", (trs) => trs.map((tr) => Array.from(tr.children, (td) => td.textContent)));
    expect(rows).toHaveLength(20);
    const trainLoss = rows.map((r) => Number.parseFloat(r[1]!));
    // The training loss includes the spikes, which no forecast fits: it falls, not to zero.
    expect(trainLoss.at(-1)!).toBeLessThan(0.9 * trainLoss[0]!);
    // On the clean test months it beats the naive forecast (last month's value: 1.38 ppm).
    expect(await page.textContent("#test-metric-label")).toMatch(/RMSE/);
    expect(Number.parseFloat((await page.textContent("#test-metric"))!)).toBeLessThan(1.38);
  });

  it("Stop ends a CNN run after its current step; the advisor flags mse on a classifier", async () => {
    await page.selectOption("#model", "CNN");
    await page.selectOption("#loss", "mse");
    await page.waitForSelector('#advice .verdict[data-verdict="differs"]');
    await page.fill("#epochs", "50");
    await page.click("#train");
    await watch((s) => s.state === "training");
    expect(await page.textContent("#warnings")).toContain("model.compile warned: mse");
    const t0 = Date.now();
    await page.click("#stop");
    const samples = await watch((s) => s.state === "stopped" || s.state === "done" || s.state === "error", 50);
    expect(samples.at(-1)!.state).toBe("stopped");
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await page.textContent("#result")).toMatch(/^Stopped after \d+ of 50 epochs/);
    expect(pageErrors).toEqual([]);
  });
});
