// What the page offers, shared by the page (main.js) and its worker (worker.js).
import { CLASSIFICATION_LOSSES, REGRESSION_LOSSES } from "../src/catalogue.js";

export const MODELS = {
  MLP: { task: "mnist", epochs: 15, label: "MLP · MNIST digits" },
  CNN: { task: "mnist", epochs: 5, label: "CNN · MNIST digits" },
  LSTM: { task: "co2", epochs: 60, label: "LSTM · Mauna Loa CO2" },
  GRU: { task: "co2", epochs: 60, label: "GRU · Mauna Loa CO2" },
};

/** Per task: the losses that fit it, batch size, learning rate, and what nb.losses.advise is asked. */
export const TASKS = {
  mnist: { losses: CLASSIFICATION_LOSSES, batchSize: 64, learningRate: 1e-3, question: (model) => ({ task: "multiclass", output: "logits", network: model === "CNN" ? "cnn" : "mlp" }) },
  co2: { losses: REGRESSION_LOSSES, batchSize: 16, learningRate: 3e-3, question: (_model, outliers) => ({ task: "regression", network: "rnn", ...(outliers ? { outliers: true } : {}) }) },
};
