// nabla: train neural networks anywhere JavaScript runs. The public API.

export { init, info } from "./init.js";
export type { Info, InitOptions, WasmSource } from "./init.js";
export { VERSION as version } from "./version.js";
export { Tensor, tensor } from "./tensor.js";
export type { NestedArray, TensorData } from "./tensor.js";
export { matmul, reference, internal } from "./ops.js";
export { NablaError, ShapeError, ValueError, StateError, FormatError, InternalError } from "./errors.js";
export type { ErrorCode, ErrorFields } from "./errors.js";
