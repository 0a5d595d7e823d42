//! Elementwise ops with broadcasting: arithmetic between tensors, simple maps, clip,
//! and where. Derivatives (broadcast inputs get their gradient summed back):
//!   add: (g, g)   sub: (g, -g)   mul: (g·b, g·a)   div: (g/b, -g·a/b²)
//!   pow: (g·b·a^(b-1), g·a^b·ln a, taken as 0 where a ≤ 0)
//!   maximum/minimum: g to the larger/smaller input, split evenly on ties (as torch)
//!   neg: -g   abs: g·sign(x)   square: 2x·g   sqrt: g/(2√x)   relu: g·[x > 0]
//!   clip(lo, hi): g where lo ≤ x ≤ hi   where(c, a, b): (g where c, g where not c)

use super::{broadcast_binary, check_broadcast, expand, floats, sum_to};
use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::binary::{binary, Binary};
use crate::kernels::map::{map, pass_in_range, select, Map};
use crate::shape::Shape;
use crate::tensor::Tensor;

fn zip(op: Binary, a: &Tensor, b: &Tensor) -> Tensor {
    let mut out = Tensor::zeros(a.shape().clone());
    binary(op, a.data(), b.data(), out.data_mut());
    out
}

fn scale(x: &Tensor, s: f32) -> Tensor {
    let mut out = Tensor::zeros(x.shape().clone());
    crate::kernels::binary::binary_broadcast(
        Binary::Mul,
        x.data(),
        x.dims(),
        &[s],
        &[],
        x.dims(),
        out.data_mut(),
    );
    out
}

fn mapped(f: Map, x: &Tensor) -> Tensor {
    let mut out = Tensor::zeros(x.shape().clone());
    map(f, x.data(), out.data_mut());
    out
}

/// `a op b` for the arithmetic ops of `Binary`.
pub struct BinaryOp(pub Binary);

impl Op for BinaryOp {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let (a, b) = (x[0], x[1]);
        floats(self.name(), "a", a)?;
        floats(self.name(), "b", b)?;
        check_broadcast(self.name(), a, b, "a", "b")?;
        Ok(broadcast_binary(self.0, a, b))
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let (a, b) = (x[0], x[1]);
        let dims = y.dims();
        let (ga, gb) = match self.0 {
            Binary::Add => (g.clone(), g.clone()),
            Binary::Sub => (g.clone(), scale(g, -1.0)),
            Binary::Mul => (
                broadcast_binary(Binary::Mul, g, b),
                broadcast_binary(Binary::Mul, g, a),
            ),
            Binary::Div => {
                let ga = broadcast_binary(Binary::Div, g, b);
                // -g·a/b² = -(g/b)·(a/b) = -ga·y
                let gb = scale(&zip(Binary::Mul, &ga, y), -1.0);
                (ga, gb)
            }
            Binary::Pow => {
                let (ae, be) = (expand(a, dims), expand(b, dims));
                let (mut ga, mut gb) = (
                    Tensor::zeros(y.shape().clone()),
                    Tensor::zeros(y.shape().clone()),
                );
                for i in 0..y.numel() {
                    let (av, bv, gv) = (ae.data()[i], be.data()[i], g.data()[i]);
                    ga.data_mut()[i] = if bv == 0.0 {
                        0.0
                    } else {
                        gv * bv * av.powf(bv - 1.0)
                    };
                    gb.data_mut()[i] = if av > 0.0 {
                        gv * y.data()[i] * av.ln()
                    } else {
                        0.0
                    };
                }
                (ga, gb)
            }
            Binary::Maximum | Binary::Minimum => {
                let (ae, be) = (expand(a, dims), expand(b, dims));
                let (mut ga, mut gb) = (
                    Tensor::zeros(y.shape().clone()),
                    Tensor::zeros(y.shape().clone()),
                );
                for i in 0..y.numel() {
                    let (av, bv, gv) = (ae.data()[i], be.data()[i], g.data()[i]);
                    let a_wins = if self.0 == Binary::Maximum {
                        av > bv
                    } else {
                        av < bv
                    };
                    let (wa, wb) = if av == bv {
                        (0.5, 0.5)
                    } else if a_wins {
                        (1.0, 0.0)
                    } else {
                        (0.0, 1.0)
                    };
                    ga.data_mut()[i] = gv * wa;
                    gb.data_mut()[i] = gv * wb;
                }
                (ga, gb)
            }
        };
        Ok(vec![
            Some(sum_to(&ga, a.dims())),
            Some(sum_to(&gb, b.dims())),
        ])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapFn {
    Neg,
    Abs,
    Square,
    Sqrt,
    Relu,
}

impl MapFn {
    pub const ALL: [MapFn; 5] = [
        MapFn::Neg,
        MapFn::Abs,
        MapFn::Square,
        MapFn::Sqrt,
        MapFn::Relu,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MapFn::Neg => "neg",
            MapFn::Abs => "abs",
            MapFn::Square => "square",
            MapFn::Sqrt => "sqrt",
            MapFn::Relu => "relu",
        }
    }

    pub fn from_name(name: &str) -> Option<MapFn> {
        MapFn::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One-input elementwise ops built from the map and binary kernels.
pub struct MapOp(pub MapFn);

impl Op for MapOp {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats(self.name(), "x", x)?;
        Ok(match self.0 {
            MapFn::Neg => scale(x, -1.0),
            MapFn::Abs => mapped(Map::Abs, x),
            MapFn::Square => zip(Binary::Mul, x, x),
            MapFn::Sqrt => mapped(Map::Sqrt, x),
            MapFn::Relu => {
                let mut out = Tensor::zeros(x.shape().clone());
                crate::kernels::binary::binary_broadcast(
                    Binary::Maximum,
                    x.data(),
                    x.dims(),
                    &[0.0],
                    &[],
                    x.dims(),
                    out.data_mut(),
                );
                out
            }
        })
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let x = x[0];
        let gx = match self.0 {
            MapFn::Neg => scale(g, -1.0),
            MapFn::Abs => zip(Binary::Mul, g, &mapped(Map::Sign, x)),
            MapFn::Square => zip(Binary::Mul, g, &scale(x, 2.0)),
            MapFn::Sqrt => zip(Binary::Div, g, &scale(y, 2.0)),
            MapFn::Relu => zip(Binary::Mul, g, &mapped(Map::Step, x)),
        };
        Ok(vec![Some(gx)])
    }
}

/// `clip(x, lo, hi)`: each value limited to [lo, hi].
pub struct Clip {
    lo: f32,
    hi: f32,
}

impl Clip {
    pub fn new(lo: f64, hi: f64) -> Result<Clip> {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(Error::invalid(
                "clip",
                "min",
                format!("a number not above `max` ({hi})"),
                format!("{lo}"),
            ));
        }
        Ok(Clip {
            lo: lo as f32,
            hi: hi as f32,
        })
    }
}

impl Op for Clip {
    fn name(&self) -> &'static str {
        "clip"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        floats("clip", "x", x)?;
        let lo = broadcast_binary(Binary::Maximum, x, &Tensor::scalar(self.lo));
        Ok(broadcast_binary(
            Binary::Minimum,
            &lo,
            &Tensor::scalar(self.hi),
        ))
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let mut gx = Tensor::zeros(g.shape().clone());
        pass_in_range(x[0].data(), self.lo, self.hi, g.data(), gx.data_mut());
        Ok(vec![Some(gx)])
    }
}

/// `where(cond, a, b)`: `a` where `cond` is nonzero, else `b`, all three broadcast.
pub struct Where;

impl Where {
    fn cond_values(c: &Tensor) -> Tensor {
        // int32 conditions (masks) are read as floats; nonzero is true either way.
        Tensor::new(c.shape().clone(), c.to_f32_vec())
    }
}

impl Op for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let (c, a, b) = (x[0], x[1], x[2]);
        floats("where", "a", a)?;
        floats("where", "b", b)?;
        let ab = check_broadcast("where", a, b, "a", "b")?;
        let dims = crate::kernels::binary::broadcast_shape(c.dims(), &ab).ok_or_else(|| {
            Error::shape(
                "where",
                "condition",
                format!("a shape broadcastable with {}", Shape::new(ab.clone())),
                format!("shape {}", c.shape()),
            )
        })?;
        let (ce, ae, be) = (
            expand(&Where::cond_values(c), &dims),
            expand(a, &dims),
            expand(b, &dims),
        );
        let mut out = Tensor::zeros(Shape::new(dims));
        select(ce.data(), ae.data(), be.data(), out.data_mut());
        Ok(out)
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let (c, a, b) = (x[0], x[1], x[2]);
        let ce = expand(&Where::cond_values(c), y.dims());
        let zero = Tensor::zeros(y.shape().clone());
        let (mut ga, mut gb) = (zero.clone(), zero.clone());
        select(ce.data(), g.data(), zero.data(), ga.data_mut());
        select(ce.data(), zero.data(), g.data(), gb.data_mut());
        Ok(vec![
            None,
            Some(sum_to(&ga, a.dims())),
            Some(sum_to(&gb, b.dims())),
        ])
    }
}
