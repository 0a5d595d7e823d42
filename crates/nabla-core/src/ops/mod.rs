//! Differentiable ops: each validates its inputs, runs kernels, and keeps its backward
//! next to its forward (the `Op` trait). `CATALOGUE` lists every op by public name; a
//! test holds the gradient checks to it, so an op without one fails the build.

mod conv;
mod elementwise;
mod matmul;
mod random;
mod reduce;
mod shape_ops;
mod softmax;
mod unary;

pub use conv::{padding_arg, window_arg, Conv, GlobalAvgPool, Pool, PoolKind};
pub use elementwise::{BinaryOp, Clip, MapFn, MapOp, Where};
pub use matmul::{matmul, MatMul};
pub use random::{rand_uniform, randn};
pub use reduce::{Argmax, LogSumExp, ReduceKind, Reduction};
pub use shape_ops::{Reshape, Transpose};
pub use softmax::{LogSoftmax, Softmax};
pub use unary::UnaryOp;

use crate::error::{Error, Result};
use crate::kernels::binary::{binary_broadcast, broadcast_shape, broadcast_to, Binary};
use crate::kernels::reduce::{reduce, split_axis, Reduce};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Every op by its public name, with whether it has a derivative.
pub const CATALOGUE: &[(&str, bool)] = &[
    ("add", true),
    ("sub", true),
    ("mul", true),
    ("div", true),
    ("pow", true),
    ("maximum", true),
    ("minimum", true),
    ("neg", true),
    ("abs", true),
    ("square", true),
    ("sqrt", true),
    ("relu", true),
    ("exp", true),
    ("expm1", true),
    ("log", true),
    ("log1p", true),
    ("tanh", true),
    ("sigmoid", true),
    ("logSigmoid", true),
    ("softplus", true),
    ("erf", true),
    ("gelu", true),
    ("geluTanh", true),
    ("silu", true),
    ("clip", true),
    ("where", true),
    ("sum", true),
    ("mean", true),
    ("max", true),
    ("logSumExp", true),
    ("argmax", false),
    ("softmax", true),
    ("logSoftmax", true),
    ("matmul", true),
    ("transpose", true),
    ("reshape", true),
    ("conv1d", true),
    ("conv2d", true),
    ("maxPool1d", true),
    ("maxPool2d", true),
    ("avgPool1d", true),
    ("avgPool2d", true),
    ("globalAvgPool1d", true),
    ("globalAvgPool2d", true),
];

/// Integers from JavaScript numbers (axes, permutations, shapes with -1).
pub fn int_list(op: &'static str, arg: &str, values: &[f64]) -> Result<Vec<i64>> {
    values
        .iter()
        .map(|&v| {
            if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(Error::invalid(
                    op,
                    arg,
                    "integers",
                    format!("{v} in {values:?}"),
                ))
            }
        })
        .collect()
}

/// An axis from JavaScript (negative counts from the end) checked against `rank`.
pub fn normalize_axis(op: &'static str, arg: &str, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        let range = if rank == 0 {
            "no axis (the tensor is a scalar)".to_string()
        } else {
            format!("an axis in [{}, {}]", -r, r - 1)
        };
        return Err(Error::invalid(
            op,
            arg,
            format!("{range} for a rank-{rank} tensor"),
            format!("{axis}"),
        ));
    }
    Ok(if axis < 0 {
        (axis + r) as usize
    } else {
        axis as usize
    })
}

/// Axes to reduce: `None` means all; duplicates are an error. Sorted ascending.
pub fn normalize_axes(op: &'static str, axes: Option<&[i64]>, rank: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else {
        return Ok((0..rank).collect());
    };
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(op, "axis", a, rank)?;
        if out.contains(&a) {
            return Err(Error::invalid(
                op,
                "axis",
                "distinct axes",
                format!("{axes:?}"),
            ));
        }
        out.push(a);
    }
    out.sort_unstable();
    Ok(out)
}

/// The float values of input `i`, or a dtype error naming it.
fn floats<'a>(op: &'static str, arg: &str, t: &'a Tensor) -> Result<&'a [f32]> {
    t.f32s(op, arg)
}

/// `a op b` with broadcasting; both already validated as float and broadcastable.
fn broadcast_binary(op: Binary, a: &Tensor, b: &Tensor) -> Tensor {
    let dims = broadcast_shape(a.dims(), b.dims()).expect("validated broadcast");
    let mut out = Tensor::zeros(Shape::new(dims.clone()));
    binary_broadcast(
        op,
        a.data(),
        a.dims(),
        b.data(),
        b.dims(),
        &dims,
        out.data_mut(),
    );
    out
}

/// `x` broadcast to `dims` (materialized).
fn expand(x: &Tensor, dims: &[usize]) -> Tensor {
    let mut out = Tensor::zeros(Shape::new(dims.to_vec()));
    broadcast_to(x.data(), x.dims(), dims, out.data_mut());
    out
}

/// Sums `g` over `axes` (sorted), keeping them as size-1 dimensions.
fn sum_axes_keep(g: &Tensor, axes: &[usize]) -> Tensor {
    reduce_axes_keep(Reduce::Sum, g, axes)
}

/// Reduces `x` over `axes` (sorted), keeping them as size-1 dimensions.
fn reduce_axes_keep(op: Reduce, x: &Tensor, axes: &[usize]) -> Tensor {
    let mut dims = x.dims().to_vec();
    let mut data = x.data().to_vec();
    for &axis in axes.iter().rev() {
        let (outer, len, inner) = split_axis(&dims, axis);
        let mut out = vec![0.0; outer * inner];
        reduce(op, &data, outer, len, inner, &mut out);
        dims[axis] = 1;
        data = out;
    }
    Tensor::new(Shape::new(dims), data)
}

/// The gradient of a broadcast: sums `g` (shape of the broadcast result) back to `dims`.
fn sum_to(g: &Tensor, dims: &[usize]) -> Tensor {
    if g.dims() == dims {
        return g.clone();
    }
    let rank = g.rank();
    let offset = rank - dims.len();
    let axes: Vec<usize> = (0..rank)
        .filter(|&i| i < offset || (dims[i - offset] == 1 && g.dims()[i] != 1))
        .collect();
    let summed = sum_axes_keep(g, &axes);
    summed.with_shape(Shape::new(dims.to_vec()))
}

/// Checks that `a` and `b` broadcast; the error names both shapes.
fn check_broadcast(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    a_name: &str,
    b_name: &str,
) -> Result<Vec<usize>> {
    broadcast_shape(a.dims(), b.dims()).ok_or_else(|| {
        Error::shape(
            op,
            b_name,
            format!(
                "a shape broadcastable with `{a_name}` (shape {})",
                a.shape()
            ),
            format!("shape {}", b.shape()),
        )
    })
}

#[cfg(test)]
mod gradcheck;
