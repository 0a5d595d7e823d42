//! Raw slice kernels by family. Each has a plain scalar reference (`*_scalar`, always
//! compiled) and a SIMD version written in [`F32x4`] (`*_simd128`); the unsuffixed
//! name dispatches. Tests hold the two to each other on odd sizes.

pub mod matmul;
mod matmul_scalar;
mod matmul_simd128;
pub mod simd;

pub use matmul::{gemm, gemm_scalar, gemm_simd128, MatRef};
