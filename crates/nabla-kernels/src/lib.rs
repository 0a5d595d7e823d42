//! nabla-kernels: raw slice kernels by family. Each has a plain scalar reference
//! (`*_scalar`) and a SIMD version written in [`simd::F32x4`] (`*_simd128`); the
//! unsuffixed name dispatches on [`mode`]. Tests hold the two to each other on odd
//! sizes, natively (lane-emulated `F32x4`) and in wasm (real SIMD128, through
//! `nb.reference` in the test build: see [`REFERENCE_KERNELS`]). Also the error type
//! and the seeded generator that the kernels and nabla-core share.
//!
//! A crate of its own so that the release profile can build it for speed
//! (opt-level 3) while nabla-core's orchestration is built for size: see the
//! workspace Cargo.toml. nabla-core re-exports it as `nabla_core::kernels`.

pub mod error;
pub mod rng;

pub mod binary;
mod binary_scalar;
mod binary_simd128;
pub mod conv;
mod conv_scalar;
mod conv_simd128;
pub mod focal;
pub mod map;
pub mod matmul;
mod matmul_scalar;
mod matmul_simd128;
pub mod norm;
pub mod optim;
pub mod pointwise;
pub mod pool;
mod pool_scalar;
mod pool_simd128;
pub mod recurrent;
pub mod reduce;
mod reduce_scalar;
mod reduce_simd128;
pub mod simd;
pub mod softmax;
pub mod unary;
mod unary_scalar;
mod unary_simd128;

use std::cell::Cell;

pub use matmul::{gemm, gemm_scalar, gemm_simd128, micro_kernel_peak, MatRef};

/// `v.resize(n, 0.0)`, built here (opt-level 3), where the zero fill becomes a memset;
/// built in nabla-core (for size) it fills value by value.
pub fn resize_zeroed(v: &mut Vec<f32>, n: usize) {
    v.resize(n, 0.0);
}

/// `v` cleared and refilled with `n` zeros (its capacity reused), as a slice: a loss's
/// buffer before a step writes it.
pub fn zeroed(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    v.clear();
    resize_zeroed(v, n);
    v
}

/// Which twin the dispatching kernels run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The SIMD128 kernels (the default).
    Simd,
    /// The scalar reference kernels: slow, for checking the SIMD ones.
    Scalar,
}

/// Whether [`set_mode`] can select the scalar twins: natively always, in wasm only with
/// the `reference` feature (the test build). The shipped .wasm dispatches to SIMD
/// unconditionally, so its twins have no caller and are not linked: 24 KB raw, 14 KB
/// gzip of code no user runs.
pub const REFERENCE_KERNELS: bool = cfg!(any(not(target_arch = "wasm32"), feature = "reference"));

thread_local! {
    // Per thread so parallel native tests cannot switch each other's kernels.
    static MODE: Cell<Mode> = const { Cell::new(Mode::Simd) };
}

pub fn mode() -> Mode {
    if REFERENCE_KERNELS {
        MODE.with(Cell::get)
    } else {
        Mode::Simd
    }
}

pub fn set_mode(mode: Mode) {
    MODE.with(|m| m.set(mode));
}

/// Runs `f` with the kernels in `mode`, restoring the previous mode afterwards.
pub fn with_mode<R>(mode: Mode, f: impl FnOnce() -> R) -> R {
    let before = self::mode();
    set_mode(mode);
    let r = f();
    set_mode(before);
    r
}
