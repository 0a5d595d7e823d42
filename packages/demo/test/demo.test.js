// The demo as users run it: the CLI in a child process (stderr is a pipe here, so it
// prints one line per finished run instead of a progress bar).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../../test/browser/chromium.ts";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));
const dirs = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "nabla-demo-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the CLI; `onStderr(text, child)` sees stderr as it arrives. */
function cli(args, { onStderr } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => {
      stderr += b;
      onStderr?.(stderr, child);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * Opens the report in headless Chromium as a reader would (from disk, no server), takes a
 * full-page screenshot, and checks what is drawn: every chart laid out with its curves,
 * both tables with their rows, and the curves' colors present in the pixels.
 */
async function renderedInChromium(file, screenshot) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const failed = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    await page.goto(`file://${file}`);
    const drawn = await page.evaluate(() => {
      const box = (el) => el.getBoundingClientRect();
      const charts = [...document.querySelectorAll("svg.run-chart, svg.compare-chart")];
      return {
        charts: charts.length,
        chartsLaidOut: charts.filter((c) => box(c).width >= 400 && box(c).height >= 100).length,
        // A curve per run: a path of at least two points with a visible extent.
        runsWithCurves: [...document.querySelectorAll("svg.run-chart")].filter((c) =>
          [...c.querySelectorAll("path")].some((p) => (p.getAttribute("d").match(/L/g) ?? []).length >= 1 && p.getBBox().width > 50)).length,
        tableRows: [...document.querySelectorAll("table.results")].map((t) => [...t.tBodies[0].rows].filter((r) => box(r).height > 0).length),
        pageHeight: document.documentElement.scrollHeight,
      };
    });
    expect(drawn.charts).toBe(22);
    expect(drawn.chartsLaidOut).toBe(22);
    expect(drawn.runsWithCurves).toBe(20);
    expect(drawn.tableRows).toEqual([8, 6]);
    expect(failed).toEqual([]); // self-contained: nothing to fetch

    const png = await page.screenshot({ path: screenshot, fullPage: true });
    // PNG header: the whole page's width and height.
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(Math.min(drawn.pageHeight, 16384) - 1);
    // Decode the screenshot in the page and count pixels in the curves' colors
    // (train blue #2563eb, test red #dc2626): the charts were painted, not just laid out.
    const pixels = await page.evaluate(async (b64) => {
      const img = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
      const canvas = new OffscreenCanvas(img.width, img.height);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, img.width, img.height).data;
      const near = (i, r, g, b) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 40;
      let blue = 0, red = 0, white = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (near(i, 0x25, 0x63, 0xeb)) blue++;
        else if (near(i, 0xdc, 0x26, 0x26)) red++;
        else if (near(i, 255, 255, 255)) white++;
      }
      return { blue, red, white, total: d.length / 4 };
    }, png.toString("base64"));
    expect(pixels.blue).toBeGreaterThan(20 * 200); // 20 runs' train curves, hundreds of pixels each
    expect(pixels.red).toBeGreaterThan(20 * 100);
    expect(pixels.white / pixels.total).toBeLessThan(0.97);
  } finally {
    await browser.close();
  }
}

describe("./dev.sh demo (packages/demo/src/main.js)", () => {
  it("--quick trains every run, prints the tables and the advisor's verdicts, and writes a self-contained report", async () => {
    const out = tempDir();
    const { code, stdout, stderr } = await cli(["--quick", "--out", out]);
    expect(code, stderr).toBe(0);

    // One plain line per finished run on stderr (not a terminal here).
    const finished = stderr.split("\n").filter((l) => /^\[\s*\d+\/20\] .*: \d+ epochs · /.test(l));
    expect(finished).toHaveLength(20);

    // The tables: 8 MNIST rows (2 models × 4 losses), 6 CO2 rows (2 models × 3 losses).
    expect(stdout).toContain("MNIST digits: classification");
    expect(stdout).toMatch(/model\s+loss\s+epochs\s+test acc\s+train loss\s+test loss\s+train time\s+samples\/s/);
    expect(stdout.match(/^(MLP|CNN)\s+\S.*%/gm)).toHaveLength(8);
    expect(stdout).toContain("Mauna Loa CO2: forecasting");
    expect(stdout).toMatch(/model\s+loss\s+epochs\s+RMSE clean\s+RMSE outliers\s+change/);
    expect(stdout.match(/^(LSTM|GRU)\s+(mse|mae|huber)\b.*\d\.\d{3}\s+\d\.\d{3}/gm)).toHaveLength(6);
    // The advisor, per model (and per condition for CO2), with a verdict.
    expect(stdout.match(/nb\.losses\.advise\(/g)).toHaveLength(6);
    expect(stdout.match(/measured → /g)).toHaveLength(6);
    expect(stdout).toContain("done: 20 of 20 runs");

    const reportLine = /^report: (.+)$/m.exec(stdout);
    expect(reportLine).not.toBeNull();
    const file = reportLine[1];
    expect(file).toBe(join(out, "index.html"));
    expect(existsSync(file)).toBe(true);
    const html = readFileSync(file, "utf8");
    // One chart per run, plus the two side-by-side comparisons.
    expect(html.match(/<svg class="run-chart"/g)).toHaveLength(20);
    expect(new Set(html.match(/data-run="run-\d+"/g)).size).toBe(20);
    expect(html.match(/<svg class="compare-chart"/g)).toHaveLength(2);
    // The tables and the advisor's reasons.
    expect(html.match(/<table class="results">/g)).toHaveLength(2);
    expect(html).toContain("<th class=\"right\">test acc</th>");
    expect(html).toContain("<th class=\"right\">RMSE outliers</th>");
    expect(html).toContain("an outlier&#39;s gradient is bounded by delta");
    // Self-contained: no scripts, stylesheets, images or fonts from elsewhere.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|url\(/i);
    expect(existsSync(join(out, "results.json"))).toBe(true);

    await renderedInChromium(file, join(out, "report.png"));
  }, 90_000);

  it("an unknown flag prints the usage and exits 2", async () => {
    const { code, stdout, stderr } = await cli(["--frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown option: --frobnicate");
    expect(stderr).toContain("usage: ./dev.sh demo [options]");
    expect(stdout).toBe("");
  });

  it("bad values print the usage and exit 2; --help prints it and exits 0", async () => {
    for (const args of [["--epochs", "0"], ["--epochs", "two"], ["--epochs"], ["--out"], ["--quick", "--full"], ["--quick=1"]]) {
      const { code, stderr } = await cli(args);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toContain("usage: ./dev.sh demo [options]");
    }
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--no-report");
  });

  it("Ctrl-C (SIGINT) stops the current run, prints what finished, writes the report and exits 130", async () => {
    const out = tempDir();
    let sent = false;
    const { code, stdout, stderr } = await cli(["--quick", "--out", out], {
      onStderr: (text, child) => {
        // After the second run finished, during the third.
        if (!sent && /^\[ ?2\/20\] /m.test(text)) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted after \d+ of \d+ epochs|stopped before/);
    expect(stdout).toContain("MNIST digits: classification");
    expect(stdout).not.toContain("Mauna Loa CO2: forecasting");
    expect(stdout).toMatch(/interrupted: [23] of 20 runs/);
    const html = readFileSync(join(out, "index.html"), "utf8");
    expect(html).toContain("Interrupted (Ctrl-C)");
    expect((html.match(/<svg class="run-chart"/g) ?? []).length).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
