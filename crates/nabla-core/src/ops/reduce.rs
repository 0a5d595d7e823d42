//! Reductions over axes: sum, mean, max, logSumExp, argmax. Derivatives:
//!   sum: g broadcast back   mean: g/n broadcast back
//!   max: g to the maxima, split evenly between ties (as torch.amax)
//!   logSumExp: g · exp(x - y) = g · softmax(x)   argmax: none (integer output)
//! logSumExp is computed stably as m + log Σ exp(x - m), m the max (0 where m is ±∞).

use super::{expand, floats, normalize_axes, normalize_axis, reduce_axes_keep};
use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::binary::{binary, binary_broadcast, Binary};
use crate::kernels::reduce::{argmax, split_axis, Reduce};
use crate::kernels::unary::{unary, Unary};
use crate::shape::Shape;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceKind {
    Sum,
    Mean,
    Max,
}

impl ReduceKind {
    pub fn name(self) -> &'static str {
        match self {
            ReduceKind::Sum => "sum",
            ReduceKind::Mean => "mean",
            ReduceKind::Max => "max",
        }
    }

    pub fn from_name(name: &str) -> Option<ReduceKind> {
        [ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// The output shape: reduced axes dropped, or kept as 1.
fn reduced_dims(dims: &[usize], axes: &[usize], keep_dims: bool) -> Vec<usize> {
    (0..dims.len())
        .filter_map(|i| {
            if axes.contains(&i) {
                keep_dims.then_some(1)
            } else {
                Some(dims[i])
            }
        })
        .collect()
}

fn kept_dims(dims: &[usize], axes: &[usize]) -> Vec<usize> {
    (0..dims.len())
        .map(|i| if axes.contains(&i) { 1 } else { dims[i] })
        .collect()
}

/// `sum`, `mean` or `max` over `axes` (all when `None`).
pub struct Reduction {
    pub kind: ReduceKind,
    pub axes: Option<Vec<i64>>,
    pub keep_dims: bool,
}

impl Op for Reduction {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats(self.name(), "x", x)?;
        let axes = normalize_axes(self.name(), self.axes.as_deref(), x.rank())?;
        if self.kind == ReduceKind::Max {
            if let Some(&a) = axes.iter().find(|&&a| x.dims()[a] == 0) {
                return Err(Error::shape(
                    "max",
                    "x",
                    format!("a non-empty axis {a}"),
                    format!("shape {}", x.shape()),
                ));
            }
        }
        let op = if self.kind == ReduceKind::Max {
            Reduce::Max
        } else {
            Reduce::Sum
        };
        let mut y = reduce_axes_keep(op, x, &axes);
        if self.kind == ReduceKind::Mean {
            let n: usize = axes.iter().map(|&a| x.dims()[a]).product();
            let inv = [1.0 / n as f32];
            let dims = y.dims().to_vec();
            let sum = y.data().to_vec();
            binary_broadcast(Binary::Mul, &sum, &dims, &inv, &[], &dims, y.data_mut());
        }
        Ok(y.with_shape(Shape::new(reduced_dims(x.dims(), &axes, self.keep_dims))))
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let x = x[0];
        let axes = normalize_axes(self.name(), self.axes.as_deref(), x.rank())?;
        let keep = Shape::new(kept_dims(x.dims(), &axes));
        let gk = g.with_shape(keep.clone());
        let gx = match self.kind {
            ReduceKind::Sum => expand(&gk, x.dims()),
            ReduceKind::Mean => {
                let n: usize = axes.iter().map(|&a| x.dims()[a]).product();
                let mut gx = expand(&gk, x.dims());
                let v = gx.data().to_vec();
                binary_broadcast(
                    Binary::Mul,
                    &v,
                    x.dims(),
                    &[1.0 / n as f32],
                    &[],
                    x.dims(),
                    gx.data_mut(),
                );
                gx
            }
            ReduceKind::Max => {
                // mask of maxima, then g / (number of maxima) on each of them
                let ye = expand(&y.with_shape(keep), x.dims());
                let mut mask = Tensor::zeros(x.shape().clone());
                for ((m, &xv), &yv) in mask.data_mut().iter_mut().zip(x.data()).zip(ye.data()) {
                    *m = if xv == yv { 1.0 } else { 0.0 };
                }
                let count = reduce_axes_keep(Reduce::Sum, &mask, &axes);
                let mut share = Tensor::zeros(count.shape().clone());
                binary(Binary::Div, gk.data(), count.data(), share.data_mut());
                let se = expand(&share, x.dims());
                let mut gx = Tensor::zeros(x.shape().clone());
                binary(Binary::Mul, mask.data(), se.data(), gx.data_mut());
                gx
            }
        };
        Ok(vec![Some(gx)])
    }
}

/// `log Σ exp(x)` over `axes`, stable for any finite input.
pub struct LogSumExp {
    pub axes: Option<Vec<i64>>,
    pub keep_dims: bool,
}

/// logSumExp over `axes`, with the reduced axes kept as 1 (shared with softmax).
pub(crate) fn log_sum_exp_keep(x: &Tensor, axes: &[usize]) -> Tensor {
    let mut m = reduce_axes_keep(Reduce::Max, x, axes);
    for v in m.data_mut() {
        if v.is_infinite() {
            *v = 0.0; // shifting by ±∞ would turn ∞ - ∞ into NaN
        }
    }
    let mut shifted = Tensor::zeros(x.shape().clone());
    binary_broadcast(
        Binary::Sub,
        x.data(),
        x.dims(),
        m.data(),
        m.dims(),
        x.dims(),
        shifted.data_mut(),
    );
    let mut e = Tensor::zeros(x.shape().clone());
    unary(Unary::Exp, shifted.data(), e.data_mut());
    let s = reduce_axes_keep(Reduce::Sum, &e, axes);
    let mut lse = Tensor::zeros(s.shape().clone());
    unary(Unary::Log, s.data(), lse.data_mut());
    let mut out = Tensor::zeros(s.shape().clone());
    binary(Binary::Add, lse.data(), m.data(), out.data_mut());
    out
}

impl Op for LogSumExp {
    fn name(&self) -> &'static str {
        "logSumExp"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats("logSumExp", "x", x)?;
        let axes = normalize_axes("logSumExp", self.axes.as_deref(), x.rank())?;
        let y = log_sum_exp_keep(x, &axes);
        Ok(y.with_shape(Shape::new(reduced_dims(x.dims(), &axes, self.keep_dims))))
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let x = x[0];
        let axes = normalize_axes("logSumExp", self.axes.as_deref(), x.rank())?;
        let keep = Shape::new(kept_dims(x.dims(), &axes));
        let mut p = Tensor::zeros(x.shape().clone());
        binary_broadcast(
            Binary::Sub,
            x.data(),
            x.dims(),
            y.data(),
            keep.dims(),
            x.dims(),
            p.data_mut(),
        );
        let d = p.data().to_vec();
        unary(Unary::Exp, &d, p.data_mut());
        let mut gx = Tensor::zeros(x.shape().clone());
        binary_broadcast(
            Binary::Mul,
            p.data(),
            x.dims(),
            g.data(),
            keep.dims(),
            x.dims(),
            gx.data_mut(),
        );
        Ok(vec![Some(gx)])
    }
}

/// Index of the largest value along `axis` (int32; first of ties). Not differentiable.
pub struct Argmax {
    pub axis: i64,
}

impl Op for Argmax {
    fn name(&self) -> &'static str {
        "argmax"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        let values = floats("argmax", "x", x)?;
        let axis = normalize_axis("argmax", "axis", self.axis, x.rank())?;
        let (outer, len, inner) = split_axis(x.dims(), axis);
        if len == 0 || len >= 1 << 24 {
            return Err(Error::shape(
                "argmax",
                "x",
                format!("axis {axis} of length 1 to 2^24"),
                format!("shape {}", x.shape()),
            ));
        }
        let mut out = vec![0i32; outer * inner];
        argmax(values, outer, len, inner, &mut out);
        Tensor::from_i32(
            "argmax",
            out,
            Shape::new(reduced_dims(x.dims(), &[axis], false)),
        )
    }
}
