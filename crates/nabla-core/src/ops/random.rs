//! Seeded random tensors (`randn`, `randUniform`) from the portable `Rng`.

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Normal values with `mean` and standard deviation `std`.
pub fn randn(shape: Shape, rng: &mut Rng, mean: f64, std: f64) -> Result<Tensor> {
    if !mean.is_finite() {
        return Err(Error::invalid(
            "randn",
            "mean",
            "a finite number",
            format!("{mean}"),
        ));
    }
    if !(std.is_finite() && std >= 0.0) {
        return Err(Error::invalid(
            "randn",
            "stddev",
            "a finite number ≥ 0",
            format!("{std}"),
        ));
    }
    let (mean, std) = (mean as f32, std as f32);
    let data = (0..shape.numel())
        .map(|_| mean + std * rng.normal())
        .collect();
    Ok(Tensor::new(shape, data))
}

/// Uniform values in [min, max).
pub fn rand_uniform(shape: Shape, rng: &mut Rng, min: f64, max: f64) -> Result<Tensor> {
    if !(min.is_finite() && max.is_finite() && min < max) {
        return Err(Error::invalid(
            "randUniform",
            "max",
            format!("a finite number above `min` ({min})"),
            format!("{max}"),
        ));
    }
    let (lo, span) = (min as f32, (max - min) as f32);
    let data = (0..shape.numel())
        .map(|_| lo + span * rng.uniform())
        .collect();
    Ok(Tensor::new(shape, data))
}
