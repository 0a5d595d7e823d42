// The models and losses the demos train, shared by the CLI (experiments.js) and the
// browser page (web/): layer stacks per architecture and the losses that fit each task.
// Browser-safe: it imports nabla only.
import * as nb from "nabla";

/** The seed of every model's weights, dropout and shuffling. */
export const SEED = 1;
/** The CO2 training targets with outliers: this fraction spiked by size..2·size standard deviations. */
export const OUTLIERS = { fraction: 0.05, size: 10, seed: 7 };

const conv = (filters) => nb.layers.conv2d({ filters, kernelSize: 3, padding: "same", activation: "relu" });

/** Layer stacks. `softmax: true` ends the classifier in a softmax (for mse on probabilities). */
export const ARCH = {
  MLP: {
    inputShape: [784],
    layers: ({ softmax }) => [nb.layers.dense({ units: 128, activation: "relu" }), nb.layers.dense({ units: 10, ...(softmax ? { activation: "softmax" } : {}) })],
    text: "dense 128 relu → dense 10",
  },
  CNN: {
    inputShape: [28, 28, 1],
    layers: ({ softmax }) => [
      conv(8),
      nb.layers.maxPool2d({ poolSize: 2 }),
      conv(16),
      nb.layers.maxPool2d({ poolSize: 2 }),
      nb.layers.flatten(),
      nb.layers.dense({ units: 10, ...(softmax ? { activation: "softmax" } : {}) }),
    ],
    text: "conv 8@3×3 same relu → maxPool 2 → conv 16@3×3 same relu → maxPool 2 → flatten → dense 10",
  },
  LSTM: { inputShape: [24, 1], layers: () => [nb.layers.lstm({ units: 32 }), nb.layers.dense({ units: 1 })], text: "lstm 32 → dense 1" },
  GRU: { inputShape: [24, 1], layers: () => [nb.layers.gru({ units: 32 }), nb.layers.dense({ units: 1 })], text: "gru 32 → dense 1" },
};

export const archText = (model) => ARCH[model].text;

/** The classification losses: what each takes and what the model must output for it. */
export const CLASSIFICATION_LOSSES = [
  { key: "ce", spec: { name: "crossEntropy", config: { fromLogits: true } }, label: "crossEntropy (logits)", output: "logits", targets: "int32 labels" },
  { key: "ceSmooth", spec: { name: "crossEntropy", config: { fromLogits: true, labelSmoothing: 0.1 } }, label: "crossEntropy (logits, smoothing 0.1)", output: "logits", targets: "int32 labels" },
  { key: "focal", spec: { name: "focal", config: { fromLogits: true } }, label: "focal (logits, γ 2, α 0.25)", output: "logits", targets: "int32 labels" },
  { key: "mse", spec: { name: "mse", config: {} }, label: "mse (softmax, one-hot) ⚠", output: "probabilities", targets: "one-hot float32", cautionary: true },
];

export const REGRESSION_LOSSES = [
  { key: "mse", spec: { name: "mse", config: {} }, label: "mse" },
  { key: "mae", spec: { name: "mae", config: {} }, label: "mae" },
  { key: "huber", spec: { name: "huber", config: { delta: 1 } }, label: "huber (δ 1)" },
];
