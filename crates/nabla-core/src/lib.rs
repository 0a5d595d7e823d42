//! nabla-core: tensors, autograd, layers, losses, optimizers and models over the
//! SIMD128 kernels of nabla-kernels (re-exported as `kernels`, with its `error` and
//! `rng`). Pure Rust, no wasm-bindgen: `cargo test` runs natively.

pub use nabla_kernels as kernels;
pub use nabla_kernels::{error, rng};

pub mod autograd;
pub mod json;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod optim;
pub mod runtime;
pub mod shape;
pub mod tensor;

pub use autograd::Op;
pub use error::{Code, Error, Result};
pub use rng::Rng;
pub use runtime::{Memory, Runtime};
pub use shape::Shape;
pub use tensor::{DType, Tensor};

/// The crate version, reported by `nb.info()` and checked against the JS package's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether this build's kernels run on WebAssembly SIMD128 instructions.
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// Switches every dispatching kernel to its scalar reference twin (`true`) or back to
/// SIMD (`nb.reference`). Only a build with the twins can: natively, or the test .wasm.
pub fn use_reference_kernels(on: bool) -> Result<()> {
    if on && !kernels::REFERENCE_KERNELS {
        return Err(Error::state(
            "reference",
            "a build of nabla with its scalar reference kernels (the test build, cargo feature `reference`)",
            "the shipped build, which has the SIMD128 kernels only",
        ));
    }
    kernels::set_mode(if on { kernels::Mode::Scalar } else { kernels::Mode::Simd });
    Ok(())
}
