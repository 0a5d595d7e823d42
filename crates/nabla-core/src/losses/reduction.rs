//! The one place where per-unit losses become the number users get, and where the
//! gradient of that number flows back to each unit. Sample weights are applied here.
//!
//!   mean       Σ w·l / denom   (denom: the loss's count of units, e.g. non-ignored
//!                               tokens, or Σ class weights as torch does)
//!   sum        Σ w·l
//!   none       w·l, one value per unit
//!   batchmean  Σ w·l / batch   (KL divergence's mathematically correct mean)
//!
//! Sums are accumulated in f64. The loops are in nabla-kernels (`kernels::pointwise`),
//! built for speed.

use super::Units;
use crate::error::{Error, Result};
use crate::kernels::pointwise::{weighted, weighted_scalar_into, weighted_sum};
use crate::shape::Shape;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Mean,
    Sum,
    None,
    BatchMean,
}

impl Reduction {
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Mean => "mean",
            Reduction::Sum => "sum",
            Reduction::None => "none",
            Reduction::BatchMean => "batchmean",
        }
    }

    pub fn parse(op: &'static str, name: &str, batchmean: bool) -> Result<Reduction> {
        match name {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            "none" => Ok(Reduction::None),
            "batchmean" if batchmean => Ok(Reduction::BatchMean),
            _ => {
                let allowed = if batchmean {
                    "\"mean\", \"sum\", \"none\" or \"batchmean\""
                } else {
                    "\"mean\", \"sum\" or \"none\""
                };
                Err(Error::invalid(
                    op,
                    "reduction",
                    allowed,
                    format!("\"{name}\""),
                ))
            }
        }
    }
}

/// Sample weights expanded to the units' shape: `sw`'s shape must be a prefix of the
/// units' shape (e.g. `[batch]` for `[batch, classes]` units) or a scalar.
pub fn expand_weights(op: &'static str, sw: &Tensor, units: &Shape) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    expand_weights_into(op, sw, units, &mut out)?;
    Ok(out)
}

/// `expand_weights` into `out` (cleared first; its capacity is reused).
pub fn expand_weights_into(
    op: &'static str,
    sw: &Tensor,
    units: &Shape,
    out: &mut Vec<f32>,
) -> Result<()> {
    let values = sw.f32s(op, "sampleWeight")?;
    let (sd, ud) = (sw.dims(), units.dims());
    let prefix = sd.len() <= ud.len() && sd.iter().zip(ud).all(|(a, b)| a == b);
    if !prefix {
        return Err(Error::shape(
            op,
            "sampleWeight",
            format!("a shape that is a prefix of the per-unit loss shape {units} (e.g. [batch])"),
            format!("shape {}", sw.shape()),
        ));
    }
    let inner: usize = ud[sd.len()..].iter().product();
    out.clear();
    out.extend(
        values
            .iter()
            .flat_map(|&w| std::iter::repeat(w).take(inner)),
    );
    Ok(())
}

/// The reduced loss: a scalar, or the weighted units for `none`.
pub fn reduce(r: Reduction, units: &Units, weights: Option<&[f32]>) -> Tensor {
    let l = units.values.data();
    if r == Reduction::None {
        return Tensor::new(units.values.shape().clone(), weighted(l, weights));
    }
    Tensor::scalar(reduce_value(r, units, weights))
}

/// `reduce(...).data()[0]` without a tensor: the reported number (for `none`, the
/// first weighted unit, as a training step reports it).
pub fn reduce_value(r: Reduction, units: &Units, weights: Option<&[f32]>) -> f32 {
    let l = units.values.data();
    match r {
        Reduction::None => match (l.first(), weights) {
            (None, _) => 0.0,
            (Some(&l), None) => l,
            (Some(&l), Some(w)) => w[0] * l,
        },
        Reduction::Sum => weighted_sum(l, weights) as f32,
        Reduction::Mean => divide(weighted_sum(l, weights), units.denom),
        Reduction::BatchMean => divide(weighted_sum(l, weights), units.batch as f64),
    }
}

/// A mean over nothing (every token ignored) is 0, not NaN: there is no error to make.
fn divide(total: f64, denom: f64) -> f32 {
    if denom == 0.0 {
        0.0
    } else {
        (total / denom) as f32
    }
}

/// `upstream` for a scalar `g` (for `none`, `g` for every unit) into `out` (cleared
/// first; its capacity is reused): the training step's dL/d(unit) with g = 1.
pub fn upstream_into(
    r: Reduction,
    units: &Units,
    weights: Option<&[f32]>,
    g: f32,
    out: &mut Vec<f32>,
) {
    let n = units.values.numel();
    let scale = |denom: f64| {
        if denom == 0.0 {
            0.0
        } else {
            (g as f64 / denom) as f32
        }
    };
    let s = match r {
        Reduction::None | Reduction::Sum => g,
        Reduction::Mean => scale(units.denom),
        Reduction::BatchMean => scale(units.batch as f64),
    };
    weighted_scalar_into(n, weights, s, out);
}

/// dL/d(unit) given dL/d(reduced loss) `g` (a scalar, or per unit for `none`).
pub fn upstream(r: Reduction, units: &Units, weights: Option<&[f32]>, g: &Tensor) -> Vec<f32> {
    if r == Reduction::None {
        return weighted(&g.data()[..units.values.numel()], weights);
    }
    let mut out = Vec::new();
    upstream_into(r, units, weights, g.data()[0], &mut out);
    out
}
