// nabla: train neural networks anywhere JavaScript runs. The public API.

export { init, info } from "./init.js";
export type { Info, InitOptions, WasmModule, WasmSource } from "./init.js";
export { VERSION as version } from "./version.js";
export { Tensor, tensor, zeros, ones, full, randn, randUniform, memory, tidy, keep, dispose } from "./tensor.js";
export type { DType, MemoryInfo, NestedArray, RandomOptions, TensorData, TidyResult } from "./tensor.js";
export {
  add, sub, mul, div, pow, maximum, minimum,
  neg, abs, square, sqrt, relu, exp, expm1, log, log1p, tanh, sigmoid, logSigmoid, softplus, erf, gelu, geluTanh, silu,
  clip, where, sum, mean, max, logSumExp, argmax, softmax, logSoftmax, matmul, transpose, reshape,
  conv1d, conv2d, maxPool1d, maxPool2d, avgPool1d, avgPool2d, globalAvgPool1d, globalAvgPool2d,
  reference, internal,
} from "./ops.js";
export type { Conv1dOptions, Conv2dOptions, Padding, Pool1dOptions, Pool2dOptions, ReduceOptions, TensorLike } from "./ops.js";
export { grad, valueAndGrad, vjp } from "./grad.js";
export * as losses from "./losses.js";
export * as optim from "./optim.js";
export * as layers from "./layers.js";
export { loadModel, sequential, Sequential } from "./model.js";
export { layer, Layer } from "./layer.js";
export type { ApplyOptions, LayerOptions, LayerOutput } from "./layer.js";
export * as callbacks from "./callbacks.js";
export type { Callbacks, CompileOptions, EpochLogs, FitOptions, History, MetricSpec, SaveOptions, SequentialOptions } from "./model.js";
export type {
  Activation, BidirectionalLstmOutputs, BidirectionalRnnOutputs, Initializer, LayerSpec, LstmConfig, LstmOutputs, RecurrentConfig, RnnOutputs,
} from "./layers.js";
export type { AdagradConfig, AdamConfig, Optimizer, OptimizerConfig, RmspropConfig, Schedule, SgdConfig } from "./optim.js";
export type { Advice, AdviseQuestion, AnyLossConfig, Loss, LossCallOptions, LossConfig, LossFactory, LossInput, Reduction } from "./losses.js";
export type { ValueAndGrad } from "./grad.js";
export { NablaError, ShapeError, ValueError, StateError, FormatError, GradientError, NumericError, InternalError } from "./errors.js";
export type { ErrorCode, ErrorFields } from "./errors.js";
export { serveTraining, trainInWorker, type TrainingContext, type TrainingHandler, type TrainingProgress, type TrainingResult, type TrainingRun, type TrainingSpec, type TrainInWorkerOptions, type WorkerLike } from "./worker.js";
