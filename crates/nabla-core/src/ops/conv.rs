//! Convolution and pooling ops over channels-last tensors, on the kernels in
//! `kernels::conv` / `kernels::pool` (which define shapes, padding and validation).
//! Derivatives: conv: (backward_input, backward_filter); maxPool: the gradient goes to
//! the element each window chose; avgPool: spread evenly over each window's in-bounds
//! elements; globalAvgPool: spread evenly over all positions.

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::conv::{
    conv2d, conv2d_backward_filter, conv2d_backward_input, Conv2dGeometry, Padding,
};
use crate::kernels::pool::{
    avg_pool2d, avg_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward, max_pool2d,
    max_pool2d_backward, Pool2dGeometry,
};
use crate::shape::{fmt_f64_list, Shape};
use crate::tensor::Tensor;
use std::cell::RefCell;

/// Window parameters as JavaScript gives them: one value or one per spatial axis
/// (`[height, width]`), each a positive integer.
pub fn window_arg(op: &'static str, arg: &str, values: &[f64], one_d: bool) -> Result<[usize; 2]> {
    let want = if one_d { 1 } else { 2 };
    let ok = |v: f64| v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= u32::MAX as f64;
    let expected = if one_d {
        "a positive integer".to_string()
    } else {
        "a positive integer or two, [height, width]".to_string()
    };
    if !(values.len() == 1 || values.len() == want) || !values.iter().all(|&v| ok(v)) {
        return Err(Error::invalid(op, arg, expected, fmt_f64_list(values)));
    }
    let v: Vec<usize> = values.iter().map(|&v| v as usize).collect();
    Ok(if one_d {
        [1, v[0]]
    } else if v.len() == 1 {
        [v[0], v[0]]
    } else {
        [v[0], v[1]]
    })
}

/// Padding as JavaScript gives it: "valid", "same", or explicit sizes (`[p]`, `[ph, pw]`
/// or `[top, bottom, left, right]`; 1-D: `[p]` or `[left, right]`).
pub fn padding_arg(op: &'static str, name: &str, sizes: &[f64], one_d: bool) -> Result<Padding> {
    if name != "explicit" {
        return Padding::from_name(op, name);
    }
    let bad = || {
        Error::invalid(
            op,
            "padding",
            "\"valid\", \"same\" or non-negative integer sizes",
            fmt_f64_list(sizes),
        )
    };
    if !sizes
        .iter()
        .all(|&v| v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64)
    {
        return Err(bad());
    }
    let p: Vec<usize> = sizes.iter().map(|&v| v as usize).collect();
    Ok(match (one_d, p.as_slice()) {
        (true, [a]) => Padding::Explicit {
            top: 0,
            bottom: 0,
            left: *a,
            right: *a,
        },
        (true, [l, r]) => Padding::Explicit {
            top: 0,
            bottom: 0,
            left: *l,
            right: *r,
        },
        (false, [a]) => Padding::symmetric(*a, *a),
        (false, [h, w]) => Padding::symmetric(*h, *w),
        (false, [t, b, l, r]) => Padding::Explicit {
            top: *t,
            bottom: *b,
            left: *l,
            right: *r,
        },
        _ => return Err(bad()),
    })
}

/// conv1d (`x [n, len, cin]`, `filter [k, cin, cout]`) or conv2d (`x [n, h, w, cin]`,
/// `filter [kh, kw, cin, cout]`). No bias: the layer adds it.
pub struct Conv {
    pub one_d: bool,
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    pub padding: Padding,
}

impl Conv {
    fn geometry(&self, x: &Tensor, w: &Tensor) -> Result<Conv2dGeometry> {
        if self.one_d {
            Conv2dGeometry::conv1d(
                "conv1d",
                x.dims(),
                w.dims(),
                self.strides[1],
                self.dilations[1],
                self.padding,
            )
        } else {
            Conv2dGeometry::new(
                "conv2d",
                x.dims(),
                w.dims(),
                self.strides,
                self.dilations,
                self.padding,
            )
        }
    }
}

impl Op for Conv {
    fn name(&self) -> &'static str {
        if self.one_d {
            "conv1d"
        } else {
            "conv2d"
        }
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (x, w) = (inputs[0], inputs[1]);
        let (xv, wv) = (
            x.f32s(self.name(), "input")?,
            w.f32s(self.name(), "filter")?,
        );
        let g = self.geometry(x, w)?;
        let mut y = Tensor::zeros(Shape::from_dims(self.name(), "output", &g.output_dims())?);
        conv2d(&g, xv, wv, y.data_mut());
        Ok(y)
    }

    fn backward(
        &self,
        inputs: &[&Tensor],
        _y: &Tensor,
        gy: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let (x, w) = (inputs[0], inputs[1]);
        let g = self.geometry(x, w)?;
        let mut gx = Tensor::zeros(x.shape().clone());
        conv2d_backward_input(&g, gy.data(), w.data(), gx.data_mut());
        let mut gw = Tensor::zeros(w.shape().clone());
        conv2d_backward_filter(&g, x.data(), gy.data(), gw.data_mut());
        Ok(vec![Some(gx), Some(gw)])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// maxPool / avgPool, 1-D (`[n, len, c]`) or 2-D (`[n, h, w, c]`).
pub struct Pool {
    pub kind: PoolKind,
    pub one_d: bool,
    pub pool: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    /// The element each window chose in the forward pass (max pooling), for backward.
    chosen: RefCell<Vec<u32>>,
}

impl Pool {
    pub fn new(
        kind: PoolKind,
        one_d: bool,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> Pool {
        Pool {
            kind,
            one_d,
            pool,
            strides,
            padding,
            chosen: RefCell::new(Vec::new()),
        }
    }

    fn geometry(&self, x: &Tensor) -> Result<Pool2dGeometry> {
        if self.one_d {
            Pool2dGeometry::pool1d(
                self.name(),
                x.dims(),
                self.pool[1],
                self.strides[1],
                self.padding,
            )
        } else {
            Pool2dGeometry::new(self.name(), x.dims(), self.pool, self.strides, self.padding)
        }
    }
}

impl Op for Pool {
    fn name(&self) -> &'static str {
        match (self.kind, self.one_d) {
            (PoolKind::Max, true) => "maxPool1d",
            (PoolKind::Max, false) => "maxPool2d",
            (PoolKind::Avg, true) => "avgPool1d",
            (PoolKind::Avg, false) => "avgPool2d",
        }
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let xv = x.f32s(self.name(), "input")?;
        let g = self.geometry(x)?;
        let mut y = Tensor::zeros(Shape::from_dims(self.name(), "output", &g.output_dims())?);
        match self.kind {
            PoolKind::Max => {
                let mut chosen = self.chosen.borrow_mut();
                chosen.clear();
                chosen.resize(y.numel(), 0);
                max_pool2d(&g, xv, y.data_mut(), &mut chosen);
            }
            PoolKind::Avg => avg_pool2d(&g, xv, y.data_mut()),
        }
        Ok(y)
    }

    fn backward(
        &self,
        inputs: &[&Tensor],
        _y: &Tensor,
        gy: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let x = inputs[0];
        let g = self.geometry(x)?;
        let mut gx = Tensor::zeros(x.shape().clone());
        match self.kind {
            PoolKind::Max => {
                max_pool2d_backward(&g, gy.data(), &self.chosen.borrow(), gx.data_mut())
            }
            PoolKind::Avg => avg_pool2d_backward(&g, gy.data(), gx.data_mut()),
        }
        Ok(vec![Some(gx)])
    }
}

/// Mean over all positions: `[n, len, c]` or `[n, h, w, c]` to `[n, c]`.
pub struct GlobalAvgPool {
    pub one_d: bool,
}

impl GlobalAvgPool {
    fn split(&self, x: &Tensor) -> Result<(usize, usize, usize)> {
        let rank = if self.one_d { 3 } else { 4 };
        if x.rank() != rank {
            let expected = if self.one_d {
                "a rank-3 shape [batch, length, channels]"
            } else {
                "a rank-4 shape [batch, height, width, channels]"
            };
            return Err(Error::shape(
                self.name(),
                "input",
                expected,
                format!("shape {}", x.shape()),
            ));
        }
        let d = x.dims();
        Ok((d[0], d[1..rank - 1].iter().product(), d[rank - 1]))
    }
}

impl Op for GlobalAvgPool {
    fn name(&self) -> &'static str {
        if self.one_d {
            "globalAvgPool1d"
        } else {
            "globalAvgPool2d"
        }
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let xv = x.f32s(self.name(), "input")?;
        let (n, hw, c) = self.split(x)?;
        if hw == 0 {
            return Err(Error::shape(
                self.name(),
                "input",
                "at least one position",
                format!("shape {}", x.shape()),
            ));
        }
        let mut y = Tensor::zeros(Shape::new(vec![n, c]));
        global_avg_pool2d(n, hw, c, xv, y.data_mut());
        Ok(y)
    }

    fn backward(
        &self,
        inputs: &[&Tensor],
        _y: &Tensor,
        gy: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let x = inputs[0];
        let (n, hw, c) = self.split(x)?;
        let mut gx = Tensor::zeros(x.shape().clone());
        global_avg_pool2d_backward(n, hw, c, gy.data(), gx.data_mut());
        Ok(vec![Some(gx)])
    }
}
