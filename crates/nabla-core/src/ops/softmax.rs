//! softmax and logSoftmax along one axis, from the max-shifted values z = x - max(x)
//! (exact for the largest entries, so nothing large cancels):
//!   softmax(x) = exp(z) / Σ exp(z)          logSoftmax(x) = z - log Σ exp(z)
//! Derivatives: softmax: y·(g - Σ g·y)      logSoftmax: g - exp(y)·Σ g

use super::{floats, normalize_axis, reduce_axes_keep};
use crate::autograd::Op;
use crate::error::Result;
use crate::kernels::binary::{binary, binary_broadcast, Binary};
use crate::kernels::reduce::Reduce;
use crate::kernels::unary::{unary, Unary};
use crate::tensor::Tensor;

/// `(z, exp(z), Σ exp(z))` with z = x - max(x) along `axis` (a max of ±∞ shifts by 0).
fn shifted(x: &Tensor, axis: usize) -> (Tensor, Tensor, Tensor) {
    let mut m = reduce_axes_keep(Reduce::Max, x, &[axis]);
    for v in m.data_mut() {
        if v.is_infinite() {
            *v = 0.0;
        }
    }
    let mut z = Tensor::zeros(x.shape().clone());
    binary_broadcast(
        Binary::Sub,
        x.data(),
        x.dims(),
        m.data(),
        m.dims(),
        x.dims(),
        z.data_mut(),
    );
    let e = exp(&z);
    let s = sum_axis(&e, axis);
    (z, e, s)
}

fn log_softmax(x: &Tensor, axis: usize) -> Tensor {
    let (mut z, _, s) = shifted(x, axis);
    let mut log_s = Tensor::zeros(s.shape().clone());
    unary(Unary::Log, s.data(), log_s.data_mut());
    let zd = z.data().to_vec();
    binary_broadcast(
        Binary::Sub,
        &zd,
        x.dims(),
        log_s.data(),
        log_s.dims(),
        x.dims(),
        z.data_mut(),
    );
    z
}

fn softmax(x: &Tensor, axis: usize) -> Tensor {
    let (_, e, s) = shifted(x, axis);
    let mut y = Tensor::zeros(x.shape().clone());
    binary_broadcast(
        Binary::Div,
        e.data(),
        x.dims(),
        s.data(),
        s.dims(),
        x.dims(),
        y.data_mut(),
    );
    y
}

fn exp(x: &Tensor) -> Tensor {
    let mut y = Tensor::zeros(x.shape().clone());
    unary(Unary::Exp, x.data(), y.data_mut());
    y
}

/// `g - s·Σ_axis g·w` style helper: returns `Σ_axis t` kept as size 1.
fn sum_axis(t: &Tensor, axis: usize) -> Tensor {
    reduce_axes_keep(Reduce::Sum, t, &[axis])
}

pub struct Softmax {
    pub axis: i64,
}

impl Op for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats("softmax", "x", x)?;
        let axis = normalize_axis("softmax", "axis", self.axis, x.rank())?;
        Ok(softmax(x, axis))
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let axis = normalize_axis("softmax", "axis", self.axis, x[0].rank())?;
        let mut gy = Tensor::zeros(y.shape().clone());
        binary(Binary::Mul, g.data(), y.data(), gy.data_mut());
        let s = sum_axis(&gy, axis);
        let mut centered = Tensor::zeros(y.shape().clone());
        binary_broadcast(
            Binary::Sub,
            g.data(),
            g.dims(),
            s.data(),
            s.dims(),
            g.dims(),
            centered.data_mut(),
        );
        let mut gx = Tensor::zeros(y.shape().clone());
        binary(Binary::Mul, y.data(), centered.data(), gx.data_mut());
        Ok(vec![Some(gx)])
    }
}

pub struct LogSoftmax {
    pub axis: i64,
}

impl Op for LogSoftmax {
    fn name(&self) -> &'static str {
        "logSoftmax"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats("logSoftmax", "x", x)?;
        let axis = normalize_axis("logSoftmax", "axis", self.axis, x.rank())?;
        Ok(log_softmax(x, axis))
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let axis = normalize_axis("logSoftmax", "axis", self.axis, x[0].rank())?;
        let p = exp(y);
        let s = sum_axis(g, axis);
        let mut ps = Tensor::zeros(y.shape().clone());
        binary_broadcast(
            Binary::Mul,
            p.data(),
            p.dims(),
            s.data(),
            s.dims(),
            p.dims(),
            ps.data_mut(),
        );
        let mut gx = Tensor::zeros(y.shape().clone());
        binary(Binary::Sub, g.data(), ps.data(), gx.data_mut());
        Ok(vec![Some(gx)])
    }
}
