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
use crate::kernels::pointwise::{weighted, weighted_scalar, weighted_sum};
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
    Ok(values
        .iter()
        .flat_map(|&w| std::iter::repeat(w).take(inner))
        .collect())
}

/// The reduced loss: a scalar, or the weighted units for `none`.
pub fn reduce(r: Reduction, units: &Units, weights: Option<&[f32]>) -> Tensor {
    let l = units.values.data();
    if r == Reduction::None {
        return Tensor::new(units.values.shape().clone(), weighted(l, weights));
    }
    let total = weighted_sum(l, weights);
    Tensor::scalar(match r {
        Reduction::Sum => total as f32,
        Reduction::Mean => divide(total, units.denom),
        Reduction::BatchMean => divide(total, units.batch as f64),
        Reduction::None => unreachable!(),
    })
}

/// A mean over nothing (every token ignored) is 0, not NaN: there is no error to make.
fn divide(total: f64, denom: f64) -> f32 {
    if denom == 0.0 {
        0.0
    } else {
        (total / denom) as f32
    }
}

/// dL/d(unit) given dL/d(reduced loss) `g` (a scalar, or per unit for `none`).
pub fn upstream(r: Reduction, units: &Units, weights: Option<&[f32]>, g: &Tensor) -> Vec<f32> {
    let n = units.values.numel();
    let scale = |denom: f64| {
        if denom == 0.0 {
            0.0
        } else {
            (g.data()[0] as f64 / denom) as f32
        }
    };
    match r {
        Reduction::None => weighted(&g.data()[..n], weights),
        Reduction::Sum => weighted_scalar(n, weights, g.data()[0]),
        Reduction::Mean => weighted_scalar(n, weights, scale(units.denom)),
        Reduction::BatchMean => weighted_scalar(n, weights, scale(units.batch as f64)),
    }
}
