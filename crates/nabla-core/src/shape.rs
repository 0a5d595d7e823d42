//! Tensor shapes: validated dimension lists, row-major.

use crate::error::{Error, Result};
use std::fmt;

/// Dimensions of a row-major tensor. `[]` is a scalar with one element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// A shape whose element count is known to fit in memory. Use [`Shape::from_dims`]
    /// or [`Shape::from_f64`] for dimensions that come from a user.
    pub fn new(dims: Vec<usize>) -> Self {
        Shape(dims)
    }

    /// Checks that the element count does not overflow `usize` (32 bits on wasm32).
    pub fn from_dims(op: &'static str, arg: &str, dims: &[usize]) -> Result<Self> {
        let mut n: usize = 1;
        for &d in dims {
            n = n.checked_mul(d).ok_or_else(|| {
                Error::invalid(
                    op,
                    arg,
                    "a shape whose element count fits in memory",
                    format!("{dims:?}"),
                )
            })?;
        }
        // Every element is an f32, so the byte size must fit too.
        n.checked_mul(4).ok_or_else(|| {
            Error::invalid(
                op,
                arg,
                "a shape whose element count fits in memory",
                format!("{dims:?}"),
            )
        })?;
        Ok(Shape(dims.to_vec()))
    }

    /// Dimensions as JavaScript numbers: each must be a finite, non-negative integer.
    pub fn from_f64(op: &'static str, arg: &str, dims: &[f64]) -> Result<Self> {
        let mut out = Vec::with_capacity(dims.len());
        for (i, &d) in dims.iter().enumerate() {
            if !(d.is_finite() && d >= 0.0 && d.fract() == 0.0 && d <= u32::MAX as f64) {
                return Err(Error::invalid(
                    op,
                    arg,
                    "non-negative integer dimensions",
                    format!("{} at index {i} of {}", fmt_num(d), fmt_f64_list(dims)),
                ));
            }
            out.push(d as usize);
        }
        Shape::from_dims(op, arg, &out)
    }

    /// Makes this shape `dims` in place, reusing its buffer (no allocation when the
    /// rank does not grow).
    pub fn set(&mut self, dims: &[usize]) {
        if self.0 != dims {
            self.0.clear();
            self.0.extend_from_slice(dims);
        }
    }

    /// Makes this shape `[batch, ...rest]` in place, as `set` (a layer's output shape
    /// from the batch size and its per-sample shape, without building a list).
    pub fn set_batch(&mut self, batch: usize, rest: &[usize]) {
        if self.0.first() != Some(&batch) || self.0[1..] != *rest {
            self.0.clear();
            self.0.push(batch);
            self.0.extend_from_slice(rest);
        }
    }

    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements: the product of the dimensions (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

pub(crate) fn fmt_f64_list(xs: &[f64]) -> String {
    let parts: Vec<String> = xs.iter().map(|&x| fmt_num(x)).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numel_and_display() {
        let s = Shape::new(vec![2, 3, 4]);
        assert_eq!(s.numel(), 24);
        assert_eq!(s.to_string(), "[2, 3, 4]");
        assert_eq!(Shape::new(vec![]).numel(), 1);
        assert_eq!(Shape::new(vec![3, 0]).numel(), 0);
    }

    #[test]
    fn rejects_negative_fractional_and_non_finite_dimensions() {
        for bad in [-1.0, 2.5, f64::NAN, f64::INFINITY] {
            let e = Shape::from_f64("tensor", "shape", &[2.0, bad]).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert!(e.received.contains("at index 1"), "{e}");
        }
        assert_eq!(
            Shape::from_f64("tensor", "shape", &[2.0, 3.0])
                .unwrap()
                .dims(),
            &[2, 3]
        );
    }

    #[test]
    fn rejects_element_counts_that_overflow() {
        let e = Shape::from_dims("tensor", "shape", &[usize::MAX, 2]).unwrap_err();
        assert_eq!(e.code(), "INVALID_ARGUMENT");
    }
}
