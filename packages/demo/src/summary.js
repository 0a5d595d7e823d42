// Turns finished runs into comparison tables and the advisor's verdicts, as data that
// both the console (text tables) and the HTML report render.
import * as nb from "nabla";
import { fixed, int, pct, sameSpec, secs, signedPct, specText } from "./format.js";

/** How close two results must be to count as a tie for one seed. */
export const NOISE = {
  // 2,000 test digits at ~97%: the binomial standard error alone is ±0.4 pp.
  accuracy: 0.005,
  // Test RMSE moved by up to ±5% across seeds 1-6 with otherwise equal settings (test/real/sequence.test.ts).
  rmseRelative: 0.05,
};

const right = (title) => ({ title, align: "right" });
const left = (title) => ({ title, align: "left" });

function classification(results) {
  const runs = results.filter((r) => r.task === "mnist" && r.status === "done");
  if (runs.length === 0) return undefined;
  const columns = [left("model"), left("loss"), right("epochs"), right("test acc"), right("train loss"), right("test loss"), right("train time"), right("samples/s")];
  const rows = runs.map((r) => [r.model, r.label, String(r.epochsDone), pct(r.final.testAccuracy, 2), fixed(r.final.trainLoss, 4), fixed(r.final.testLoss, 4), secs(r.trainSeconds), int(r.samplesPerSecond)]);
  const notes = [
    "losses are in each loss's own units: compare them along a run, not across rows",
    ...[...new Set(runs.flatMap((r) => r.warnings))].map((w) => `compile warned (${runs.filter((r) => r.warnings.includes(w)).map((r) => r.model).join(", ")}): ${w}`),
  ];
  const verdicts = [];
  for (const model of ["MLP", "CNN"]) {
    const mine = runs.filter((r) => r.model === model);
    if (mine.length === 0) continue;
    const question = { task: "multiclass", output: "logits", network: model === "CNN" ? "cnn" : "mlp" };
    verdicts.push(verdict({ model, question, runs: mine, score: (r) => r.final.testAccuracy, better: "higher", show: (r) => pct(r.final.testAccuracy, 2), metric: "test accuracy" }));
  }
  return { title: "MNIST digits: classification", columns, rows, notes, verdicts };
}

function regression(results, data) {
  const runs = results.filter((r) => r.task === "co2" && r.status === "done");
  if (runs.length === 0) return undefined;
  const columns = [left("model"), left("loss"), right("epochs"), right("RMSE clean"), right("RMSE outliers"), right("change"), right("MAE clean"), right("MAE outliers"), right("train time"), right("samples/s")];
  const rows = [];
  for (const model of ["LSTM", "GRU"]) {
    for (const key of ["mse", "mae", "huber"]) {
      const c = runs.find((r) => r.model === model && r.lossKey === key && r.condition === "clean");
      const o = runs.find((r) => r.model === model && r.lossKey === key && r.condition === "outliers");
      const any = c ?? o;
      if (!any) continue;
      const both = [c, o].filter(Boolean);
      rows.push([
        model,
        any.label,
        String(any.epochsDone),
        fixed(c?.final.rmse),
        fixed(o?.final.rmse),
        c && o ? signedPct(o.final.rmse / c.final.rmse - 1) : "–",
        fixed(c?.final.mae),
        fixed(o?.final.mae),
        secs(both.reduce((a, r) => a + r.trainSeconds, 0)),
        int(both.reduce((a, r) => a + r.samplesPerSecond, 0) / both.length),
      ]);
    }
  }
  const { naive, seasonal } = data.co2.baselines;
  const notes = [
    `test RMSE and MAE in ppm, one-step-ahead forecasts on the clean test months; baselines: last value ${naive.toFixed(3)} ppm, last value + last year's change ${seasonal.toFixed(3)} ppm`,
    `outliers: ${data.co2.corrupted} of ${data.co2.nTrain} training targets (5%) raised by +${data.co2.spikePpm[0].toFixed(0)} to +${data.co2.spikePpm[1].toFixed(0)} ppm; test data stay clean`,
    "train time: the clean and the outliers run together",
  ];
  const verdicts = [];
  for (const model of ["LSTM", "GRU"]) {
    for (const condition of ["clean", "outliers"]) {
      const mine = runs.filter((r) => r.model === model && r.condition === condition);
      if (mine.length === 0) continue;
      const question = { task: "regression", network: "rnn", ...(condition === "outliers" ? { outliers: true } : {}) };
      verdicts.push(verdict({ model: `${model}, ${condition}`, question, runs: mine, score: (r) => -r.final.rmse, better: "lower", show: (r) => `${r.final.rmse.toFixed(3)} ppm`, metric: "test RMSE" }));
    }
  }
  return { title: "Mauna Loa CO2: forecasting", columns, rows, notes, verdicts };
}

/**
 * Asks the advisor, finds the measured winner, and says whether they agree: exactly, within
 * one seed's noise, as one of the advisor's listed alternatives, or not at all.
 */
function verdict({ model, question, runs, score, better, show, metric }) {
  const advice = nb.losses.advise(question);
  const adviceSpec = { name: advice.loss, config: advice.config };
  const winner = runs.reduce((a, b) => (score(b) > score(a) ? b : a));
  const advised = runs.find((r) => sameSpec(r.spec, adviceSpec));
  let agrees;
  let text;
  if (!advised) {
    agrees = "n/a";
    text = `the advised loss did not run; measured winner: ${winner.label}, ${show(winner)}`;
  } else if (advised === winner) {
    agrees = "yes";
    text = `the advised loss has the best ${metric}, ${show(winner)}`;
  } else {
    const tie =
      better === "higher"
        ? score(winner) - score(advised) <= NOISE.accuracy
        : -score(advised) <= -score(winner) * (1 + NOISE.rmseRelative);
    const alternative = advice.alternatives.find((a) => sameSpec(winner.spec, { name: a.loss, config: a.config }));
    if (tie) {
      agrees = "within noise";
      text = `${winner.label} is best with ${show(winner)}, the advised ${advised.label} has ${show(advised)}: a gap one seed can move (≤ ${better === "higher" ? `${NOISE.accuracy * 100} pp` : `${NOISE.rmseRelative * 100}%`})`;
    } else if (alternative) {
      agrees = "alternative";
      text = `${winner.label}, ${show(winner)}, beats the advised ${advised.label}, ${show(advised)}; the advisor lists it as the alternative for when ${alternative.when}`;
    } else {
      agrees = "no";
      text = `${winner.label}, ${show(winner)}, beats the advised ${advised.label}, ${show(advised)}`;
    }
  }
  const ranking = [...runs].sort((a, b) => score(b) - score(a)).map((r) => ({ label: r.label, value: show(r) }));
  const questionText = `{ ${Object.entries(question).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")} }`;
  return { model, question, questionText, advice, adviceText: specText(adviceSpec), winner: winner.label, agrees, text, ranking };
}

/** A verdict's `agrees` in words. */
export const VERDICT = { yes: "agrees", "within noise": "agrees within noise", alternative: "the winner is the advisor's alternative", no: "disagrees", "n/a": "not measured" };

export function summarize(results, data) {
  return [classification(results), regression(results, data)].filter(Boolean);
}
