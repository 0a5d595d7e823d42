//! Ops that move data without arithmetic: reshape and transpose. Their derivatives
//! move the gradient back: reshape to the input's shape, transpose by the inverse
//! permutation. (Data movement has no SIMD twin: there is no arithmetic to vectorize.)

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// `reshape(x, shape)`: one dimension may be -1 (inferred).
pub struct Reshape {
    shape: Vec<i64>,
}

impl Reshape {
    pub fn new(shape: Vec<i64>) -> Reshape {
        Reshape { shape }
    }

    fn resolve(&self, x: &Tensor) -> Result<Shape> {
        let bad = |expected: String| {
            Error::invalid(
                "reshape",
                "shape",
                expected,
                format!("{:?} for a tensor of shape {}", self.shape, x.shape()),
            )
        };
        let mut dims = Vec::with_capacity(self.shape.len());
        let mut infer = None;
        for (i, &d) in self.shape.iter().enumerate() {
            if d == -1 {
                if infer.replace(i).is_some() {
                    return Err(bad("at most one -1".into()));
                }
                dims.push(1);
            } else if d < 0 {
                return Err(bad("non-negative dimensions (or one -1)".into()));
            } else {
                dims.push(d as usize);
            }
        }
        let known: usize = dims.iter().product();
        let n = x.numel();
        if let Some(i) = infer {
            if known == 0 || n % known != 0 {
                return Err(Error::shape(
                    "reshape",
                    "shape",
                    format!("dimensions whose product divides {n}"),
                    format!("{:?} for a tensor of shape {}", self.shape, x.shape()),
                ));
            }
            dims[i] = n / known;
        } else if known != n {
            return Err(Error::shape(
                "reshape",
                "shape",
                format!("{n} elements, as many as shape {} has", x.shape()),
                format!("{:?} ({known} elements)", self.shape),
            ));
        }
        Shape::from_dims("reshape", "shape", &dims)
    }
}

impl Op for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let shape = self.resolve(x[0])?;
        Ok(x[0].with_shape(shape))
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![Some(g.with_shape(x[0].shape().clone()))])
    }
}

/// `transpose(x, perm)`: output dimension i is input dimension `perm[i]` (default: reversed).
pub struct Transpose {
    perm: Option<Vec<i64>>,
}

impl Transpose {
    pub fn new(perm: Option<Vec<i64>>) -> Transpose {
        Transpose { perm }
    }

    fn resolve(&self, rank: usize) -> Result<Vec<usize>> {
        let Some(p) = &self.perm else {
            return Ok((0..rank).rev().collect());
        };
        let bad = || {
            Error::invalid(
                "transpose",
                "perm",
                format!("a permutation of 0..{rank}"),
                format!("{p:?}"),
            )
        };
        if p.len() != rank {
            return Err(bad());
        }
        let mut seen = vec![false; rank];
        let mut out = Vec::with_capacity(rank);
        for &a in p {
            if a < 0 || a as usize >= rank || seen[a as usize] {
                return Err(bad());
            }
            seen[a as usize] = true;
            out.push(a as usize);
        }
        Ok(out)
    }
}

/// Copies `x` (shape `dims`) into `out` with its dimensions permuted by `perm`.
pub fn permute(x: &[f32], dims: &[usize], perm: &[usize], out: &mut [f32]) {
    let rank = dims.len();
    let mut in_strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * dims[i + 1];
    }
    let out_dims: Vec<usize> = perm.iter().map(|&p| dims[p]).collect();
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut idx = vec![0usize; rank];
    let mut src = 0usize;
    for o in out.iter_mut() {
        *o = x[src];
        for d in (0..rank).rev() {
            idx[d] += 1;
            src += strides[d];
            if idx[d] < out_dims[d] {
                break;
            }
            src -= strides[d] * out_dims[d];
            idx[d] = 0;
        }
    }
}

impl Op for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        let values = x.f32s("transpose", "x")?;
        let perm = self.resolve(x.rank())?;
        let dims: Vec<usize> = perm.iter().map(|&p| x.dims()[p]).collect();
        let mut out = Tensor::zeros(Shape::new(dims));
        permute(values, x.dims(), &perm, out.data_mut());
        Ok(out)
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let perm = self.resolve(x[0].rank())?;
        let mut inverse = vec![0; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i;
        }
        let mut gx = Tensor::zeros(x[0].shape().clone());
        permute(g.data(), g.dims(), &inverse, gx.data_mut());
        Ok(vec![Some(gx)])
    }
}
