//! Tensor-level ops: validate user shapes, then call the kernels.

mod matmul;

pub use matmul::matmul;
