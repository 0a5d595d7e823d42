// The loss chart: a canvas with the loss of every batch (faint), its moving average,
// and per epoch the training loss and the test loss, on a log-scale y axis (losses
// span decades as a model learns). Drawn on demand, sized to the canvas's CSS box.
const COLORS = { batch: "rgba(37, 99, 235, 0.22)", smooth: "#2563eb", train: "#1d4ed8", test: "#ea580c", grid: "#e5e7eb", text: "#4b5563" };

export function lossChart(canvas) {
  let batches = []; // [step, loss]
  let smooth = [];
  let epochs = []; // [step, train, test]
  let ema;

  function reset() {
    batches = [];
    smooth = [];
    epochs = [];
    ema = undefined;
  }

  function addBatch(step, loss) {
    if (!Number.isFinite(loss)) return;
    batches.push([step, loss]);
    // An exponential moving average over about 10 batches: the trend through the noise.
    ema = ema === undefined ? loss : 0.9 * ema + 0.1 * loss;
    smooth.push([step, ema]);
  }

  function addEpoch(step, train, test) {
    epochs.push([step, train, test]);
  }

  function draw() {
    const dpr = globalThis.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = "12px system-ui, sans-serif";
    const pad = { left: 52, right: 12, top: 10, bottom: 22 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    if (batches.length === 0) {
      g.fillStyle = COLORS.text;
      g.fillText("the loss appears here as the model trains", pad.left, pad.top + plotH / 2);
      return;
    }
    // The y range follows the trend lines (the average, epoch points) and not every noisy batch.
    const values = [...smooth.map((p) => p[1]), ...epochs.flatMap((e) => [e[1], e[2]])].filter((v) => Number.isFinite(v) && v > 0);
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi / lo < 10) {
      const mid = Math.sqrt(hi * lo);
      [lo, hi] = [mid / Math.sqrt(10), mid * Math.sqrt(10)];
    }
    const l0 = Math.log10(lo) - 0.05;
    const l1 = Math.log10(hi) + 0.05;
    const xMax = Math.max(batches[batches.length - 1][0], ...epochs.map((e) => e[0]), 1);
    const X = (step) => pad.left + (step / xMax) * plotW;
    const Y = (v) => pad.top + (1 - (Math.log10(Math.max(v, 1e-30)) - l0) / (l1 - l0)) * plotH;

    // Grid: 1, 2 and 5 times each power of ten in range.
    g.strokeStyle = COLORS.grid;
    g.fillStyle = COLORS.text;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (Math.log10(v) < l0 || Math.log10(v) > l1) continue;
        g.beginPath();
        g.moveTo(pad.left, Y(v));
        g.lineTo(pad.left + plotW, Y(v));
        g.stroke();
        g.fillText(v >= 1000 || v < 0.001 ? v.toExponential(0) : String(+v.toPrecision(1)), pad.left - 6, Y(v));
      }
    }
    // x: training steps, labelled by epoch where each one ends (as many as fit).
    g.textAlign = "center";
    g.textBaseline = "top";
    let lastLabel = -Infinity;
    epochs.forEach(([step], i) => {
      g.beginPath();
      g.moveTo(X(step), pad.top);
      g.lineTo(X(step), pad.top + plotH);
      g.stroke();
      if (X(step) - lastLabel < 28) return;
      g.fillText(String(i + 1), X(step), pad.top + plotH + 4);
      lastLabel = X(step);
    });
    g.fillText("epoch", pad.left - 24, pad.top + plotH + 4);

    g.save();
    g.beginPath();
    g.rect(pad.left, pad.top, plotW, plotH);
    g.clip();
    const line = (points, color, lineWidth) => {
      g.strokeStyle = color;
      g.lineWidth = lineWidth;
      g.beginPath();
      points.forEach(([s, v], i) => (i === 0 ? g.moveTo(X(s), Y(v)) : g.lineTo(X(s), Y(v))));
      g.stroke();
    };
    line(batches, COLORS.batch, 1);
    line(smooth, COLORS.smooth, 2);
    const dots = (index, color) => {
      g.fillStyle = color;
      for (const e of epochs) {
        if (!Number.isFinite(e[index])) continue;
        g.beginPath();
        g.arc(X(e[0]), Y(e[index]), 4, 0, 2 * Math.PI);
        g.fill();
      }
    };
    dots(1, COLORS.train);
    dots(2, COLORS.test);
    g.restore();
  }

  return { reset, addBatch, addEpoch, draw, colors: COLORS };
}
