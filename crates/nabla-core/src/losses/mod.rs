//! The loss catalogue. A loss is one file: its config (options with defaults, read
//! from JSON by `Config`), its per-unit values, and their gradient. `reduction.rs`
//! turns units into the reported number for every loss, with sample weights, and
//! `LossOp` makes any loss a differentiable op for `grad` and the training step.
//!
//! Argument order is Keras's `(yTrue, yPred)`; losses with several predictions take
//! them after `yTrue` (`cosineEmbedding(yTrue, x1, x2)`), and `tripletMargin` takes
//! `(anchor, positive, negative)`.
//!
//! Speed: nabla-core is built for size (opt-level "s"), which inlines a small function
//! into a loop only when it is marked `#[inline]`: the per-element helpers of the losses
//! are (`sigmoid`, `softplus`, focal's and KL's terms, ...). Loops that carry a training
//! step's time live in nabla-kernels (opt-level 3): the elementwise losses' formulas
//! (`kernels::pointwise`, which `pointwise` and `pointwise_grad` run), cross-entropy's
//! softmax rows, the NaN scans.

/// The computing methods of a loss that is one formula of `kernels::pointwise`
/// (forward, backward and their buffer forms), from its inherent
/// `fn formula(&self, x: &[&Tensor]) -> Result<Pointwise>`, which also checks what the
/// formula needs of the inputs (labels in {0, 1}, rates ≥ 0, ...). Such a loss's file
/// holds its config, its formula's parameters, its checks and its tests; nothing else.
macro_rules! pointwise_loss {
    () => {
        fn forward(&self, x: &[&Tensor]) -> Result<Units> {
            super::pointwise(self.name(), x, self.formula(x)?)
        }

        fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
            Ok(super::pointwise_grad(x, up, self.formula(x)?))
        }

        fn forward_into(&self, x: &[&Tensor], units: &mut Units) -> Result<()> {
            super::pointwise_into(self.name(), x, self.formula(x)?, units)
        }

        fn grad_into(
            &self,
            x: &[&Tensor],
            _u: &Units,
            up: &[f32],
            i: usize,
            out: &mut Tensor,
        ) -> Result<()> {
            super::pointwise_grad_into(self.name(), x, up, self.formula(x)?, i, out)
        }
    };
}

mod advise;
mod config;
pub mod reduction;

mod binary_cross_entropy;
mod categorical_hinge;
mod cosine_embedding;
mod cosine_similarity;
mod cross_entropy;
mod ctc;
mod dice;
mod focal;
mod gaussian_nll;
mod hinge;
mod hinge_embedding;
mod huber;
mod kl_divergence;
mod log_cosh;
mod mae;
mod mape;
mod margin_ranking;
mod mse;
mod msle;
mod multi_margin;
mod multilabel_soft_margin;
mod nll;
mod poisson_nll;
mod quantile;
mod sequence_cross_entropy;
mod smooth_l1;
mod soft_margin;
mod squared_hinge;
mod triplet_margin;
mod tversky;

pub use advise::advise;
pub use config::Config;
pub use reduction::Reduction;

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::map::first_non_finite;
use crate::kernels::{self, pointwise::Pointwise};
use crate::shape::Shape;
use crate::tensor::Tensor;
use std::cell::RefCell;

/// Per-unit losses (a unit is an element, a sample or a token, as the loss defines),
/// with what "mean" and "batchmean" divide by, and whatever backward needs.
pub struct Units {
    pub values: Tensor,
    /// The divisor of "mean": usually the number of units; torch's weighted and
    /// ignore-index means divide by the sum of the valid units' class weights.
    pub denom: f64,
    /// The divisor of "batchmean": the size of the first dimension.
    pub batch: usize,
    /// Intermediates saved by forward for backward (e.g. probabilities).
    pub saved: Vec<Tensor>,
}

impl Units {
    /// One unit per element of `values`: mean divides by their count.
    pub fn elementwise(values: Tensor) -> Units {
        let mut units = Units {
            values,
            ..Units::default()
        };
        units.count_elements();
        units
    }

    /// Sets `denom` and `batch` for one unit per element of `values`.
    fn count_elements(&mut self) {
        self.denom = self.values.numel() as f64;
        self.batch = self.values.dims().first().copied().unwrap_or(1);
    }
}

impl Default for Units {
    fn default() -> Units {
        Units {
            values: Tensor::zeros(Shape::new(vec![])),
            denom: 0.0,
            batch: 0,
            saved: Vec::new(),
        }
    }
}

pub trait Loss {
    /// The public name (`crossEntropy`).
    fn name(&self) -> &'static str;

    /// The tensors the loss takes, in call order.
    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "yPred"]
    }

    /// Indices of `inputs` that receive a gradient.
    fn differentiable(&self) -> &'static [usize] {
        &[1]
    }

    /// Whether "batchmean" is a meaningful reduction (KL divergence).
    fn batchmean(&self) -> bool {
        false
    }

    /// Whether input `i` may hold ±∞ (e.g. log-targets, where log 0 = −∞). NaN is never accepted.
    fn allows_infinity(&self, i: usize) -> bool {
        let _ = i;
        false
    }

    /// Per-unit factors that "mean" applies on top of the sample weights, for means
    /// that are not Σ w·l / denom (torch's CTC mean divides each sample's loss by its
    /// label length). "sum" and "none" do not see them. None: all 1.
    fn mean_scale(&self, units: &Units) -> Option<Vec<f32>> {
        let _ = units;
        None
    }

    /// Validates the inputs and computes the per-unit losses.
    fn forward(&self, x: &[&Tensor]) -> Result<Units>;

    /// Gradients of `Σ upstream·units` for each input (`None` for labels and targets).
    fn backward(
        &self,
        x: &[&Tensor],
        units: &Units,
        upstream: &[f32],
    ) -> Result<Vec<Option<Tensor>>>;

    /// `forward` into `units`, refilling its buffers: the training step's path, which
    /// must not allocate once the buffers are sized. The same values as `forward`.
    /// Default: `forward` (allocates); a loss overrides it to be allocation-free.
    fn forward_into(&self, x: &[&Tensor], units: &mut Units) -> Result<()> {
        *units = self.forward(x)?;
        Ok(())
    }

    /// The gradient of input `i` alone (of those `backward` gives), into `out`,
    /// refilling its buffer. The same values as `backward`. Default: `backward`.
    fn grad_into(
        &self,
        x: &[&Tensor],
        units: &Units,
        upstream: &[f32],
        i: usize,
        out: &mut Tensor,
    ) -> Result<()> {
        let g = self
            .backward(x, units, upstream)?
            .into_iter()
            .nth(i)
            .flatten();
        *out = g.ok_or_else(|| Error::no_gradient(self.name()))?;
        Ok(())
    }
}

type Builder = fn(&Config) -> Result<Box<dyn Loss>>;

/// Every loss by public name. The TypeScript catalogue is tested against this list.
pub const CATALOGUE: &[(&str, Builder)] = &[
    ("mse", mse::build),
    ("mae", mae::build),
    ("huber", huber::build),
    ("smoothL1", smooth_l1::build),
    ("logCosh", log_cosh::build),
    ("msle", msle::build),
    ("mape", mape::build),
    ("quantile", quantile::build),
    ("poissonNll", poisson_nll::build),
    ("gaussianNll", gaussian_nll::build),
    ("binaryCrossEntropy", binary_cross_entropy::build),
    ("crossEntropy", cross_entropy::build),
    ("nll", nll::build),
    ("klDivergence", kl_divergence::build),
    ("focal", focal::build),
    ("hinge", hinge::build),
    ("squaredHinge", squared_hinge::build),
    ("categoricalHinge", categorical_hinge::build),
    ("multiMargin", multi_margin::build),
    ("softMargin", soft_margin::build),
    ("multilabelSoftMargin", multilabel_soft_margin::build),
    ("sequenceCrossEntropy", sequence_cross_entropy::build),
    ("ctc", ctc::build),
    ("cosineSimilarity", cosine_similarity::build),
    ("cosineEmbedding", cosine_embedding::build),
    ("marginRanking", margin_ranking::build),
    ("tripletMargin", triplet_margin::build),
    ("hingeEmbedding", hinge_embedding::build),
    ("dice", dice::build),
    ("tversky", tversky::build),
];

/// The catalogue as JSON for the TypeScript package's consistency test:
/// `[{"name", "inputs", "differentiable", "batchmean", "implemented"}]`.
pub fn catalogue_json() -> String {
    let entries: Vec<crate::json::Value> = CATALOGUE
        .iter()
        .map(
            |(name, builder)| match builder(&Config::parse("losses", "").expect("empty config")) {
                Ok(loss) => crate::json::json!({
                    "name": *name,
                    "inputs": loss.inputs(),
                    "differentiable": loss.differentiable(),
                    "batchmean": loss.batchmean(),
                    "implemented": true,
                }),
                Err(_) => crate::json::json!({ "name": *name, "implemented": false }),
            },
        )
        .collect();
    crate::json::Value::Array(entries).to_string()
}

/// Builds the loss `name` from its JSON config, with its reduction.
pub fn build(name: &str, config: &str) -> Result<(Box<dyn Loss>, Reduction)> {
    let (op, builder) = CATALOGUE.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        Error::invalid(
            "losses",
            "name",
            "the name of a loss in nb.losses",
            format!("\"{name}\""),
        )
    })?;
    let cfg = Config::parse(op, config)?.sharing("reduction");
    let loss = builder(&cfg)?;
    let reductions: &[&'static str] = if loss.batchmean() {
        &["mean", "sum", "none", "batchmean"]
    } else {
        &["mean", "sum", "none"]
    };
    let r = cfg.choice("reduction", "mean", reductions)?;
    let reduction = Reduction::parse(op, r, loss.batchmean())?;
    Ok((loss, reduction))
}

/// A loss with its reduction as an autograd op: inputs are the loss's tensors, then
/// the sample weights if `weighted`.
pub struct LossOp {
    loss: Box<dyn Loss>,
    reduction: Reduction,
    weighted: bool,
    saved: RefCell<Option<(Units, Option<Vec<f32>>)>>,
    /// The training step's buffers (`train_forward` / `train_grad`), reused from step to step.
    step: StepBuffers,
}

/// Per-unit losses, weights (`None`: not weighted) and dL/d(unit) of the last training step.
#[derive(Default)]
struct StepBuffers {
    units: Units,
    weights: Vec<f32>,
    has_weights: bool,
    upstream: Vec<f32>,
}

impl LossOp {
    pub fn new(name: &str, config: &str, weighted: bool) -> Result<LossOp> {
        let (loss, reduction) = build(name, config)?;
        Ok(LossOp {
            loss,
            reduction,
            weighted,
            saved: RefCell::new(None),
            step: StepBuffers::default(),
        })
    }

    pub fn loss(&self) -> &dyn Loss {
        self.loss.as_ref()
    }

    /// Loss value and the gradients of the differentiable inputs (in `differentiable` order).
    pub fn value_and_grad(&self, inputs: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        let y = self.forward(inputs)?;
        let g = Tensor::full(y.shape().clone(), 1.0);
        let grads = self.backward(inputs, &y, &g)?;
        Ok((
            y,
            self.loss
                .differentiable()
                .iter()
                .filter_map(|&i| grads[i].clone())
                .collect(),
        ))
    }
}

impl LossOp {
    /// The reduced loss for a training step (the `forward` value, with the upstream of
    /// a scalar 1 for `train_grad`), computed in buffers kept here: no allocation once
    /// they are sized, for losses that implement `forward_into` / `grad_into`.
    pub fn train_forward(&mut self, inputs: &[&Tensor]) -> Result<f32> {
        let n = self.check_inputs(inputs)?;
        let b = &mut self.step;
        self.loss.forward_into(&inputs[..n], &mut b.units)?;
        let sw = self.weighted.then(|| inputs[n]);
        b.has_weights = unit_weights(&*self.loss, self.reduction, sw, &b.units, &mut b.weights)?;
        let weights = b.has_weights.then_some(&b.weights[..]);
        Ok(reduction::reduce_value(self.reduction, &b.units, weights))
    }

    /// dL/d(`inputs[i]`) of the last `train_forward`, into `grad` (its buffer reused).
    pub fn train_grad(&mut self, inputs: &[&Tensor], i: usize, grad: &mut Tensor) -> Result<()> {
        let n = self.loss.inputs().len();
        let b = &mut self.step;
        let weights = b.has_weights.then_some(&b.weights[..]);
        reduction::upstream_into(self.reduction, &b.units, weights, 1.0, &mut b.upstream);
        self.loss
            .grad_into(&inputs[..n], &b.units, &b.upstream, i, grad)
    }

    /// The argument count and the finiteness of every input; returns the loss's count.
    fn check_inputs(&self, inputs: &[&Tensor]) -> Result<usize> {
        let n = self.loss.inputs().len();
        if inputs.len() != n + usize::from(self.weighted) {
            return Err(Error::invalid(
                self.name(),
                "arguments",
                format!("{} tensors ({})", n, self.loss.inputs().join(", ")),
                format!("{}", inputs.len()),
            ));
        }
        for (i, t) in inputs[..n].iter().enumerate() {
            check_finite(
                self.name(),
                self.loss.inputs()[i],
                t,
                self.loss.allows_infinity(i),
            )?;
        }
        if self.weighted {
            check_finite(self.name(), "sampleWeight", inputs[n], false)?;
        }
        Ok(n)
    }
}

impl Op for LossOp {
    fn name(&self) -> &'static str {
        self.loss.name()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let n = self.check_inputs(inputs)?;
        let units = self.loss.forward(&inputs[..n])?;
        let mut w = Vec::new();
        let sw = self.weighted.then(|| inputs[n]);
        let weights = unit_weights(&*self.loss, self.reduction, sw, &units, &mut w)?.then_some(w);
        let out = reduction::reduce(self.reduction, &units, weights.as_deref());
        *self.saved.borrow_mut() = Some((units, weights));
        Ok(out)
    }

    fn backward(&self, inputs: &[&Tensor], _y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let saved = self.saved.borrow();
        let (units, weights) = saved
            .as_ref()
            .ok_or_else(|| Error::state(self.name(), "a forward pass before backward", "none"))?;
        let up = reduction::upstream(self.reduction, units, weights.as_deref(), g);
        let n = self.loss.inputs().len();
        let mut grads = self.loss.backward(&inputs[..n], units, &up)?;
        if self.weighted {
            grads.push(None);
        }
        Ok(grads)
    }
}

// --- shared by the loss files ---------------------------------------------------------

/// The per-unit weights the reduction applies, into `out` (its capacity reused); false
/// when there are none. Sample weights `sw` are expanded to the units' shape; a per-unit
/// mean factor (`Loss::mean_scale`) acts as a sample weight that only "mean" applies, so
/// `upstream` then gives each unit its w·scale/denom share of the gradient.
fn unit_weights(
    loss: &dyn Loss,
    reduction: Reduction,
    sw: Option<&Tensor>,
    units: &Units,
    out: &mut Vec<f32>,
) -> Result<bool> {
    if let Some(sw) = sw {
        reduction::expand_weights_into(loss.name(), sw, units.values.shape(), out)?;
    }
    match (reduction, loss.mean_scale(units)) {
        (Reduction::Mean, Some(scale)) => {
            if sw.is_some() {
                out.iter_mut().zip(&scale).for_each(|(w, s)| *w *= s);
            } else {
                out.clear();
                out.extend_from_slice(&scale);
            }
            Ok(true)
        }
        _ => Ok(sw.is_some()),
    }
}

/// NaN (and ±∞ unless allowed) in a float input is an error naming it: a loss computed
/// from it would be NaN without saying why.
fn check_finite(op: &'static str, arg: &str, t: &Tensor, infinity_ok: bool) -> Result<()> {
    let values = t.data(); // empty for int32 tensors, which cannot hold NaN
    if let Some(i) = first_non_finite(values, infinity_ok) {
        let expected = if infinity_ok {
            "values that are not NaN"
        } else {
            "finite values"
        };
        return Err(Error::invalid(
            op,
            arg,
            expected,
            format!("{} at index {i}", values[i]),
        ));
    }
    Ok(())
}

/// Both tensors are float and of the same shape.
pub(crate) fn same_shape<'a>(
    op: &'static str,
    names: [&str; 2],
    a: &'a Tensor,
    b: &'a Tensor,
) -> Result<(&'a [f32], &'a [f32])> {
    let (av, bv) = (a.f32s(op, names[0])?, b.f32s(op, names[1])?);
    if a.dims() != b.dims() {
        return Err(Error::shape(
            op,
            names[0],
            format!("the shape of `{}`, {}", names[1], b.shape()),
            format!("shape {}", a.shape()),
        ));
    }
    Ok((av, bv))
}

/// Elementwise units of a loss whose formula is in `kernels::pointwise`, after the
/// shape check.
pub(crate) fn pointwise(op: &'static str, x: &[&Tensor], f: Pointwise) -> Result<Units> {
    let mut units = Units::default();
    pointwise_into(op, x, f, &mut units)?;
    Ok(units)
}

/// `pointwise` into `units`, refilling its buffer (the losses' `forward_into`).
pub(crate) fn pointwise_into(
    op: &'static str,
    x: &[&Tensor],
    f: Pointwise,
    units: &mut Units,
) -> Result<()> {
    let (t, p) = same_shape(op, ["yTrue", "yPred"], x[0], x[1])?;
    kernels::pointwise::values_into(f, t, p, units.values.f32_buffer(x[1].dims()));
    units.count_elements();
    units.saved.clear();
    Ok(())
}

/// The gradient for `pointwise` losses: `up · dl/dp(t, p)`.
pub(crate) fn pointwise_grad(x: &[&Tensor], up: &[f32], f: Pointwise) -> Vec<Option<Tensor>> {
    let mut g = Tensor::zeros(Shape::new(vec![]));
    let buf = g.f32_buffer(x[1].dims());
    kernels::pointwise::grads_into(f, x[0].data(), x[1].data(), up, buf);
    vec![None, Some(g)]
}

/// `pointwise_grad` of input `i` (yPred, the one differentiable input) into `out`,
/// refilling its buffer (the losses' `grad_into`).
pub(crate) fn pointwise_grad_into(
    op: &'static str,
    x: &[&Tensor],
    up: &[f32],
    f: Pointwise,
    i: usize,
    out: &mut Tensor,
) -> Result<()> {
    if i != 1 {
        return Err(Error::no_gradient(op));
    }
    let buf = out.f32_buffer(x[1].dims());
    kernels::pointwise::grads_into(f, x[0].data(), x[1].data(), up, buf);
    Ok(())
}

/// Class labels for predictions of shape `[..., classes]`: int32 of the leading shape,
/// each in `[0, classes)` or equal to `ignore`.
pub(crate) fn class_labels<'a>(
    op: &'static str,
    labels: &'a Tensor,
    preds: &Tensor,
    ignore: Option<i64>,
) -> Result<&'a [i32]> {
    let values = labels.i32s(op, "yTrue")?;
    let pd = preds.dims();
    if pd.is_empty() || labels.dims() != &pd[..pd.len() - 1] {
        return Err(Error::shape(
            op,
            "yTrue",
            format!(
                "class indices of shape {} (yPred's shape {} without its last, class axis)",
                Shape::new(pd[..pd.len().saturating_sub(1)].to_vec()),
                preds.shape()
            ),
            format!("shape {}", labels.shape()),
        ));
    }
    let classes = pd[pd.len() - 1] as i64;
    for (i, &y) in values.iter().enumerate() {
        if (y < 0 || y as i64 >= classes) && Some(y as i64) != ignore {
            let ign = ignore.map_or(String::new(), |v| format!(" or ignoreIndex {v}"));
            return Err(Error::invalid(
                op,
                "yTrue",
                format!("class indices in [0, {classes}){ign}"),
                format!("{y} at index {i}"),
            ));
        }
    }
    Ok(values)
}

/// Shared by the loss files' tests: tensors and a finite-difference gradient check.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::rng::Rng;

    pub fn t(data: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    pub fn labels(data: &[i32], dims: &[usize]) -> Tensor {
        Tensor::from_i32("test", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    pub fn normal(dims: &[usize], seed: u64) -> Tensor {
        let mut r = Rng::new(seed);
        let n: usize = dims.iter().product();
        t(&(0..n).map(|_| r.normal()).collect::<Vec<_>>(), dims)
    }

    /// Per-unit values ("none") of `name` with the config options `extra` (a JSON
    /// fragment such as `,"delta":2`, or empty) on `inputs`.
    pub fn none(name: &str, extra: &str, inputs: &[&Tensor]) -> Vec<f32> {
        let cfg = format!(r#"{{"reduction":"none"{extra}}}"#);
        LossOp::new(name, &cfg, false)
            .unwrap()
            .forward(inputs)
            .unwrap()
            .into_vec()
    }

    /// The message of the error that building or running the loss gives ("" if none).
    pub fn error(name: &str, config: &str, inputs: &[&Tensor]) -> String {
        match LossOp::new(name, config, false) {
            Err(e) => e.to_string(),
            Ok(op) => op
                .forward(inputs)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        }
    }

    /// The reduced loss of `name` with `config` on `inputs` (and optional weights).
    pub fn value(name: &str, config: &str, inputs: &[&Tensor]) -> f32 {
        let op = LossOp::new(name, config, false).unwrap();
        op.forward(inputs).unwrap().data()[0]
    }

    /// Checks `loss.grad` against central differences of the "sum" of the loss (each
    /// unit weighted by a random upstream, values accumulated in f64) for each
    /// differentiable input. `h` is the relative step.
    pub fn gradcheck(name: &str, config: &str, inputs: Vec<Tensor>, h: f64, tol: f64) {
        let Ok((loss, _)) = build(name, config) else {
            panic!("{name}: does not build from {config}")
        };
        let refs: Vec<&Tensor> = inputs.iter().collect();
        let units = loss.forward(&refs).unwrap();
        let mut r = Rng::new(5);
        let up: Vec<f32> = (0..units.values.numel()).map(|_| r.normal()).collect();
        let grads = loss.backward(&refs, &units, &up).unwrap();
        let total = |xs: &[Tensor]| -> f64 {
            let refs: Vec<&Tensor> = xs.iter().collect();
            let u = loss.forward(&refs).unwrap();
            u.values
                .data()
                .iter()
                .zip(&up)
                .map(|(&l, &w)| l as f64 * w as f64)
                .sum()
        };
        for &i in loss.differentiable() {
            let g = grads[i]
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no gradient for input {i}"));
            assert_eq!(g.dims(), inputs[i].dims(), "{name}: gradient {i} shape");
            for j in 0..inputs[i].numel() {
                let x0 = inputs[i].data()[j];
                let step = (h * (x0.abs() as f64).max(0.1)) as f32;
                let mut plus = inputs.clone();
                plus[i].data_mut()[j] = x0 + step;
                let mut minus = inputs.clone();
                minus[i].data_mut()[j] = x0 - step;
                let numeric =
                    (total(&plus) - total(&minus)) / ((x0 + step) as f64 - (x0 - step) as f64);
                let analytic = g.data()[j] as f64;
                assert!(
                    (numeric - analytic).abs() <= tol * (1.0 + numeric.abs().max(analytic.abs())),
                    "{name} {config}: d/d{}[{j}]: analytic {analytic} vs numeric {numeric}",
                    loss.inputs()[i]
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn mse_is_the_mean_of_squared_differences() {
        let (y, p) = (t(&[1.0, 2.0, 3.0], &[3]), t(&[1.5, 2.0, 2.0], &[3]));
        assert_eq!(value("mse", "", &[&y, &p]), (0.25 + 1.0) / 3.0);
        assert_eq!(value("mse", r#"{"reduction":"sum"}"#, &[&y, &p]), 1.25);
        gradcheck(
            "mse",
            "",
            vec![normal(&[3, 5], 1), normal(&[3, 5], 2)],
            1e-3,
            1e-3,
        );
    }

    #[test]
    fn cross_entropy_from_logits_is_stable_and_exact() {
        let x = t(&[1e4, -1e4, 0.0], &[1, 3]);
        assert_eq!(
            value(
                "crossEntropy",
                r#"{"fromLogits":true}"#,
                &[&labels(&[0], &[1]), &x]
            ),
            0.0
        );
        assert_eq!(
            value(
                "crossEntropy",
                r#"{"fromLogits":true}"#,
                &[&labels(&[1], &[1]), &x]
            ),
            2e4
        );
        for cfg in [
            r#"{"fromLogits":true}"#,
            r#"{"fromLogits":true,"labelSmoothing":0.2,"classWeights":[1,2,0.5,1]}"#,
            r#"{"fromLogits":false,"labelSmoothing":0.1}"#,
        ] {
            let logits = normal(&[3, 4], 3);
            let preds = if cfg.contains("false") {
                t(
                    &logits.data().iter().map(|v| v.exp()).collect::<Vec<_>>(),
                    &[3, 4],
                )
            } else {
                logits
            };
            gradcheck(
                "crossEntropy",
                cfg,
                vec![labels(&[0, 3, 1], &[3]), preds.clone()],
                1e-3,
                2e-3,
            );
            let probs = t(
                &[
                    0.2, 0.3, 0.4, 0.1, 1.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.25, 0.25,
                ],
                &[3, 4],
            );
            gradcheck("crossEntropy", cfg, vec![probs, preds], 1e-3, 2e-3);
        }
    }

    #[test]
    fn ignored_labels_do_not_count() {
        let x = normal(&[3, 4], 4);
        let all = value(
            "crossEntropy",
            r#"{"fromLogits":true}"#,
            &[&labels(&[1, 2, 3], &[3]), &x],
        );
        let first = value(
            "crossEntropy",
            r#"{"fromLogits":true}"#,
            &[&labels(&[1, -100, -100], &[3]), &x],
        );
        let only = value(
            "crossEntropy",
            r#"{"fromLogits":true,"reduction":"sum"}"#,
            &[&labels(&[1, -100, -100], &[3]), &x],
        );
        assert_eq!(first, only);
        assert!(all != first);
        assert_eq!(
            value(
                "crossEntropy",
                r#"{"fromLogits":true}"#,
                &[&labels(&[-100, -100, -100], &[3]), &x]
            ),
            0.0
        );
    }

    #[test]
    fn every_catalogued_loss_builds_from_its_defaults() {
        for (name, _) in CATALOGUE {
            if let Err(e) = build(name, "") {
                assert_eq!(e.received, "one still being written", "{name}: {e}");
            }
        }
        let err = |n: &str, c: &str| build(n, c).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err("nope", ""),
            "losses: invalid `name`: expected the name of a loss in nb.losses, received \"nope\""
        );
        assert_eq!(err("mse", r#"{"reduction":"batchmean"}"#), "mse: invalid `reduction`: expected one of \"mean\", \"sum\", \"none\", received \"batchmean\"");
    }
}
