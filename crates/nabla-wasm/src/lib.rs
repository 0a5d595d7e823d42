//! wasm-bindgen bindings over nabla-core. This crate only converts: JavaScript values
//! in, core calls through the one `Runtime`, core errors out as JavaScript errors.
//! Tensors cross as numeric ids; their values stay in wasm memory.

use nabla_core::kernels::binary::Binary;
use nabla_core::ops::{self, int_list};
use nabla_core::{json, kernels, Error, Op, Rng, Runtime, Shape, Tensor};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static RT: RefCell<Runtime> = RefCell::new(Runtime::new());
}

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

/// Converts a core result.
fn js<T>(r: nabla_core::Result<T>) -> Result<T, JsValue> {
    r.map_err(to_js)
}

/// Runs `f` on the runtime, converting its error.
fn rt<T>(f: impl FnOnce(&mut Runtime) -> nabla_core::Result<T>) -> Result<T, JsValue> {
    RT.with(|r| f(&mut r.borrow_mut())).map_err(to_js)
}

fn run(op: impl Op + 'static, ids: &[u32], args: &[&str]) -> Result<u32, JsValue> {
    rt(|r| r.run(Box::new(op), ids, args))
}

fn axes(op: &'static str, axes: Option<Vec<f64>>) -> Result<Option<Vec<i64>>, JsValue> {
    axes.map(|a| int_list(op, "axis", &a))
        .transpose()
        .map_err(to_js)
}

fn unknown(op: &'static str, name: &str) -> JsValue {
    to_js(Error::invalid(
        op,
        "name",
        "a known op",
        format!("\"{name}\""),
    ))
}

// --- tensors ------------------------------------------------------------------------

#[wasm_bindgen(js_name = tensorF32)]
pub fn tensor_f32(data: Vec<f32>, shape: Vec<f64>) -> Result<u32, JsValue> {
    rt(|r| {
        Ok(r.insert(Tensor::from_vec(
            "tensor",
            data,
            Shape::from_f64("tensor", "shape", &shape)?,
        )?))
    })
}

#[wasm_bindgen(js_name = tensorI32)]
pub fn tensor_i32(data: Vec<i32>, shape: Vec<f64>) -> Result<u32, JsValue> {
    rt(|r| {
        Ok(r.insert(Tensor::from_i32(
            "tensor",
            data,
            Shape::from_f64("tensor", "shape", &shape)?,
        )?))
    })
}

/// `fill` ("zeros", "ones", "full"), "randn" or "randUniform" of `shape`; `a`, `b` are
/// the value, (mean, stddev) or (min, max).
#[wasm_bindgen]
pub fn generate(kind: &str, shape: Vec<f64>, a: f64, b: f64, seed: f64) -> Result<u32, JsValue> {
    let op: &'static str = match kind {
        "full" => "full",
        "randn" => "randn",
        "randUniform" => "randUniform",
        _ => return Err(unknown("generate", kind)),
    };
    rt(|r| {
        let shape = Shape::from_f64(op, "shape", &shape)?;
        let t = match op {
            "full" => Tensor::full(shape, a as f32),
            _ => {
                let mut rng = Rng::new(Rng::seed_from_f64(op, seed)?);
                if op == "randn" {
                    nabla_core::ops::randn(shape, &mut rng, a, b)?
                } else {
                    nabla_core::ops::rand_uniform(shape, &mut rng, a, b)?
                }
            }
        };
        Ok(r.insert(t))
    })
}

#[wasm_bindgen(js_name = tensorShape)]
pub fn tensor_shape(id: u32) -> Result<Vec<u32>, JsValue> {
    // Shapes were validated to fit u32 when created.
    rt(|r| {
        Ok(r.get("shape", "tensor", id)?
            .dims()
            .iter()
            .map(|&d| d as u32)
            .collect())
    })
}

#[wasm_bindgen(js_name = tensorDtype)]
pub fn tensor_dtype(id: u32) -> Result<String, JsValue> {
    rt(|r| Ok(r.get("dtype", "tensor", id)?.dtype().name().to_string()))
}

/// A copy of the values as `Float32Array` (int32 values converted).
#[wasm_bindgen(js_name = tensorData)]
pub fn tensor_data(id: u32) -> Result<Vec<f32>, JsValue> {
    rt(|r| Ok(r.get("data", "tensor", id)?.to_f32_vec()))
}

#[wasm_bindgen(js_name = tensorDataI32)]
pub fn tensor_data_i32(id: u32) -> Result<Vec<i32>, JsValue> {
    rt(|r| {
        Ok(r.get("data", "tensor", id)?
            .i32s("data", "tensor")?
            .to_vec())
    })
}

#[wasm_bindgen(js_name = tensorFree)]
pub fn tensor_free(id: u32) {
    RT.with(|r| r.borrow_mut().free(id));
}

/// `[live tensors, bytes of their values]`. (Not `memory`: that is the wasm memory's export.)
#[wasm_bindgen(js_name = memoryStats)]
pub fn memory_stats() -> Vec<f64> {
    RT.with(|r| {
        let m = r.borrow().memory();
        vec![m.tensors as f64, m.bytes as f64]
    })
}

// --- ops ----------------------------------------------------------------------------

/// add, sub, mul, div, pow, maximum, minimum.
#[wasm_bindgen]
pub fn binary(name: &str, a: u32, b: u32) -> Result<u32, JsValue> {
    let op = Binary::from_name(name).ok_or_else(|| unknown("binary", name))?;
    run(ops::BinaryOp(op), &[a, b], &["a", "b"])
}

/// neg, abs, square, sqrt, relu and the transcendental functions.
#[wasm_bindgen]
pub fn unary(name: &str, x: u32) -> Result<u32, JsValue> {
    if let Some(f) = ops::MapFn::from_name(name) {
        return run(ops::MapOp(f), &[x], &["x"]);
    }
    let op = ops::UnaryOp::from_name(name).ok_or_else(|| unknown("unary", name))?;
    run(op, &[x], &["x"])
}

#[wasm_bindgen]
pub fn clip(x: u32, min: f64, max: f64) -> Result<u32, JsValue> {
    let op = ops::Clip::new(min, max).map_err(to_js)?;
    run(op, &[x], &["x"])
}

#[wasm_bindgen(js_name = whereOp)]
pub fn where_(cond: u32, a: u32, b: u32) -> Result<u32, JsValue> {
    run(ops::Where, &[cond, a, b], &["condition", "a", "b"])
}

/// sum, mean, max over `axes` (all when undefined).
#[wasm_bindgen]
pub fn reduce(name: &str, x: u32, axis: Option<Vec<f64>>, keep_dims: bool) -> Result<u32, JsValue> {
    let kind = ops::ReduceKind::from_name(name).ok_or_else(|| unknown("reduce", name))?;
    let axes = axes(kind.name(), axis)?;
    run(
        ops::Reduction {
            kind,
            axes,
            keep_dims,
        },
        &[x],
        &["x"],
    )
}

#[wasm_bindgen(js_name = logSumExp)]
pub fn log_sum_exp(x: u32, axis: Option<Vec<f64>>, keep_dims: bool) -> Result<u32, JsValue> {
    let axes = axes("logSumExp", axis)?;
    run(ops::LogSumExp { axes, keep_dims }, &[x], &["x"])
}

fn one_axis(op: &'static str, axis: f64) -> Result<i64, JsValue> {
    Ok(int_list(op, "axis", &[axis]).map_err(to_js)?[0])
}

#[wasm_bindgen]
pub fn argmax(x: u32, axis: f64) -> Result<u32, JsValue> {
    run(
        ops::Argmax {
            axis: one_axis("argmax", axis)?,
        },
        &[x],
        &["x"],
    )
}

#[wasm_bindgen]
pub fn softmax(x: u32, axis: f64) -> Result<u32, JsValue> {
    run(
        ops::Softmax {
            axis: one_axis("softmax", axis)?,
        },
        &[x],
        &["x"],
    )
}

#[wasm_bindgen(js_name = logSoftmax)]
pub fn log_softmax(x: u32, axis: f64) -> Result<u32, JsValue> {
    run(
        ops::LogSoftmax {
            axis: one_axis("logSoftmax", axis)?,
        },
        &[x],
        &["x"],
    )
}

#[wasm_bindgen]
pub fn matmul(a: u32, b: u32) -> Result<u32, JsValue> {
    run(ops::MatMul, &[a, b], &["a", "b"])
}

#[wasm_bindgen]
pub fn transpose(x: u32, perm: Option<Vec<f64>>) -> Result<u32, JsValue> {
    let perm = perm
        .map(|p| int_list("transpose", "perm", &p))
        .transpose()
        .map_err(to_js)?;
    run(ops::Transpose::new(perm), &[x], &["x"])
}

#[wasm_bindgen]
pub fn reshape(x: u32, shape: Vec<f64>) -> Result<u32, JsValue> {
    let shape = int_list("reshape", "shape", &shape).map_err(to_js)?;
    run(ops::Reshape::new(shape), &[x], &["x"])
}

/// conv1d / conv2d: `strides`, `dilations` one value or one per spatial axis; `padding`
/// "valid", "same" or "explicit" with `sizes`.
#[wasm_bindgen]
pub fn conv(
    x: u32,
    filter: u32,
    one_d: bool,
    strides: Vec<f64>,
    dilations: Vec<f64>,
    padding: &str,
    sizes: Vec<f64>,
) -> Result<u32, JsValue> {
    let op = if one_d { "conv1d" } else { "conv2d" };
    let conv = (|| {
        Ok(ops::Conv {
            one_d,
            strides: ops::window_arg(op, "strides", &strides, one_d)?,
            dilations: ops::window_arg(op, "dilationRate", &dilations, one_d)?,
            padding: ops::padding_arg(op, padding, &sizes, one_d)?,
        })
    })()
    .map_err(to_js)?;
    run(conv, &[x, filter], &["input", "filter"])
}

/// maxPool / avgPool ("max" | "avg"), 1-D or 2-D.
#[wasm_bindgen]
pub fn pool(
    kind: &str,
    x: u32,
    one_d: bool,
    pool_size: Vec<f64>,
    strides: Vec<f64>,
    padding: &str,
    sizes: Vec<f64>,
) -> Result<u32, JsValue> {
    let (kind, op) = match (kind, one_d) {
        ("max", true) => (ops::PoolKind::Max, "maxPool1d"),
        ("max", false) => (ops::PoolKind::Max, "maxPool2d"),
        ("avg", true) => (ops::PoolKind::Avg, "avgPool1d"),
        ("avg", false) => (ops::PoolKind::Avg, "avgPool2d"),
        _ => return Err(unknown("pool", kind)),
    };
    let p = (|| {
        let window = ops::window_arg(op, "poolSize", &pool_size, one_d)?;
        let strides = ops::window_arg(op, "strides", &strides, one_d)?;
        Ok(ops::Pool::new(
            kind,
            one_d,
            window,
            strides,
            ops::padding_arg(op, padding, &sizes, one_d)?,
        ))
    })()
    .map_err(to_js)?;
    run(p, &[x], &["input"])
}

#[wasm_bindgen(js_name = globalAvgPool)]
pub fn global_avg_pool(x: u32, one_d: bool) -> Result<u32, JsValue> {
    run(ops::GlobalAvgPool { one_d }, &[x], &["input"])
}

// --- losses -----------------------------------------------------------------------

fn loss_op(
    name: &str,
    config: &str,
    ids: &mut Vec<u32>,
    sample_weight: Option<u32>,
) -> Result<(nabla_core::losses::LossOp, Vec<&'static str>), JsValue> {
    let op =
        nabla_core::losses::LossOp::new(name, config, sample_weight.is_some()).map_err(to_js)?;
    let mut names = op.loss().inputs().to_vec();
    if let Some(w) = sample_weight {
        ids.push(w);
        names.push("sampleWeight");
    }
    Ok((op, names))
}

/// The reduced loss as a tensor, recorded on the tape (for grad and custom training).
#[wasm_bindgen(js_name = lossApply)]
pub fn loss_apply(
    name: &str,
    config: &str,
    mut ids: Vec<u32>,
    sample_weight: Option<u32>,
) -> Result<u32, JsValue> {
    let (op, names) = loss_op(name, config, &mut ids, sample_weight)?;
    rt(|r| r.run(Box::new(op), &ids, &names))
}

/// `[value, gradient of each differentiable input...]` as new tensors.
#[wasm_bindgen(js_name = lossValueAndGrad)]
pub fn loss_value_and_grad(
    name: &str,
    config: &str,
    mut ids: Vec<u32>,
    sample_weight: Option<u32>,
) -> Result<Vec<u32>, JsValue> {
    let (op, names) = loss_op(name, config, &mut ids, sample_weight)?;
    let op_name = nabla_core::Op::name(&op);
    rt(|r| {
        r.call(op_name, &ids, &names, |x| {
            let (value, grads) = op.value_and_grad(x)?;
            Ok(std::iter::once(value).chain(grads).collect())
        })
    })
}

/// Builds the loss from its config, only to validate it.
#[wasm_bindgen(js_name = lossCheck)]
pub fn loss_check(name: &str, config: &str) -> Result<(), JsValue> {
    nabla_core::losses::build(name, config)
        .map(|_| ())
        .map_err(to_js)
}

/// The advisor's answer (JSON) to a question (JSON).
#[wasm_bindgen(js_name = lossAdvise)]
pub fn loss_advise(question: &str) -> Result<String, JsValue> {
    nabla_core::losses::advise(question)
        .map(|a| a.to_string())
        .map_err(to_js)
}

/// Every loss with its input names, as JSON.
#[wasm_bindgen(js_name = lossCatalogue)]
pub fn loss_catalogue() -> String {
    nabla_core::losses::catalogue_json()
}

// --- layers -------------------------------------------------------------------------

/// Makes the layer from its config, only to validate it.
#[wasm_bindgen(js_name = layerCheck)]
pub fn layer_check(kind: &str, config: &str) -> Result<(), JsValue> {
    nabla_core::layers::make(kind, config)
        .map(|_| ())
        .map_err(to_js)
}

/// The layer names, as JSON.
#[wasm_bindgen(js_name = layerCatalogue)]
pub fn layer_catalogue() -> String {
    nabla_core::layers::catalogue_json()
}

/// A layer on its own (`nb.layer`): its weights are runtime tensors; `apply` records on
/// the open tape.
#[wasm_bindgen]
pub struct Layer(nabla_core::layers::standalone::Standalone);

#[wasm_bindgen]
impl Layer {
    /// `input_shape`: JSON, without the batch axis (`null`: a recurrent time axis of any length).
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, config: &str, input_shape: &str, seed: f64) -> Result<Layer, JsValue> {
        let seed = js(Rng::seed_from_f64("layer", seed))?;
        rt(|r| nabla_core::layers::standalone::Standalone::new(r, kind, config, input_shape, seed))
            .map(Layer)
    }

    /// The weights' tensor ids, in `describe().weightNames` order.
    pub fn weights(&self) -> Vec<u32> {
        self.0.weights().to_vec()
    }

    /// JSON: kind, config, inputShape, outputShape, weightNames, stateNames, returnState.
    pub fn describe(&self) -> String {
        self.0.describe().to_string()
    }

    /// The output's id, then the final states' (with returnState).
    pub fn apply(&self, x: u32, initial: Vec<u32>) -> Result<Vec<u32>, JsValue> {
        rt(|r| self.0.apply(r, x, &initial))
    }

    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&self, values: Vec<u32>) -> Result<(), JsValue> {
        rt(|r| self.0.set_weights(r, &values))
    }
}

// --- optimizers ---------------------------------------------------------------------

/// An optimizer with its state; `step` updates parameter tensors in place.
#[wasm_bindgen]
pub struct Optimizer(nabla_core::optim::Optimizer);

#[wasm_bindgen]
impl Optimizer {
    #[wasm_bindgen(constructor)]
    pub fn new(name: &str, config: &str) -> Result<Optimizer, JsValue> {
        nabla_core::optim::Optimizer::new(name, config)
            .map(Optimizer)
            .map_err(to_js)
    }

    pub fn step(&mut self, params: Vec<u32>, grads: Vec<u32>) -> Result<(), JsValue> {
        let opt = &mut self.0;
        rt(|r| r.update(opt.name(), &params, &grads, |p, g| opt.step(p, g)))
    }

    #[wasm_bindgen(js_name = learningRate)]
    pub fn learning_rate(&self) -> f64 {
        self.0.learning_rate()
    }

    pub fn iterations(&self) -> f64 {
        self.0.iterations() as f64
    }
}

// --- models ---------------------------------------------------------------------------

/// A Sequential model in wasm, with the state of a `fit` in progress.
#[wasm_bindgen]
pub struct Model {
    m: nabla_core::model::Sequential,
    fit: Option<nabla_core::model::fit::Fit>,
    /// Metrics on the training batches and on validation / evaluation, by name.
    metrics: Vec<Box<dyn nabla_core::metrics::Metric>>,
    val_metrics: Vec<Box<dyn nabla_core::metrics::Metric>>,
}

fn tensor_rc(op: &'static str, arg: &str, id: u32) -> Result<std::rc::Rc<Tensor>, JsValue> {
    rt(|r| Ok(r.get(op, arg, id)?.clone()))
}

#[wasm_bindgen]
impl Model {
    /// `layers`: JSON `[{ kind, config }]`; `input_shape` without the batch axis.
    #[wasm_bindgen(constructor)]
    pub fn new(layers: &str, input_shape: Vec<f64>, seed: f64) -> Result<Model, JsValue> {
        let bad = |what: String| {
            to_js(Error::invalid(
                "sequential",
                "layers",
                "a list of nb.layers descriptions",
                what,
            ))
        };
        let list = json::parse(layers).map_err(|e| bad(e.to_string()))?;
        let specs = list
            .as_array()
            .ok_or_else(|| bad(list.to_string()))?
            .iter()
            .map(
                |l| match (l.get("kind").and_then(|k| k.as_str()), l.get("config")) {
                    (Some(kind), Some(config)) => Ok((kind.to_string(), config.to_string())),
                    _ => Err(bad(l.to_string())),
                },
            )
            .collect::<Result<Vec<_>, JsValue>>()?;
        let shape = js(Shape::from_f64("sequential", "inputShape", &input_shape))?;
        let seed = js(Rng::seed_from_f64("sequential", seed))?;
        let m = js(nabla_core::model::Sequential::new(
            &specs,
            shape.dims(),
            seed,
        ))?;
        Ok(Model {
            m,
            fit: None,
            metrics: Vec::new(),
            val_metrics: Vec::new(),
        })
    }

    /// `metrics`: JSON `[{ name, config }]`.
    pub fn compile(
        &mut self,
        loss: &str,
        loss_config: &str,
        optimizer: &str,
        optimizer_config: &str,
        metrics: &str,
    ) -> Result<(), JsValue> {
        let bad = |what: String| {
            to_js(Error::invalid(
                "compile",
                "metrics",
                "a list of metric names",
                what,
            ))
        };
        let list = json::parse(metrics).map_err(|e| bad(e.to_string()))?;
        let make = || -> Result<Vec<Box<dyn nabla_core::metrics::Metric>>, JsValue> {
            list.as_array()
                .ok_or_else(|| bad(list.to_string()))?
                .iter()
                .map(
                    |m| match (m.get("name").and_then(|n| n.as_str()), m.get("config")) {
                        (Some(name), Some(config)) => {
                            js(nabla_core::metrics::make(name, &config.to_string()))
                        }
                        _ => Err(bad(m.to_string())),
                    },
                )
                .collect()
        };
        let (train, val) = (make()?, make()?);
        js(self
            .m
            .compile((loss, loss_config), (optimizer, optimizer_config)))?;
        self.metrics = train;
        self.val_metrics = val;
        Ok(())
    }

    /// Warnings about the compiled loss for this model's output (see `compile`).
    #[wasm_bindgen(js_name = compileWarnings)]
    pub fn compile_warnings(&self) -> Vec<String> {
        self.m.compile_warnings()
    }

    /// Current metric values (training, or validation/evaluation), in compile order.
    #[wasm_bindgen(js_name = metricResults)]
    pub fn metric_results(&self, validation: bool) -> Vec<f64> {
        let list = if validation {
            &self.val_metrics
        } else {
            &self.metrics
        };
        list.iter().map(|m| m.result()).collect()
    }

    #[wasm_bindgen(js_name = resetMetrics)]
    pub fn reset_metrics(&mut self) {
        self.metrics
            .iter_mut()
            .chain(self.val_metrics.iter_mut())
            .for_each(|m| m.reset());
    }

    #[wasm_bindgen(js_name = trainOnBatch)]
    pub fn train_on_batch(&mut self, x: u32, y: u32) -> Result<f64, JsValue> {
        let (x, y) = (
            tensor_rc("trainOnBatch", "x", x)?,
            tensor_rc("trainOnBatch", "y", y)?,
        );
        js(self.m.train_step(&x, &y)).map(f64::from)
    }

    pub fn predict(&mut self, x: u32, batch_size: u32) -> Result<u32, JsValue> {
        let x = tensor_rc("predict", "x", x)?;
        let y = js(self.m.predict(&x, batch_size as usize))?;
        Ok(RT.with(|r| r.borrow_mut().insert(y)))
    }

    pub fn evaluate(&mut self, x: u32, y: u32, batch_size: u32) -> Result<f64, JsValue> {
        let (x, y) = (
            tensor_rc("evaluate", "x", x)?,
            tensor_rc("evaluate", "y", y)?,
        );
        let mut data = js(nabla_core::model::data::Dataset::new("evaluate", x, y))?;
        self.val_metrics.iter_mut().for_each(|m| m.reset());
        js(nabla_core::model::fit::mean_loss(
            &mut self.m,
            &mut data,
            batch_size as usize,
            &mut self.val_metrics,
        ))
    }

    /// Starts a fit: datasets (shared, not copied) and the shuffle seed. Returns the number of training samples.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = fitBegin)]
    pub fn fit_begin(
        &mut self,
        x: u32,
        y: u32,
        vx: Option<u32>,
        vy: Option<u32>,
        split: f64,
        shuffle: bool,
        sample_weight: Option<u32>,
        class_weight: Option<Vec<f32>>,
    ) -> Result<u32, JsValue> {
        let (x, y) = (tensor_rc("fit", "x", x)?, tensor_rc("fit", "y", y)?);
        let validation = match (vx, vy) {
            (Some(a), Some(b)) => Some((
                tensor_rc("fit", "validationData[0]", a)?,
                tensor_rc("fit", "validationData[1]", b)?,
            )),
            _ => None,
        };
        let sample_weight = sample_weight
            .map(|id| tensor_rc("fit", "sampleWeight", id))
            .transpose()?;
        let fit = js(nabla_core::model::fit::Fit::new(
            x,
            y,
            validation,
            split,
            shuffle,
            sample_weight,
            class_weight,
        ))?;
        let n = fit.train.len() as u32;
        self.fit = Some(fit);
        Ok(n)
    }

    #[wasm_bindgen(js_name = fitEpoch)]
    pub fn fit_epoch(&mut self) {
        if let Some(f) = &mut self.fit {
            f.epoch(&mut self.m);
        }
    }

    /// One training step on samples [start, end) of the epoch's order; the loss.
    #[wasm_bindgen(js_name = fitBatch)]
    pub fn fit_batch(&mut self, start: u32, end: u32) -> Result<f64, JsValue> {
        let fit = self
            .fit
            .as_mut()
            .ok_or_else(|| to_js(Error::state("fit", "a fit in progress", "none")))?;
        js(fit.train_batch(&mut self.m, start as usize, end as usize, &mut self.metrics))
            .map(f64::from)
    }

    #[wasm_bindgen(js_name = fitValidate)]
    pub fn fit_validate(&mut self, batch_size: u32) -> Result<Option<f64>, JsValue> {
        let fit = self
            .fit
            .as_mut()
            .ok_or_else(|| to_js(Error::state("fit", "a fit in progress", "none")))?;
        js(fit.validate(&mut self.m, batch_size as usize, &mut self.val_metrics))
    }

    #[wasm_bindgen(js_name = fitEnd)]
    pub fn fit_end(&mut self) {
        self.fit = None;
    }

    pub fn summary(&self) -> String {
        self.m.summary_json()
    }

    /// The optimizer's base learning rate (NaN before compile).
    #[wasm_bindgen(js_name = learningRate)]
    pub fn learning_rate(&self) -> f64 {
        self.m
            .optimizer()
            .map_or(f64::NAN, |o| o.base_learning_rate())
    }

    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), JsValue> {
        let opt = self
            .m
            .optimizer_mut()
            .ok_or_else(|| to_js(Error::state("setLearningRate", "a compiled model", "none")))?;
        js(opt.set_learning_rate(lr))
    }

    /// The model in the safetensors format, with its config and, if `optimizer`, the
    /// optimizer state and the generators' positions.
    pub fn save(&self, optimizer: bool) -> Vec<u8> {
        nabla_core::model::save_with(&self.m, nabla_core::model::SaveOptions { optimizer })
    }

    /// A model from `save`'s bytes.
    #[wasm_bindgen(js_name = loadModel)]
    pub fn load_model(bytes: &[u8]) -> Result<Model, JsValue> {
        let m = js(nabla_core::model::load(bytes))?;
        Ok(Model {
            m,
            fit: None,
            metrics: Vec::new(),
            val_metrics: Vec::new(),
        })
    }

    #[wasm_bindgen(js_name = getWeights)]
    pub fn get_weights(&self) -> Vec<u32> {
        let weights = self.m.weights();
        RT.with(|r| {
            let mut r = r.borrow_mut();
            weights.into_iter().map(|w| r.insert(w)).collect()
        })
    }

    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&mut self, ids: Vec<u32>) -> Result<(), JsValue> {
        let tensors = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| tensor_rc("setWeights", &format!("weights[{i}]"), id))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&Tensor> = tensors.iter().map(|t| t.as_ref()).collect();
        js(self.m.set_weights(&refs))
    }
}

// --- autograd -----------------------------------------------------------------------

#[wasm_bindgen(js_name = beginGrad)]
pub fn begin_grad(xs: Vec<u32>) -> Result<(), JsValue> {
    rt(|r| r.begin_grad(&xs))
}

#[wasm_bindgen(js_name = endGrad)]
pub fn end_grad(y: u32, dy: Option<u32>, xs: Vec<u32>) -> Result<Vec<u32>, JsValue> {
    rt(|r| r.end_grad(y, dy, &xs))
}

#[wasm_bindgen(js_name = abortGrad)]
pub fn abort_grad() {
    RT.with(|r| r.borrow_mut().abort_grad());
}

// --- kernels and build facts ----------------------------------------------------------

/// Switches every dispatching kernel to its scalar reference twin (true) or back to SIMD.
#[wasm_bindgen(js_name = setScalarKernels)]
pub fn set_scalar_kernels(scalar: bool) -> Result<(), JsValue> {
    nabla_core::use_reference_kernels(scalar).map_err(to_js)
}

/// Whether `setScalarKernels(true)` can work: the test build, not the shipped one.
#[wasm_bindgen(js_name = referenceKernels)]
pub fn reference_kernels() -> bool {
    kernels::REFERENCE_KERNELS
}

/// Runs the GEMM micro-kernel `reps` times on L1-resident data; returns the flops done.
#[wasm_bindgen(js_name = microKernelPeak)]
pub fn micro_kernel_peak(reps: u32) -> f64 {
    kernels::micro_kernel_peak(reps as usize)
}

#[wasm_bindgen]
pub fn version() -> String {
    nabla_core::VERSION.to_string()
}

#[wasm_bindgen]
pub fn simd() -> bool {
    nabla_core::SIMD128
}
