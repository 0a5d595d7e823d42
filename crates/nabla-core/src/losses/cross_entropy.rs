//! Cross-entropy between class targets and predicted class scores over the last axis.
//!
//! With per-class coefficients a (from the target, label smoothing ε and class weights w):
//!   integer label y:   a_c = (1−ε)·w_y·[c = y] + (ε/C)·w_c   (ignored labels: a = 0)
//!   probabilities t:   a_c = w_c·((1−ε)·t_c + ε/C)
//! the loss of a row is l = −Σ_c a_c·log p_c, where
//!   fromLogits:  log p = x − logSumExp(x), max-shifted in f64: finite and exact for any
//!                finite logits (±1e4 included); dl/dx_c = (Σa)·p_c − a_c
//!   otherwise:   p = clip(q / Σq, ε_p, 1 − ε_p) (Keras: renormalized, ε_p = 1e-7), with the
//!                exact derivative through the normalization and the clip.
//! "mean" divides by the sum of w_y over non-ignored labels (torch's weighted mean; the
//! number of valid labels without weights) and by the number of rows for probability
//! targets. See: torch.nn.CrossEntropyLoss, keras.losses.CategoricalCrossentropy /
//! SparseCategoricalCrossentropy. The per-class loops are row kernels in
//! `kernels::softmax` (built for speed); this file keeps the options and the validation.
//!
//! NOTE: `fromLogits` defaults to false, as in Keras: pass `fromLogits: true` for the
//! raw outputs of a final dense layer (what torch's CrossEntropyLoss always takes).

use super::{class_labels, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::softmax::{
    class_weight_total, clipped_nll, clipped_nll_grad, dense_target_coefs, dense_target_grad,
    dense_target_sums, normalize_row, scaled_probs, smoothed_probs, smoothing_coefs, softmax_row,
    weighted_row_sum,
};
use crate::kernels::zeroed;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use std::cell::RefCell;

pub struct CrossEntropy {
    pub from_logits: bool,
    pub class_weights: Option<Vec<f32>>,
    pub ignore_index: i64,
    pub label_smoothing: f64,
    pub epsilon: f64,
    /// The public name: `crossEntropy`, or `sequenceCrossEntropy` when that loss delegates here.
    pub op: &'static str,
    /// A row's max-shifted logits (softmax_row's scratch), reused from call to call.
    z: RefCell<Vec<f32>>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[
        "fromLogits",
        "classWeights",
        "ignoreIndex",
        "labelSmoothing",
        "epsilon",
    ])?;
    Ok(Box::new(CrossEntropy::from_config(cfg, "crossEntropy")?))
}

impl CrossEntropy {
    pub fn from_config(cfg: &Config, op: &'static str) -> Result<CrossEntropy> {
        let class_weights = cfg.f32_list("classWeights")?;
        if let Some(w) = &class_weights {
            if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(Error::invalid(
                    op,
                    "classWeights",
                    "finite weights ≥ 0",
                    format!("{bad}"),
                ));
            }
        }
        Ok(CrossEntropy {
            from_logits: cfg.bool("fromLogits", false)?,
            class_weights,
            ignore_index: cfg.int("ignoreIndex", -100)?,
            label_smoothing: cfg.f64_where("labelSmoothing", 0.0, "a number in [0, 1)", |v| {
                (0.0..1.0).contains(&v)
            })?,
            epsilon: cfg.f64_where("epsilon", 1e-7, "a number in (0, 0.5)", |v| {
                v > 0.0 && v < 0.5
            })?,
            op,
            z: RefCell::new(Vec::new()),
        })
    }

    #[inline]
    fn weight(&self, c: usize) -> f64 {
        self.class_weights.as_ref().map_or(1.0, |w| w[c] as f64)
    }

    /// The class weights as the row kernels take them.
    fn weights(&self) -> Option<&[f32]> {
        self.class_weights.as_deref()
    }

    /// From logits: per row z = x − max(x), e = exp(z) by the SIMD kernel, s = Σe in f64,
    /// lse = max + ln s and p = e/s. The loss needs no per-class log: with coefficients
    /// a, −Σ a_k·log p_k = (Σa)·lse − Σ a_k·x_k. Saves only p for backward. Refills
    /// `units`' buffers (no allocation once they are sized).
    fn forward_logits(
        &self,
        pred: &Tensor,
        labels: Option<&[i32]>,
        t: &[f32],
        batch: usize,
        units: &mut Units,
    ) {
        let (q, pd) = (pred.data(), pred.dims());
        let c = pd[pd.len() - 1];
        let rows = q.len() / c;
        let eps = self.label_smoothing;
        units.saved.truncate(1);
        if units.saved.is_empty() {
            units.saved.push(Tensor::zeros(Shape::new(vec![0])));
        }
        let probs = zeroed(units.saved[0].f32_buffer(pd), q.len());
        let values = zeroed(units.values.f32_buffer(&pd[..pd.len() - 1]), rows);
        let mut z = self.z.borrow_mut();
        let z = zeroed(&mut z, c);
        let mut denom = 0.0f64;
        let total_w = class_weight_total(self.weights(), c);
        for r in 0..rows {
            let (row, prow) = (&q[r * c..(r + 1) * c], &mut probs[r * c..(r + 1) * c]);
            let (m, s) = softmax_row(row, z, prow);
            let lse = m as f64 + s.ln();
            let (sum_a, dot) = match labels {
                Some(labels) => {
                    let y = labels[r];
                    if y as i64 == self.ignore_index {
                        continue; // no loss, no gradient, not counted
                    }
                    let y = y as usize;
                    let wy = self.weight(y);
                    denom += wy;
                    let mut dot = (1.0 - eps) * wy * row[y] as f64;
                    if eps > 0.0 {
                        dot += eps / c as f64 * weighted_row_sum(row, self.weights());
                    }
                    ((1.0 - eps) * wy + eps / c as f64 * total_w, dot)
                }
                None => {
                    denom += 1.0;
                    dense_target_sums(&t[r * c..(r + 1) * c], row, self.weights(), eps)
                }
            };
            values[r] = (sum_a * lse - dot) as f32;
        }
        units.denom = denom;
        units.batch = batch;
    }

    /// dl/dx_c = (Σa)·p_c − a_c, with a recomputed from the targets, into `g` (zeros,
    /// as long as the scores).
    fn backward_logits(&self, x: &[&Tensor], units: &Units, up: &[f32], c: usize, g: &mut [f32]) {
        let p = units.saved[0].data();
        let eps = self.label_smoothing;
        let total_w = class_weight_total(self.weights(), c);
        let labels = x[0].i32s(self.op, "yTrue").ok();
        let t = x[0].data();
        for r in 0..up.len() {
            let (pr, gr) = (&p[r * c..(r + 1) * c], &mut g[r * c..(r + 1) * c]);
            let u = up[r] as f64;
            match labels {
                Some(labels) => {
                    let y = labels[r];
                    if y as i64 == self.ignore_index || u == 0.0 {
                        continue;
                    }
                    let y = y as usize;
                    let wy = self.weight(y);
                    let sum_a = ((1.0 - eps) * wy + eps / c as f64 * total_w) as f32;
                    let uf = u as f32;
                    if eps > 0.0 {
                        smoothed_probs(pr, sum_a, u, eps, self.weights(), gr);
                    } else {
                        scaled_probs(pr, sum_a, uf, gr);
                    }
                    gr[y] -= (u * (1.0 - eps) * wy) as f32;
                }
                None => {
                    let trow = &t[r * c..(r + 1) * c];
                    dense_target_grad(pr, trow, self.weights(), eps, u, gr);
                }
            }
        }
    }

    /// From probabilities: per row s = Σq in f64, r = q/s and the loss −Σ a_k·log p_k with
    /// p = clip(r, ε_p, 1 − ε_p). Saves the coefficients a (zero for ignored labels),
    /// r and s for backward. Refills `units`' buffers (no allocation once they are sized).
    fn forward_probs(
        &self,
        pred: &Tensor,
        labels: Option<&[i32]>,
        t: &[f32],
        batch: usize,
        units: &mut Units,
    ) -> Result<()> {
        let (q, pd) = (pred.data(), pred.dims());
        let c = pd[pd.len() - 1];
        let rows = q.len() / c;
        let unit_dims = &pd[..pd.len() - 1];
        let eps = self.label_smoothing;
        units.saved.truncate(3);
        while units.saved.len() < 3 {
            units.saved.push(Tensor::zeros(Shape::new(vec![0])));
        }
        let [coef, probs, sums] = &mut units.saved[..] else {
            unreachable!("three saved tensors")
        };
        let coef = zeroed(coef.f32_buffer(pd), q.len());
        let probs = zeroed(probs.f32_buffer(pd), q.len());
        let sums = zeroed(sums.f32_buffer(unit_dims), rows);
        let values = zeroed(units.values.f32_buffer(unit_dims), rows);
        let mut denom = 0.0f64;
        for r in 0..rows {
            let row = &q[r * c..(r + 1) * c];
            let s = normalize_row(row, &mut probs[r * c..(r + 1) * c]);
            if let Some((k, &v)) = row
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
                .or(if s > 0.0 { None } else { Some((0, &row[0])) })
            {
                return Err(Error::invalid(
                    self.op,
                    "yPred",
                    "probabilities (finite, ≥ 0, each row summing to more than 0); pass fromLogits: true for raw scores",
                    format!("{v} at row {r}, class {k}"),
                ));
            }
            sums[r] = s as f32;
            let a = &mut coef[r * c..(r + 1) * c];
            match labels {
                Some(labels) => {
                    let y = labels[r];
                    if y as i64 == self.ignore_index {
                        continue; // a = 0: no loss, no gradient, not counted
                    }
                    let y = y as usize;
                    smoothing_coefs(eps, self.weights(), a);
                    a[y] += ((1.0 - eps) * self.weight(y)) as f32;
                    denom += self.weight(y);
                }
                None => {
                    dense_target_coefs(&t[r * c..(r + 1) * c], self.weights(), eps, a);
                    denom += 1.0;
                }
            }
            values[r] = clipped_nll(a, row, s, self.epsilon) as f32;
        }
        units.denom = denom;
        units.batch = batch;
        Ok(())
    }

    /// dl/dr_k through the clip, then through r = q / Σq, into `g` (zeros, as long as
    /// the scores).
    fn backward_probs(&self, units: &Units, up: &[f32], c: usize, g: &mut [f32]) {
        let (a, p, sums) = (
            units.saved[0].data(),
            units.saved[1].data(),
            units.saved[2].data(),
        );
        for r in 0..up.len() {
            let (ar, pr, gr) = (
                &a[r * c..(r + 1) * c],
                &p[r * c..(r + 1) * c],
                &mut g[r * c..(r + 1) * c],
            );
            clipped_nll_grad(ar, pr, sums[r] as f64, up[r] as f64, self.epsilon, gr);
        }
    }

    /// Validates the inputs; returns the labels (int32 targets) or the target
    /// probabilities (empty with labels), and the "batchmean" batch size.
    fn check<'a>(&self, x: &[&'a Tensor]) -> Result<(Option<&'a [i32]>, &'a [f32], usize)> {
        let (target, pred) = (x[0], x[1]);
        let op = self.op;
        pred.f32s(op, "yPred")?;
        let pd = pred.dims();
        if pd.is_empty() || pd[pd.len() - 1] == 0 {
            return Err(Error::shape(
                op,
                "yPred",
                "scores with a non-empty last (class) axis",
                format!("shape {}", pred.shape()),
            ));
        }
        let c = pd[pd.len() - 1];
        if let Some(w) = &self.class_weights {
            if w.len() != c {
                return Err(Error::shape(
                    op,
                    "classWeights",
                    format!("{c} weights, one per class"),
                    format!("{} weights", w.len()),
                ));
            }
        }
        let labels = if target.dtype() == DType::I32 {
            Some(class_labels(op, target, pred, Some(self.ignore_index))?)
        } else {
            None
        };
        let t = match labels {
            Some(_) => &[][..],
            None => {
                let t = target.f32s(op, "yTrue")?;
                if target.dims() != pd {
                    return Err(Error::shape(
                        op,
                        "yTrue",
                        format!(
                            "int32 class indices, or probabilities of yPred's shape {}",
                            pred.shape()
                        ),
                        format!("float32 of shape {}", target.shape()),
                    ));
                }
                t
            }
        };
        let batch = pd.first().copied().filter(|_| pd.len() > 1).unwrap_or(1);
        Ok((labels, t, batch))
    }
}

impl Loss for CrossEntropy {
    fn name(&self) -> &'static str {
        self.op
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (labels, t, batch) = self.check(x)?;
        let mut units = Units::default();
        if self.from_logits {
            self.forward_logits(x[1], labels, t, batch, &mut units);
        } else {
            self.forward_probs(x[1], labels, t, batch, &mut units)?;
        }
        Ok(units)
    }

    fn backward(&self, x: &[&Tensor], units: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let pred = x[1];
        let c = *pred.dims().last().unwrap_or(&1);
        let mut g = vec![0f32; pred.numel()];
        if self.from_logits {
            self.backward_logits(x, units, up, c, &mut g);
        } else {
            self.backward_probs(units, up, c, &mut g);
        }
        Ok(vec![None, Some(Tensor::new(pred.shape().clone(), g))])
    }

    fn forward_into(&self, x: &[&Tensor], units: &mut Units) -> Result<()> {
        let (labels, t, batch) = self.check(x)?;
        if self.from_logits {
            self.forward_logits(x[1], labels, t, batch, units);
            Ok(())
        } else {
            self.forward_probs(x[1], labels, t, batch, units)
        }
    }

    fn grad_into(
        &self,
        x: &[&Tensor],
        units: &Units,
        up: &[f32],
        i: usize,
        out: &mut Tensor,
    ) -> Result<()> {
        if i != 1 {
            return Err(Error::no_gradient(self.op)); // yTrue takes none
        }
        let pred = x[1];
        let c = *pred.dims().last().unwrap_or(&1);
        let g = zeroed(out.f32_buffer(pred.dims()), pred.numel());
        if self.from_logits {
            self.backward_logits(x, units, up, c, g);
        } else {
            self.backward_probs(units, up, c, g);
        }
        Ok(())
    }
}
