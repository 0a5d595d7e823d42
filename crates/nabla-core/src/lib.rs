//! nabla-core: tensors, SIMD128 kernels, and (as they land) autograd, layers,
//! losses, optimizers and models. Pure Rust, no wasm-bindgen: `cargo test` runs natively.

pub mod error;
pub mod kernels;
pub mod ops;
pub mod shape;
pub mod tensor;

pub use error::{Code, Error, Result};
pub use shape::Shape;
pub use tensor::Tensor;

/// The crate version, reported by `nb.info()` and checked against the JS package's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Whether this build's kernels run on WebAssembly SIMD128 instructions.
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));
