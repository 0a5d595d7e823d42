//! Layers: the parts models are made of. A layer is one file: its config (options with
//! defaults, validated when it is made), its parameters (created at build time from the
//! input shape, by a seeded initializer), its forward pass and its backward pass.
//!
//! Tensors are channels-last: images `[batch, height, width, channels]`, sequences
//! `[batch, time, features]`. Parameters use Keras/TF.js layouts (dense kernel
//! `[in, out]`, conv filter `[kh, kw, in, out]`); PyTorch weights convert at the edge.
//!
//! A layer never allocates in steady state: it writes its output into a tensor the
//! caller owns (`Tensor::resize` reuses its buffer) and keeps its caches between steps.
//!
//! Recurrent layers also carry a state (`state_names`, `forward_with_state`,
//! `backward_with_state`). A layer is used in a `Sequential` model or on its own
//! (standalone.rs: `nb.layer`, where it can take initial states and return final ones).

pub mod activation;
mod bidirectional;
mod conv;
mod dense;
mod dropout;
mod embedding;
pub mod init;
mod norm;
mod pool;
mod recurrent;
mod reshape;
pub mod standalone;

use crate::error::{Error, Result};
use crate::json::Value;
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// A trainable (or not) tensor of a layer, with its gradient buffer.
pub struct Param {
    /// The name in saved models and in `getWeights` order: "kernel", "bias", ...
    pub name: &'static str,
    pub value: Tensor,
    /// dL/dvalue, accumulated by `backward`, zeroed by the training step.
    pub grad: Vec<f32>,
    /// Updated by the optimizer (false for batchNorm's running statistics).
    pub trainable: bool,
    /// L1/L2 penalty on this parameter, added to the loss and its gradient.
    pub regularizer: Option<Regularizer>,
}

impl Param {
    pub fn new(name: &'static str, value: Tensor, trainable: bool) -> Param {
        let n = value.numel();
        Param {
            name,
            value,
            grad: vec![0.0; n],
            trainable,
            regularizer: None,
        }
    }
}

/// `l1·Σ|w| + l2·Σw²` (Keras's regularizers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Regularizer {
    pub l1: f32,
    pub l2: f32,
}

impl Regularizer {
    /// Reads `{ l1, l2 }` at `key` of a layer config, if given.
    pub fn from_config(cfg: &Config, key: &str) -> Result<Option<Regularizer>> {
        let Some(v) = cfg.raw(key) else {
            return Ok(None);
        };
        let sub = Config::from_value(cfg.op, v)?;
        sub.check_keys(&["l1", "l2"])?;
        let rate = |k: &str| {
            sub.f64_where(k, 0.0, "a finite number ≥ 0", |x| {
                x.is_finite() && x >= 0.0
            })
        };
        Ok(Some(Regularizer {
            l1: rate("l1")? as f32,
            l2: rate("l2")? as f32,
        }))
    }

    pub fn penalty(&self, w: &[f32]) -> f64 {
        w.iter()
            .map(|&x| self.l1 as f64 * (x as f64).abs() + self.l2 as f64 * (x as f64) * (x as f64))
            .sum()
    }

    /// Adds the penalty's gradient to `grad`.
    pub fn add_grad(&self, w: &[f32], grad: &mut [f32]) {
        for (g, &x) in grad.iter_mut().zip(w) {
            let sign = if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += self.l1 * sign + 2.0 * self.l2 * x;
        }
    }
}

pub trait Layer {
    /// The public name (`dense`).
    fn kind(&self) -> &'static str;

    /// The options it was made with, for saving and `summary()`.
    fn config(&self) -> Value;

    /// Creates the parameters for inputs of shape `input` (without the batch axis) and
    /// returns the output shape (without the batch axis). Wrong input shapes are
    /// `ShapeError`s naming the layer.
    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>>;

    /// The parameters, in saved-model and `getWeights` order (a slice: walking them in a
    /// training step allocates nothing).
    fn params(&self) -> &[Param] {
        &[]
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut []
    }

    /// The state of the layer's own random generator (dropout), to save mid-training.
    fn rng_state(&self) -> Option<[u32; 6]> {
        None
    }

    /// Restores `rng_state`; layers without a generator ignore it.
    fn set_rng_state(&mut self, state: [u32; 6]) -> Result<()> {
        let _ = state;
        Ok(())
    }

    /// `y = layer(x)` for a batch; `training` switches dropout and batch statistics.
    fn forward(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()>;

    /// Given the last forward's `x`, `y` and dL/dy, adds dL/dparams into each `grad`
    /// and writes dL/dx into `gx`.
    fn backward(&mut self, x: &Tensor, y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()>;

    /// The recurrent state the layer carries from step to step, by name, each
    /// `[batch, units]`: `["h"]` (simpleRnn, gru), `["h", "c"]` (lstm), both directions'
    /// for bidirectional. Empty for layers without one.
    fn state_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Made with `returnState: true`: the layer's outputs are its output and then its
    /// final states, so it has no place in a one-output-per-layer Sequential model.
    fn returns_state(&self) -> bool {
        false
    }

    /// `forward` from the states `initial` (one per `state_names`, or none: zeros) that
    /// also writes the final states into `finals` (one per state name, or none: not wanted).
    fn forward_with_state(
        &mut self,
        x: &Tensor,
        initial: &[&Tensor],
        y: &mut Tensor,
        finals: &mut [Tensor],
        training: bool,
    ) -> Result<()> {
        if initial.is_empty() && finals.is_empty() {
            return self.forward(x, y, training);
        }
        Err(no_state(self.kind()))
    }

    /// `backward` of the last `forward_with_state`: `g_finals` (one per state, or none)
    /// are dL/d(final states), added to what flows back from `gy`; dL/d(initial states)
    /// go into `g_initial` (one per state, or none: not wanted).
    fn backward_with_state(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        gy: &Tensor,
        g_finals: &[&Tensor],
        gx: &mut Tensor,
        g_initial: &mut [Tensor],
    ) -> Result<()> {
        if g_finals.is_empty() && g_initial.is_empty() {
            return self.backward(x, y, gy, gx);
        }
        Err(no_state(self.kind()))
    }
}

fn no_state(kind: &'static str) -> Error {
    Error::invalid(
        kind,
        "initialState",
        format!("no state (only recurrent layers carry one; {kind} has none)"),
        "states",
    )
}

type Builder = fn(&Config) -> Result<Box<dyn Layer>>;

/// Every layer by public name.
pub const CATALOGUE: &[(&str, Builder)] = &[
    ("dense", dense::build),
    ("activation", activation::build),
    ("dropout", dropout::build),
    ("flatten", reshape::build_flatten),
    ("reshape", reshape::build_reshape),
    ("batchNorm", norm::build_batch_norm),
    ("layerNorm", norm::build_layer_norm),
    ("conv1d", conv::build_conv1d),
    ("conv2d", conv::build_conv2d),
    ("maxPool1d", pool::build_max_pool1d),
    ("maxPool2d", pool::build_max_pool2d),
    ("avgPool1d", pool::build_avg_pool1d),
    ("avgPool2d", pool::build_avg_pool2d),
    ("globalAvgPool1d", pool::build_global_avg_pool1d),
    ("globalAvgPool2d", pool::build_global_avg_pool2d),
    ("embedding", embedding::build),
    ("simpleRnn", recurrent::build_simple_rnn),
    ("lstm", recurrent::build_lstm),
    ("gru", recurrent::build_gru),
    ("bidirectional", bidirectional::build),
];

/// The layer names, for the TypeScript catalogue's consistency test.
pub fn catalogue_json() -> String {
    let names: Vec<&str> = CATALOGUE.iter().map(|(n, _)| *n).collect();
    crate::json::Value::from(names).to_string()
}

/// Makes the layer `kind` from its JSON config (validated now, not at the first step).
pub fn make(kind: &str, config: &str) -> Result<Box<dyn Layer>> {
    let (name, builder) = CATALOGUE.iter().find(|(n, _)| *n == kind).ok_or_else(|| {
        Error::invalid(
            "layers",
            "kind",
            "the name of a layer in nb.layers",
            format!("\"{kind}\""),
        )
    })?;
    builder(&Config::parse(name, config)?)
}

/// Checks a batch `x` against the shape the layer was built for.
pub(crate) fn check_input(op: &'static str, x: &Tensor, built: &[usize]) -> Result<usize> {
    let d = x.dims();
    if d.len() != built.len() + 1 || &d[1..] != built {
        let mut want = vec![0usize];
        want.extend_from_slice(built);
        let want = Shape::new(want).to_string().replacen('0', "batch", 1);
        return Err(Error::shape(
            op,
            "input",
            format!("shape {want}"),
            format!("shape {}", x.shape()),
        ));
    }
    x.f32s(op, "input")?;
    Ok(d[0])
}

/// The batch shape `[batch, ...rest]`.
pub(crate) fn batch_dims(batch: usize, rest: &[usize]) -> Vec<usize> {
    let mut d = Vec::with_capacity(rest.len() + 1);
    d.push(batch);
    d.extend_from_slice(rest);
    d
}

/// Shared by the layer files' tests: build, run, and check gradients by central differences.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn normal(dims: &[usize], seed: u64) -> Tensor {
        let mut r = Rng::new(seed);
        let n: usize = dims.iter().product();
        Tensor::from_vec(
            "test",
            (0..n).map(|_| r.normal()).collect(),
            Shape::new(dims.to_vec()),
        )
        .unwrap()
    }

    /// Builds `kind` with `config` for `x`'s shape (seed 1) and runs forward.
    pub fn run(kind: &str, config: &str, x: &Tensor, training: bool) -> (Box<dyn Layer>, Tensor) {
        let mut layer = make(kind, config).unwrap();
        layer.build(&x.dims()[1..], &mut Rng::new(1)).unwrap();
        let mut y = Tensor::zeros(Shape::new(vec![]));
        layer.forward(x, &mut y, training).unwrap();
        (layer, y)
    }

    /// Checks dL/dx and dL/dparams for L = Σ w·y (random w) + the parameters' regularization
    /// penalties against central differences (f64 accumulation). Deterministic layers only
    /// (or `training: false`).
    pub fn gradcheck(kind: &str, config: &str, x: Tensor, training: bool, tol: f64) {
        let (mut layer, y) = run(kind, config, &x, training);
        let w = normal(y.dims(), 77);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        for p in layer.params_mut() {
            p.grad.iter_mut().for_each(|g| *g = 0.0);
        }
        layer.backward(&x, &y, &w, &mut gx).unwrap();
        assert_eq!(gx.dims(), x.dims(), "{kind}: dL/dx shape");
        let loss = |layer: &mut Box<dyn Layer>, x: &Tensor| -> f64 {
            let mut y = Tensor::zeros(Shape::new(vec![]));
            layer.forward(x, &mut y, training).unwrap();
            let penalty: f64 = layer
                .params()
                .iter()
                .filter_map(|p| p.regularizer.map(|r| r.penalty(p.value.data())))
                .sum();
            y.data()
                .iter()
                .zip(w.data())
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum::<f64>()
                + penalty
        };
        let check = |what: &str, j: usize, numeric: f64, analytic: f64| {
            assert!(
                (numeric - analytic).abs() <= tol * (1.0 + numeric.abs().max(analytic.abs())),
                "{kind} {config}: d/d{what}[{j}]: analytic {analytic} vs numeric {numeric}"
            );
        };
        for j in 0..x.numel() {
            let x0 = x.data()[j];
            let h = 1e-2 * x0.abs().max(0.1);
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp.data_mut()[j] = x0 + h;
            xm.data_mut()[j] = x0 - h;
            let numeric = (loss(&mut layer, &xp) - loss(&mut layer, &xm))
                / ((x0 + h) as f64 - (x0 - h) as f64);
            check("x", j, numeric, gx.data()[j] as f64);
        }
        let grads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
        for (pi, analytic) in grads.iter().enumerate() {
            if !layer.params()[pi].trainable {
                continue;
            }
            for j in 0..analytic.len() {
                let v0 = layer.params()[pi].value.data()[j];
                let h = 1e-2 * v0.abs().max(0.1);
                layer.params_mut()[pi].value.data_mut()[j] = v0 + h;
                let plus = loss(&mut layer, &x);
                layer.params_mut()[pi].value.data_mut()[j] = v0 - h;
                let minus = loss(&mut layer, &x);
                layer.params_mut()[pi].value.data_mut()[j] = v0;
                let name = layer.params()[pi].name;
                check(
                    name,
                    j,
                    (plus - minus) / ((v0 + h) as f64 - (v0 - h) as f64),
                    analytic[j] as f64,
                );
            }
        }
    }

    /// The recurrent-state paths of `forward_with_state` / `backward_with_state`: with
    /// random initial states (if `initial`) and L = Σ w·y + (if `finals`) Σ wᵢ·finalᵢ
    /// + the regularizers' penalty,
    /// checks dL/dx (0 on masked all-zero steps, where L jumps), dL/d(initial states) and
    /// dL/dparams against central differences.
    pub fn gradcheck_states(
        kind: &str,
        config: &str,
        x: Tensor,
        initial: bool,
        finals: bool,
        tol: f64,
    ) {
        let mut layer = make(kind, config).unwrap();
        layer.build(&x.dims()[1..], &mut Rng::new(1)).unwrap();
        let names = layer.state_names();
        let batch = x.dims()[0];
        let mut probe = Tensor::zeros(Shape::new(vec![]));
        let mut probe_f: Vec<Tensor> = names
            .iter()
            .map(|_| Tensor::zeros(Shape::new(vec![])))
            .collect();
        layer
            .forward_with_state(&x, &[], &mut probe, &mut probe_f, false)
            .unwrap();
        let units = probe_f[0].dims()[1];
        let states: Vec<Tensor> = if initial {
            (0..names.len())
                .map(|i| normal(&[batch, units], 40 + i as u64))
                .collect()
        } else {
            Vec::new()
        };
        let wy = normal(probe.dims(), 77);
        let ws: Vec<Tensor> = if finals {
            (0..names.len())
                .map(|i| normal(&[batch, units], 90 + i as u64))
                .collect()
        } else {
            Vec::new()
        };
        let loss = |layer: &mut Box<dyn Layer>, x: &Tensor, states: &[Tensor]| -> f64 {
            let refs: Vec<&Tensor> = states.iter().collect();
            let mut y = Tensor::zeros(Shape::new(vec![]));
            let mut f: Vec<Tensor> = ws
                .iter()
                .map(|_| Tensor::zeros(Shape::new(vec![])))
                .collect();
            layer
                .forward_with_state(x, &refs, &mut y, &mut f, false)
                .unwrap();
            let dot = |a: &Tensor, b: &Tensor| -> f64 {
                a.data()
                    .iter()
                    .zip(b.data())
                    .map(|(&u, &v)| u as f64 * v as f64)
                    .sum()
            };
            let penalty: f64 = layer
                .params()
                .iter()
                .filter_map(|p| p.regularizer.map(|r| r.penalty(p.value.data())))
                .sum();
            dot(&y, &wy) + f.iter().zip(&ws).map(|(a, b)| dot(a, b)).sum::<f64>() + penalty
        };
        let refs: Vec<&Tensor> = states.iter().collect();
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let mut f: Vec<Tensor> = ws
            .iter()
            .map(|_| Tensor::zeros(Shape::new(vec![])))
            .collect();
        layer
            .forward_with_state(&x, &refs, &mut y, &mut f, false)
            .unwrap();
        for p in layer.params_mut() {
            p.grad.fill(0.0);
        }
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        let mut g_init: Vec<Tensor> = states
            .iter()
            .map(|_| Tensor::zeros(Shape::new(vec![])))
            .collect();
        let wrefs: Vec<&Tensor> = ws.iter().collect();
        layer
            .backward_with_state(&x, &y, &wy, &wrefs, &mut gx, &mut g_init)
            .unwrap();
        let check = |what: &str, j: usize, numeric: f64, analytic: f64| {
            assert!(
                (numeric - analytic).abs() <= tol * (1.0 + numeric.abs().max(analytic.abs())),
                "{kind} {config} (initial {initial}, finals {finals}): d/d{what}[{j}]: analytic {analytic} vs numeric {numeric}"
            );
        };
        let feat = *x.dims().last().unwrap();
        for j in 0..x.numel() {
            let row = j / feat * feat;
            if x.data()[row..row + feat].iter().all(|&v| v == 0.0) {
                assert_eq!(gx.data()[j], 0.0, "{kind}: dL/dx on a masked step");
                continue;
            }
            let x0 = x.data()[j];
            let h = 1e-2 * x0.abs().max(0.1);
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp.data_mut()[j] = x0 + h;
            xm.data_mut()[j] = x0 - h;
            let numeric = (loss(&mut layer, &xp, &states) - loss(&mut layer, &xm, &states))
                / ((x0 + h) as f64 - (x0 - h) as f64);
            check("x", j, numeric, gx.data()[j] as f64);
        }
        for (si, g) in g_init.iter().enumerate() {
            assert_eq!(g.dims(), states[si].dims());
            for j in 0..g.numel() {
                let v0 = states[si].data()[j];
                let h = 1e-2 * v0.abs().max(0.1);
                let (mut sp, mut sm) = (states.clone(), states.clone());
                sp[si].data_mut()[j] = v0 + h;
                sm[si].data_mut()[j] = v0 - h;
                let numeric = (loss(&mut layer, &x, &sp) - loss(&mut layer, &x, &sm))
                    / ((v0 + h) as f64 - (v0 - h) as f64);
                check(names[si], j, numeric, g.data()[j] as f64);
            }
        }
        let grads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
        for (pi, analytic) in grads.iter().enumerate() {
            for (j, &want) in analytic.iter().enumerate() {
                let v0 = layer.params()[pi].value.data()[j];
                let h = 1e-2 * v0.abs().max(0.1);
                layer.params_mut()[pi].value.data_mut()[j] = v0 + h;
                let plus = loss(&mut layer, &x, &states);
                layer.params_mut()[pi].value.data_mut()[j] = v0 - h;
                let minus = loss(&mut layer, &x, &states);
                layer.params_mut()[pi].value.data_mut()[j] = v0;
                let name = layer.params()[pi].name;
                check(
                    name,
                    j,
                    (plus - minus) / ((v0 + h) as f64 - (v0 - h) as f64),
                    want as f64,
                );
            }
        }
    }
}
