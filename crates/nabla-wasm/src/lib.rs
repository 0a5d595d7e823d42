//! wasm-bindgen bindings over nabla-core. This crate only converts: JavaScript values
//! in, core types through, core errors out as JavaScript errors. No logic lives here.

use nabla_core::{kernels, Error, Shape};
use wasm_bindgen::prelude::*;

/// The one conversion of a core error: a JS `Error` carrying the stable `code`, the
/// `NablaError` subclass to throw (`kind`), and the fields the message is made of.
fn to_js(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    for (key, value) in [
        ("code", e.code()),
        ("kind", e.code.class()),
        ("op", e.op),
        ("arg", e.arg.as_str()),
        ("expected", e.expected.as_str()),
        ("received", e.received.as_str()),
    ] {
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&err, &key.into(), &value.into());
    }
    err.into()
}

fn js<T>(r: nabla_core::Result<T>) -> Result<T, JsValue> {
    r.map_err(to_js)
}

/// A tensor living in wasm memory; JavaScript holds a handle to it.
#[wasm_bindgen]
pub struct Tensor(nabla_core::Tensor);

#[wasm_bindgen]
impl Tensor {
    /// Copies `data` into wasm memory; `shape` comes as JS numbers and is validated by the core.
    #[wasm_bindgen(constructor)]
    pub fn new(data: Vec<f32>, shape: Vec<f64>) -> Result<Tensor, JsValue> {
        let shape = js(Shape::from_f64("tensor", "shape", &shape))?;
        js(nabla_core::Tensor::from_vec("tensor", data, shape)).map(Tensor)
    }

    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        // Shapes were validated to fit u32 when created.
        self.0.dims().iter().map(|&d| d as u32).collect()
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.0.numel()
    }

    /// A copy of the values, as a `Float32Array`.
    pub fn data(&self) -> Vec<f32> {
        self.0.data().to_vec()
    }
}

#[wasm_bindgen]
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, JsValue> {
    js(nabla_core::ops::matmul(&a.0, &b.0)).map(Tensor)
}

/// Switches every dispatching kernel to its scalar reference twin (true) or back to SIMD.
#[wasm_bindgen(js_name = setScalarKernels)]
pub fn set_scalar_kernels(scalar: bool) {
    let mode = if scalar { kernels::Mode::Scalar } else { kernels::Mode::Simd };
    kernels::set_mode(mode);
}

/// Runs the GEMM micro-kernel `reps` times on L1-resident data; returns the flops done.
#[wasm_bindgen(js_name = microKernelPeak)]
pub fn micro_kernel_peak(reps: u32) -> f64 {
    kernels::micro_kernel_peak(reps as usize) as f64
}

#[wasm_bindgen]
pub fn version() -> String {
    nabla_core::VERSION.to_string()
}

#[wasm_bindgen]
pub fn simd() -> bool {
    nabla_core::SIMD128
}
