//! Normalization layers: `batchNorm` (statistics per channel over the batch) and
//! `layerNorm` (statistics per sample over its last axis), each followed by a learned
//! per-channel affine map y = γ·x̂ + β.
//!
//! `batchNorm({ axis = -1, momentum = 0.99, epsilon = 1e-3, center = true, scale = true,
//! gammaInitializer = ones, betaInitializer = zeros, movingMeanInitializer = zeros,
//! movingVarianceInitializer = ones, gammaRegularizer, betaRegularizer })`
//!   `axis` is the channel axis of the input `[batch, ...]`, counted with the batch axis
//!   as Keras does (-1: the last, channels last; 0, the batch axis, is refused). With C
//!   channels and m = the number of values per channel in the batch (every axis but
//!   `axis`):
//!     training:  μ = Σx/m, σ² = Σ(x − μ)²/m (biased), x̂ = (x − μ)/√(σ² + ε)
//!                movingMean     ← momentum·movingMean     + (1 − momentum)·μ
//!                movingVariance ← momentum·movingVariance + (1 − momentum)·σ²·m/(m − 1)
//!     inference: x̂ = (x − movingMean)/√(movingVariance + ε)
//!   NOTE: the running variance takes the UNBIASED batch variance σ²·m/(m − 1), as torch
//!   does (Keras takes the biased one), so running statistics match torch's after the
//!   same steps and a model trained here evaluates like one trained in torch. With m = 1
//!   the unbiased variance is undefined (torch refuses such a batch); we use σ² = 0.
//!   Backward in training is the full batch-norm gradient, through μ and σ²:
//!     dx = γ/√(σ² + ε) · (gy − Σgy/m − x̂·Σ(gy·x̂)/m),  dγ = Σ gy·x̂,  dβ = Σ gy;
//!   in inference, the affine one: dx = γ·gy/√(movingVariance + ε). Backward uses the
//!   statistics of the forward it follows (kept per channel), not the updated ones.
//!   Parameters, in this order (Keras's getWeights order), all `[C]`:
//!     "gamma" (if scale)          = torch BatchNorm{1,2}d `weight`
//!     "beta" (if center)          = torch `bias`
//!     "movingMean" (trainable: false)     = torch `running_mean`
//!     "movingVariance" (trainable: false) = torch `running_var`
//!   Torch conversion: torch's channel axis is 1 (NCHW / NCL), ours the last: transpose
//!   the input, not the parameters. torch momentum = 1 − our momentum (0.99 ↔ 0.01;
//!   torch's default 0.1 is our 0.9); torch eps defaults to 1e-5 (ours 1e-3, Keras's).
//!   torch affine=False is center = scale = false; with only one of them, torch's
//!   missing half is γ = 1 or β = 0.
//!
//! `layerNorm({ axis = -1, epsilon = 1e-3, center = true, scale = true, gammaInitializer
//! = ones, betaInitializer = zeros, gammaRegularizer, betaRegularizer })`
//!   Per sample and position, over the last axis (size C; `axis` must name it):
//!     μ = Σx/C, σ² = Σ(x − μ)²/C, x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β,
//!   the same in training and inference. Backward, per row, with g = gy·γ:
//!     dx = (g − Σg/C − x̂·Σ(g·x̂)/C)/√(σ² + ε),  dγ = Σ gy·x̂,  dβ = Σ gy.
//!   Parameters "gamma" [C] (if scale) = torch LayerNorm(C) `weight`, "beta" [C] (if
//!   center) = torch `bias`. torch eps defaults to 1e-5 (ours 1e-3, Keras's);
//!   elementwise_affine=False is center = scale = false, bias=False is center = false.
//!
//! Sums accumulate in f64 and the variance is two-pass, so large batches and large
//! means keep their precision.

use super::init::Init;
use super::{check_input, Layer, Param, Regularizer};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::norm::{self, Channels};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The learned affine part both layers share: options, and the γ/β parameters.
struct Affine {
    center: bool,
    scale: bool,
    gamma_init: Init,
    beta_init: Init,
    gamma_reg: Option<Regularizer>,
    beta_reg: Option<Regularizer>,
}

const AFFINE_KEYS: &[&str] = &[
    "center",
    "scale",
    "gammaInitializer",
    "betaInitializer",
    "gammaRegularizer",
    "betaRegularizer",
];

impl Affine {
    fn from_config(cfg: &Config) -> Result<Affine> {
        Ok(Affine {
            center: cfg.bool("center", true)?,
            scale: cfg.bool("scale", true)?,
            gamma_init: Init::from_config(cfg, "gammaInitializer", Init::Constant(1.0))?,
            beta_init: Init::from_config(cfg, "betaInitializer", Init::Constant(0.0))?,
            gamma_reg: Regularizer::from_config(cfg, "gammaRegularizer")?,
            beta_reg: Regularizer::from_config(cfg, "betaRegularizer")?,
        })
    }

    /// "gamma" then "beta" (those enabled), each `[c]`.
    fn params(&self, c: usize, rng: &mut Rng) -> Vec<Param> {
        let mut out = Vec::new();
        if self.scale {
            let mut p = Param::new(
                "gamma",
                Tensor::new(Shape::new(vec![c]), self.gamma_init.values(&[c], c, c, rng)),
                true,
            );
            p.regularizer = self.gamma_reg;
            out.push(p);
        }
        if self.center {
            let mut p = Param::new(
                "beta",
                Tensor::new(Shape::new(vec![c]), self.beta_init.values(&[c], c, c, rng)),
                true,
            );
            p.regularizer = self.beta_reg;
            out.push(p);
        }
        out
    }

    /// Index of γ and β in the params list.
    fn gamma(&self) -> Option<usize> {
        self.scale.then_some(0)
    }

    fn beta(&self) -> Option<usize> {
        self.center.then_some(self.scale as usize)
    }

    /// Adds the regularizers' gradients to γ and β.
    fn add_penalty_grads(&self, params: &mut [Param]) {
        for p in params
            .iter_mut()
            .take(self.scale as usize + self.center as usize)
        {
            if let Some(r) = p.regularizer {
                r.add_grad(p.value.data(), &mut p.grad);
            }
        }
    }
}

fn read_axis(cfg: &Config) -> Result<i64> {
    let axis = cfg.int("axis", -1)?;
    if axis == 0 {
        return Err(Error::invalid(
            cfg.op,
            "axis",
            "a non-batch axis (-1 for the last; 0 is the batch axis)",
            "0",
        ));
    }
    Ok(axis)
}

fn read_epsilon(cfg: &Config) -> Result<f64> {
    cfg.f64_where("epsilon", 1e-3, "a finite number > 0", |e| {
        e.is_finite() && e > 0.0
    })
}

/// The per-sample index of the Keras `axis` (counted with the batch axis) for inputs
/// `[batch, ...input]`.
fn resolve_axis(op: &'static str, axis: i64, input: &[usize]) -> Result<usize> {
    let rank = input.len() as i64 + 1;
    let a = if axis < 0 { rank + axis } else { axis };
    if input.is_empty() || a < 1 || a >= rank {
        let mut full = vec![0usize];
        full.extend_from_slice(input);
        let shown = Shape::new(full).to_string().replacen('0', "batch", 1);
        let expected = if input.is_empty() {
            "an input with a channel axis, [batch, ..., channels]".to_string()
        } else {
            format!(
                "an axis of the input {shown}: -{} to -1 or 1 to {}",
                rank - 1,
                rank - 1
            )
        };
        return Err(Error::shape(
            op,
            "axis",
            expected,
            format!("axis {axis} for input {shown}"),
        ));
    }
    Ok(a as usize - 1)
}

// ---------------------------------------------------------------------------------------
// batchNorm

pub struct BatchNorm {
    axis: i64,
    momentum: f64,
    epsilon: f64,
    affine: Affine,
    moving_mean_init: Init,
    moving_var_init: Init,
    input: Vec<usize>,
    /// Per-sample shape split around the channel axis: `[pre, c, inner]`.
    pre: usize,
    c: usize,
    inner: usize,
    params: Vec<Param>,
    /// The μ and 1/√(σ² + ε) per channel the last forward normalized with (batch or
    /// running statistics), and which kind they were.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    batch_stats: bool,
    /// Per-channel f64 accumulators, reused.
    acc: Vec<f64>,
    acc2: Vec<f64>,
}

pub fn build_batch_norm(cfg: &Config) -> Result<Box<dyn Layer>> {
    let mut keys = vec![
        "axis",
        "momentum",
        "epsilon",
        "movingMeanInitializer",
        "movingVarianceInitializer",
    ];
    keys.extend_from_slice(AFFINE_KEYS);
    cfg.check_keys(&keys)?;
    Ok(Box::new(BatchNorm {
        axis: read_axis(cfg)?,
        momentum: cfg.f64_where("momentum", 0.99, "a number in [0, 1]", |m| {
            (0.0..=1.0).contains(&m)
        })?,
        epsilon: read_epsilon(cfg)?,
        affine: Affine::from_config(cfg)?,
        moving_mean_init: Init::from_config(cfg, "movingMeanInitializer", Init::Constant(0.0))?,
        moving_var_init: Init::from_config(cfg, "movingVarianceInitializer", Init::Constant(1.0))?,
        input: Vec::new(),
        pre: 0,
        c: 0,
        inner: 0,
        params: Vec::new(),
        mean: Vec::new(),
        inv_std: Vec::new(),
        batch_stats: false,
        acc: Vec::new(),
        acc2: Vec::new(),
    }))
}

impl BatchNorm {
    fn moving(&self) -> usize {
        self.affine.scale as usize + self.affine.center as usize
    }

    /// The channel layout of a batch of `batch` samples.
    fn channels(&self, batch: usize) -> Channels {
        Channels {
            outer: batch * self.pre,
            c: self.c,
            inner: self.inner,
        }
    }
}

impl Layer for BatchNorm {
    fn kind(&self) -> &'static str {
        "batchNorm"
    }

    fn config(&self) -> Value {
        json!({ "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.affine.center, "scale": self.affine.scale })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let a = resolve_axis("batchNorm", self.axis, input)?;
        let c = input[a];
        self.input = input.to_vec();
        self.pre = input[..a].iter().product();
        self.c = c;
        self.inner = input[a + 1..].iter().product();
        let mut params = self.affine.params(c, rng);
        let mm = self.moving_mean_init.values(&[c], c, c, rng);
        let mv = self.moving_var_init.values(&[c], c, c, rng);
        params.push(Param::new(
            "movingMean",
            Tensor::new(Shape::new(vec![c]), mm),
            false,
        ));
        params.push(Param::new(
            "movingVariance",
            Tensor::new(Shape::new(vec![c]), mv),
            false,
        ));
        self.params = params;
        self.mean = vec![0.0; c];
        self.inv_std = vec![0.0; c];
        self.acc = vec![0.0; c];
        self.acc2 = vec![0.0; c];
        Ok(input.to_vec())
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        let batch = check_input("batchNorm", x, &self.input)?;
        let ch = self.channels(batch);
        let m = ch.outer * ch.inner;
        let xs = x.data();
        let mv_at = self.moving();
        self.batch_stats = training && m > 0;
        if self.batch_stats {
            let (acc, acc2) = (&mut self.acc, &mut self.acc2);
            norm::batch_norm_moments(xs, ch, acc, acc2);
            let mf = m as f64;
            let (mom, eps) = (self.momentum, self.epsilon);
            let (mm, mv) = self.params[mv_at..].split_at_mut(1);
            let (mm, mv) = (mm[0].value.data_mut(), mv[0].value.data_mut());
            for c in 0..self.c {
                let mu = acc[c];
                let var = acc2[c] / mf;
                let unbiased = if m > 1 { acc2[c] / (mf - 1.0) } else { 0.0 };
                self.mean[c] = mu as f32;
                self.inv_std[c] = (1.0 / (var + eps).sqrt()) as f32;
                mm[c] = (mom * mm[c] as f64 + (1.0 - mom) * mu) as f32;
                mv[c] = (mom * mv[c] as f64 + (1.0 - mom) * unbiased) as f32;
            }
        } else {
            let mm = self.params[mv_at].value.data();
            let mv = self.params[mv_at + 1].value.data();
            for c in 0..self.c {
                self.mean[c] = mm[c];
                self.inv_std[c] = (1.0 / (mv[c] as f64 + self.epsilon).sqrt()) as f32;
            }
        }
        y.resize(x.dims());
        let gamma = self.affine.gamma().map(|i| self.params[i].value.data());
        let beta = self.affine.beta().map(|i| self.params[i].value.data());
        let (mean, inv_std) = (&self.mean, &self.inv_std);
        norm::batch_norm_apply(xs, y.data_mut(), ch, mean, inv_std, gamma, beta);
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        let batch = check_input("batchNorm", x, &self.input)?;
        if gy.dims() != x.dims() {
            return Err(Error::shape(
                "batchNorm",
                "gradient",
                format!("shape {}", x.shape()),
                format!("shape {}", gy.shape()),
            ));
        }
        let ch = self.channels(batch);
        let (xs, gs) = (x.data(), gy.data());
        let (mean, inv_std) = (&self.mean, &self.inv_std);
        let (acc, acc2) = (&mut self.acc, &mut self.acc2);
        norm::batch_norm_grad_sums(gs, xs, ch, mean, inv_std, acc, acc2);
        if let Some(i) = self.affine.gamma() {
            self.params[i]
                .grad
                .iter_mut()
                .zip(acc2.iter())
                .for_each(|(d, &s)| *d += s as f32);
        }
        if let Some(i) = self.affine.beta() {
            self.params[i]
                .grad
                .iter_mut()
                .zip(acc.iter())
                .for_each(|(d, &s)| *d += s as f32);
        }
        self.affine.add_penalty_grads(&mut self.params);
        gx.resize(x.dims());
        let gamma = self.affine.gamma().map(|i| self.params[i].value.data());
        let sums = self.batch_stats.then_some((&acc[..], &acc2[..]));
        norm::batch_norm_input_grad(gs, xs, gx.data_mut(), ch, mean, inv_std, gamma, sums);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// layerNorm

pub struct LayerNorm {
    axis: i64,
    epsilon: f64,
    affine: Affine,
    input: Vec<usize>,
    c: usize,
    params: Vec<Param>,
    /// μ and 1/√(σ² + ε) per row of the last forward.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

pub fn build_layer_norm(cfg: &Config) -> Result<Box<dyn Layer>> {
    let mut keys = vec!["axis", "epsilon"];
    keys.extend_from_slice(AFFINE_KEYS);
    cfg.check_keys(&keys)?;
    Ok(Box::new(LayerNorm {
        axis: read_axis(cfg)?,
        epsilon: read_epsilon(cfg)?,
        affine: Affine::from_config(cfg)?,
        input: Vec::new(),
        c: 0,
        params: Vec::new(),
        mean: Vec::new(),
        inv_std: Vec::new(),
    }))
}

impl Layer for LayerNorm {
    fn kind(&self) -> &'static str {
        "layerNorm"
    }

    fn config(&self) -> Value {
        json!({ "axis": self.axis, "epsilon": self.epsilon, "center": self.affine.center, "scale": self.affine.scale })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let a = resolve_axis("layerNorm", self.axis, input)?;
        if a + 1 != input.len() {
            let mut full = vec![0usize];
            full.extend_from_slice(input);
            let shown = Shape::new(full).to_string().replacen('0', "batch", 1);
            return Err(Error::invalid(
                "layerNorm",
                "axis",
                "the last axis (-1): layerNorm normalizes over the last axis only",
                format!("axis {} for input {shown}", self.axis),
            ));
        }
        if input[a] == 0 {
            return Err(Error::shape(
                "layerNorm",
                "input",
                "a last axis of size > 0",
                format!("per-sample shape {}", Shape::new(input.to_vec())),
            ));
        }
        self.input = input.to_vec();
        self.c = input[a];
        self.params = self.affine.params(self.c, rng);
        Ok(input.to_vec())
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = check_input("layerNorm", x, &self.input)?;
        let c = self.c;
        let rows = batch * self.input.iter().product::<usize>() / c;
        self.mean.resize(rows, 0.0);
        self.inv_std.resize(rows, 0.0);
        y.resize(x.dims());
        let gamma = self.affine.gamma().map(|i| self.params[i].value.data());
        let beta = self.affine.beta().map(|i| self.params[i].value.data());
        let (mean, inv_std) = (&mut self.mean, &mut self.inv_std);
        norm::layer_norm_forward(
            x.data(),
            y.data_mut(),
            c,
            self.epsilon,
            gamma,
            beta,
            mean,
            inv_std,
        );
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        check_input("layerNorm", x, &self.input)?;
        if gy.dims() != x.dims() {
            return Err(Error::shape(
                "layerNorm",
                "gradient",
                format!("shape {}", x.shape()),
                format!("shape {}", gy.shape()),
            ));
        }
        gx.resize(x.dims());
        // γ's value and gradient, and β's gradient, borrowed apart.
        let (gp, bp) = self.params.split_at_mut(self.affine.scale as usize);
        let (gamma, dgamma) = match gp.first_mut() {
            Some(Param { value, grad, .. }) => (Some(value.data()), Some(&mut grad[..])),
            None => (None, None),
        };
        let dbeta = bp
            .first_mut()
            .filter(|_| self.affine.center)
            .map(|p| &mut p.grad[..]);
        let (mean, inv_std) = (&self.mean, &self.inv_std);
        norm::layer_norm_backward(
            x.data(),
            gy.data(),
            gx.data_mut(),
            self.c,
            mean,
            inv_std,
            gamma,
            dgamma,
            dbeta,
        );
        self.affine.add_penalty_grads(&mut self.params);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::make;
    use super::super::testing::*;
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    fn t(data: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * (1.0 + y.abs()),
                "[{i}]: {x} vs {y}\n{a:?}\n{b:?}"
            );
        }
    }

    #[test]
    fn batch_norm_values_and_running_statistics() {
        // Two channels over a batch of 4: channel 0 = 1, 2, 3, 6 (μ 3, σ² 3.5, unbiased 14/3);
        // channel 1 constant 5 (σ² 0).
        let x = t(&[1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0], &[4, 2]);
        let (mut layer, y) = run("batchNorm", r#"{"momentum":0.9,"epsilon":0.5}"#, &x, true);
        let s = 1.0 / 4.0f32.sqrt();
        close(
            y.data(),
            &[-2.0 * s, 0.0, -s, 0.0, 0.0, 0.0, 3.0 * s, 0.0],
            1e-6,
        );
        let names: Vec<_> = layer
            .params()
            .iter()
            .map(|p| (p.name, p.trainable))
            .collect();
        assert_eq!(
            names,
            [
                ("gamma", true),
                ("beta", true),
                ("movingMean", false),
                ("movingVariance", false)
            ]
        );
        close(
            layer.params()[2].value.data(),
            &[0.1 * 3.0, 0.1 * 5.0],
            1e-6,
        );
        close(
            layer.params()[3].value.data(),
            &[0.9 + 0.1 * 14.0 / 3.0, 0.9],
            1e-6,
        );
        // Inference uses the running statistics: (x − mm)/√(mv + ε).
        let mut y = Tensor::zeros(Shape::new(vec![]));
        layer.forward(&x, &mut y, false).unwrap();
        let (mm, mv) = (0.3f32, 0.9 + 0.1 * 14.0 / 3.0);
        close(
            &y.data()[..2],
            &[
                (1.0 - mm) / (mv + 0.5f32).sqrt(),
                (5.0 - 0.5) / (0.9f32 + 0.5).sqrt(),
            ],
            1e-6,
        );
        // Inference leaves the running statistics alone.
        close(layer.params()[2].value.data(), &[0.3, 0.5], 1e-6);
        // A batch of one value per channel: σ² = 0, and the running variance takes 0 too.
        let (layer, _) = run(
            "batchNorm",
            r#"{"momentum":0.5}"#,
            &t(&[2.0, 4.0], &[1, 2]),
            true,
        );
        close(layer.params()[3].value.data(), &[0.5, 0.5], 1e-6);
    }

    #[test]
    fn batch_norm_axis_and_affine_options() {
        // axis 1 of [batch, 3, 2]: channels along the middle axis; stats over batch and last.
        let x = normal(&[4, 3, 2], 5);
        let (layer, y) = run("batchNorm", r#"{"axis":1,"center":false}"#, &x, true);
        assert_eq!(
            layer.params().iter().map(|p| p.name).collect::<Vec<_>>(),
            ["gamma", "movingMean", "movingVariance"]
        );
        for ch in 0..3 {
            let vals: Vec<f64> = (0..4)
                .flat_map(|b| (0..2).map(move |k| (b, k)))
                .map(|(b, k)| y.data()[b * 6 + ch * 2 + k] as f64)
                .collect();
            let mean = vals.iter().sum::<f64>() / 8.0;
            let var = vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 8.0;
            assert!(mean.abs() < 1e-5 && var > 0.9 && var <= 1.0, "{mean} {var}");
        }
        // axis -2 is the same axis.
        let (_, y2) = run("batchNorm", r#"{"axis":-2,"center":false}"#, &x, true);
        assert_eq!(y.data(), y2.data());
        let (layer, _) = run("batchNorm", r#"{"center":false,"scale":false}"#, &x, true);
        assert_eq!(layer.params().len(), 2);
        assert_eq!(layer.config()["momentum"], crate::json::json!(0.99));
    }

    #[test]
    fn batch_norm_gradients() {
        let inits = r#""gammaInitializer":{"type":"randomNormal","mean":1,"stddev":0.5},"betaInitializer":{"type":"randomNormal","stddev":0.5}"#;
        let running = r#""movingMeanInitializer":{"type":"constant","value":0.3},"movingVarianceInitializer":{"type":"constant","value":1.7}"#;
        for training in [true, false] {
            for (cfg, dims) in [
                (format!("{{{inits}}}"), vec![5, 3]),
                (format!("{{{inits},{running}}}"), vec![3, 2, 5]),
                (format!("{{\"axis\":1,{inits},{running}}}"), vec![2, 3, 5]),
                (format!("{{\"axis\":2,\"center\":false,{inits},\"gammaRegularizer\":{{\"l2\":0.1}}}}"), vec![2, 3, 5, 2]),
                (r#"{"scale":false,"epsilon":0.01}"#.to_string(), vec![7, 3]),
                (format!("{{\"epsilon\":0.1,{inits}}}"), vec![1, 3, 3]),
            ] {
                gradcheck("batchNorm", &cfg, normal(&dims, 3), training, 3e-3);
            }
        }
    }

    #[test]
    fn batch_norm_backward_uses_the_statistics_of_its_forward() {
        let (mut layer, y) = run("batchNorm", "{}", &normal(&[6, 3], 1), true);
        let x = normal(&[6, 3], 1);
        let gy = normal(&[6, 3], 2);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        layer.backward(&x, &y, &gy, &mut gx).unwrap();
        // An inference forward in between switches backward to the affine gradient.
        let mut y2 = Tensor::zeros(Shape::new(vec![]));
        layer.forward(&x, &mut y2, false).unwrap();
        let mut gx2 = Tensor::zeros(Shape::new(vec![]));
        layer.backward(&x, &y2, &gy, &mut gx2).unwrap();
        let inv: Vec<f32> = layer.params()[3]
            .value
            .data()
            .iter()
            .map(|v| 1.0 / (v + 1e-3).sqrt())
            .collect();
        let want: Vec<f32> = gy
            .data()
            .iter()
            .enumerate()
            .map(|(i, g)| g * inv[i % 3])
            .collect();
        close(gx2.data(), &want, 1e-6);
        assert_ne!(gx.data(), gx2.data());
        // Batch-statistics gradients sum to zero per channel (the mean is subtracted).
        for ch in 0..3 {
            let s: f32 = (0..6).map(|b| gx.data()[b * 3 + ch]).sum();
            assert!(s.abs() < 1e-5, "{s}");
        }
    }

    #[test]
    fn batch_norm_errors() {
        let err = |cfg: &str| make("batchNorm", cfg).err().unwrap();
        assert_eq!(
            err(r#"{"momentum":1.5}"#).to_string(),
            "batchNorm: invalid `momentum`: expected a number in [0, 1], received 1.5"
        );
        assert_eq!(err(r#"{"epsilon":0}"#).arg, "epsilon");
        assert_eq!(err(r#"{"epsilon":-1}"#).arg, "epsilon");
        assert_eq!(err(r#"{"axis":0}"#).arg, "axis");
        assert_eq!(err(r#"{"axis":1.5}"#).arg, "axis");
        assert_eq!(err(r#"{"center":1}"#).arg, "center");
        assert_eq!(
            err(r#"{"movingMeanInitializer":"nope"}"#).arg,
            "movingMeanInitializer"
        );
        assert_eq!(err(r#"{"units":3}"#).arg, "config");
        let mut l = make("batchNorm", r#"{"axis":3}"#).unwrap();
        let e = l.build(&[4, 5], &mut Rng::new(1)).unwrap_err();
        assert_eq!(e.to_string(), "batchNorm: invalid `axis`: expected an axis of the input [batch, 4, 5]: -2 to -1 or 1 to 2, received axis 3 for input [batch, 4, 5]");
        assert_eq!(
            make("batchNorm", r#"{"axis":-3}"#)
                .unwrap()
                .build(&[4, 5], &mut Rng::new(1))
                .unwrap_err()
                .arg,
            "axis"
        );
        assert_eq!(
            make("batchNorm", "{}")
                .unwrap()
                .build(&[], &mut Rng::new(1))
                .unwrap_err()
                .arg,
            "axis"
        );
        let (mut l, _) = run("batchNorm", "{}", &normal(&[2, 3], 1), true);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = l.forward(&normal(&[2, 4], 1), &mut y, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "batchNorm: invalid `input`: expected shape [batch, 3], received shape [2, 4]"
        );
        // An empty batch leaves the running statistics as they were.
        l.forward(&Tensor::zeros(Shape::new(vec![0, 3])), &mut y, true)
            .unwrap();
        assert!(l.params()[2].value.data().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn layer_norm_values() {
        // Row 1, 2, 3, 6: μ 3, σ² 3.5; ε 0.5 → √4 = 2.
        let x = t(&[1.0, 2.0, 3.0, 6.0, 0.0, 0.0, 0.0, 0.0], &[2, 4]);
        let (layer, y) = run("layerNorm", r#"{"epsilon":0.5}"#, &x, true);
        close(y.data(), &[-1.0, -0.5, 0.0, 1.5, 0.0, 0.0, 0.0, 0.0], 1e-6);
        assert_eq!(
            layer
                .params()
                .iter()
                .map(|p| (p.name, p.value.dims().to_vec()))
                .collect::<Vec<_>>(),
            [("gamma", vec![4]), ("beta", vec![4])]
        );
        let (_, y2) = run("layerNorm", r#"{"epsilon":0.5}"#, &x, false);
        assert_eq!(y.data(), y2.data());
        let (layer, _) = run("layerNorm", r#"{"center":false}"#, &x, false);
        assert_eq!(
            layer.params().iter().map(|p| p.name).collect::<Vec<_>>(),
            ["gamma"]
        );
        let (_, y) = run("layerNorm", r#"{"axis":2}"#, &normal(&[2, 3, 5], 1), false);
        assert_eq!(y.dims(), &[2, 3, 5]);
    }

    #[test]
    fn layer_norm_gradients() {
        let inits = r#""gammaInitializer":{"type":"randomNormal","mean":1,"stddev":0.5},"betaInitializer":{"type":"randomNormal","stddev":0.5}"#;
        for (cfg, dims) in [
            (format!("{{{inits}}}"), vec![3, 5]),
            (format!("{{\"epsilon\":0.01,{inits}}}"), vec![2, 3, 7]),
            (r#"{"center":false,"scale":false}"#.to_string(), vec![1, 5]),
            (
                format!(
                    "{{\"center\":false,{inits},\"gammaRegularizer\":{{\"l1\":0.1,\"l2\":0.2}}}}"
                ),
                vec![2, 3],
            ),
            (format!("{{\"scale\":false,{inits}}}"), vec![2, 2, 2, 3]),
        ] {
            gradcheck("layerNorm", &cfg, normal(&dims, 4), false, 3e-3);
        }
    }

    #[test]
    fn layer_norm_errors() {
        let err = |cfg: &str| make("layerNorm", cfg).err().unwrap();
        assert_eq!(
            err(r#"{"epsilon":"big"}"#).to_string(),
            "layerNorm: invalid `epsilon`: expected a number, received \"big\""
        );
        assert_eq!(err(r#"{"momentum":0.9}"#).arg, "config");
        assert_eq!(err(r#"{"axis":0}"#).arg, "axis");
        assert_eq!(
            make("layerNorm", r#"{"axis":1}"#)
                .unwrap()
                .build(&[3, 4], &mut Rng::new(1))
                .unwrap_err()
                .arg,
            "axis"
        );
        assert_eq!(
            make("layerNorm", "{}")
                .unwrap()
                .build(&[3, 0], &mut Rng::new(1))
                .unwrap_err()
                .arg,
            "input"
        );
        let (mut l, _) = run("layerNorm", "{}", &normal(&[2, 3], 1), false);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = l
            .forward(&normal(&[2, 3, 1], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "layerNorm: invalid `input`: expected shape [batch, 3], received shape [2, 3, 1]"
        );
    }
}
