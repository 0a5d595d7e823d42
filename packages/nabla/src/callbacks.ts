// Callbacks for `fit`: plain objects with hooks, so users can write their own.

import { argError, ValueError } from "./errors.js";
import type { Callbacks, EpochLogs, Sequential } from "./model.js";
import type { Tensor } from "./tensor.js";

export interface MonitorOptions {
  /** The log key to watch: "valLoss" (default when validation runs; else "loss"), "accuracy", ... */
  monitor?: string;
  /** "min" for losses (default), "max" for accuracies; "auto" picks by the name. */
  mode?: "min" | "max" | "auto";
  /** The smallest change that counts as an improvement. */
  minDelta?: number;
  /** Epochs without improvement to wait. */
  patience?: number;
}

function watcher(op: string, o: MonitorOptions) {
  const minDelta = o.minDelta ?? 0;
  const patience = o.patience ?? 0;
  if (!(minDelta >= 0)) throw argError(ValueError, "INVALID_ARGUMENT", op, "minDelta", "a number ≥ 0", String(minDelta));
  if (!Number.isInteger(patience) || patience < 0) throw argError(ValueError, "INVALID_ARGUMENT", op, "patience", "an integer ≥ 0", String(patience));
  let best: number | undefined;
  let wait = 0;
  return {
    /** Returns "improved", "waiting" or "exhausted" for this epoch's logs. */
    check(logs: EpochLogs): { key: string; state: "improved" | "waiting" | "exhausted" } {
      const key = o.monitor ?? ("valLoss" in logs ? "valLoss" : "loss");
      const value = logs[key];
      if (value === undefined) throw argError(ValueError, "INVALID_ARGUMENT", op, "monitor", `a key of the epoch logs (${Object.keys(logs).join(", ")})`, `"${key}"`);
      const mode = o.mode && o.mode !== "auto" ? o.mode : /acc|precision|recall|f1/i.test(key) ? "max" : "min";
      const better = best === undefined || (mode === "min" ? value < best - minDelta : value > best + minDelta);
      if (better) {
        best = value;
        wait = 0;
        return { key, state: "improved" };
      }
      wait++;
      // As Keras: after `patience` epochs without improvement (at the first one for 0).
      return { key, state: wait >= Math.max(patience, 1) ? "exhausted" : "waiting" };
    },
    reset() {
      best = undefined;
      wait = 0;
    },
  };
}

/**
 * Stops training when the monitored value stops improving for `patience` epochs;
 * with `restoreBestWeights`, puts back the weights of the best epoch. See: keras EarlyStopping.
 */
export function earlyStopping(options: MonitorOptions & { restoreBestWeights?: boolean } = {}): Callbacks {
  const w = watcher("earlyStopping", options);
  let bestWeights: Tensor[] | undefined;
  const drop = () => {
    bestWeights?.forEach((t) => t.dispose());
    bestWeights = undefined;
  };
  return {
    onTrainBegin() {
      w.reset();
      drop();
    },
    onEpochEnd(_epoch: number, logs: EpochLogs, model: Sequential) {
      const { state } = w.check(logs);
      if (state === "improved" && options.restoreBestWeights) {
        drop();
        bestWeights = model.getWeights();
      }
      if (state === "exhausted") model.stopTraining = true;
    },
    onTrainEnd(model: Sequential) {
      if (options.restoreBestWeights && bestWeights) model.setWeights(bestWeights);
      drop();
    },
  };
}

/** Multiplies the learning rate by `factor` after `patience` epochs without improvement. See: keras ReduceLROnPlateau. */
export function reduceLROnPlateau(options: MonitorOptions & { factor?: number; minLr?: number; cooldown?: number } = {}): Callbacks {
  const factor = options.factor ?? 0.1;
  if (!(factor > 0 && factor < 1)) throw argError(ValueError, "INVALID_ARGUMENT", "reduceLROnPlateau", "factor", "a number in (0, 1)", String(factor));
  const minLr = options.minLr ?? 0;
  const w = watcher("reduceLROnPlateau", { patience: 10, ...options });
  let cooldown = 0;
  return {
    onTrainBegin() {
      w.reset();
      cooldown = 0;
    },
    onEpochEnd(_epoch: number, logs: EpochLogs, model: Sequential) {
      const { state } = w.check(logs);
      if (cooldown > 0) {
        cooldown--;
        return;
      }
      if (state === "exhausted") {
        model.learningRate = Math.max(model.learningRate * factor, minLr);
        w.reset();
        cooldown = options.cooldown ?? 0;
      }
    },
  };
}
