//! `matmul(a, b)`: the product of an `m×k` and a `k×n` matrix.
//! Derivatives: dA = G·Bᵀ, dB = Aᵀ·G, as GEMMs on transposed views (no copies).

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::{gemm, MatRef};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Checks that both operands are matrices with matching inner dimensions; returns `(m, k, n)`.
fn check(op: &'static str, a: &Tensor, b: &Tensor) -> Result<(usize, usize, usize)> {
    for (name, t) in [("a", a), ("b", b)] {
        t.f32s(op, name)?;
        if t.shape().rank() != 2 {
            return Err(Error::shape(
                op,
                name,
                "a 2-D tensor (a matrix)",
                format!("shape {}", t.shape()),
            ));
        }
    }
    let (m, k) = (a.dims()[0], a.dims()[1]);
    let (k2, n) = (b.dims()[0], b.dims()[1]);
    if k != k2 {
        return Err(Error::shape(
            op,
            "b",
            format!(
                "{} to match the {} of `a` (shape {})",
                count(k, "row"),
                count(k, "column"),
                a.shape()
            ),
            format!("shape {}", b.shape()),
        ));
    }
    Shape::from_dims(op, "result", &[m, n])?;
    Ok((m, k, n))
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The matrix product, computed by the SIMD GEMM kernel.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (m, k, n) = check("matmul", a, b)?;
    let mut out = Tensor::zeros(Shape::new(vec![m, n]));
    gemm(
        MatRef::row_major(a.data(), m, k),
        MatRef::row_major(b.data(), k, n),
        out.data_mut(),
        false,
    );
    Ok(out)
}

pub struct MatMul;

impl Op for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        matmul(x[0], x[1])
    }

    fn backward(&self, x: &[&Tensor], _y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let (a, b) = (x[0], x[1]);
        let (m, k, n) = (a.dims()[0], a.dims()[1], b.dims()[1]);
        let gv = MatRef::row_major(g.data(), m, n);
        let mut ga = Tensor::zeros(a.shape().clone());
        gemm(
            gv,
            MatRef::row_major(b.data(), k, n).t(),
            ga.data_mut(),
            false,
        );
        let mut gb = Tensor::zeros(b.shape().clone());
        gemm(
            MatRef::row_major(a.data(), m, k).t(),
            gv,
            gb.data_mut(),
            false,
        );
        Ok(vec![Some(ga), Some(gb)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec("tensor", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    #[test]
    fn multiplies_matrices() {
        let c = matmul(
            &t(&[1., 2., 3., 4., 5., 6.], &[2, 3]),
            &t(&[7., 8., 9., 10., 11., 12.], &[3, 2]),
        )
        .unwrap();
        assert_eq!(c.dims(), &[2, 2]);
        assert_eq!(c.data(), &[58., 64., 139., 154.]);
    }

    #[test]
    fn inner_dimension_mismatch_names_both_shapes() {
        let e = matmul(&t(&[0.; 6], &[2, 3]), &t(&[0.; 8], &[4, 2])).unwrap_err();
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        assert_eq!(e.arg, "b");
        assert_eq!(e.to_string(), "matmul: invalid `b`: expected 3 rows to match the 3 columns of `a` (shape [2, 3]), received shape [4, 2]");
    }

    #[test]
    fn operands_must_be_matrices() {
        let e = matmul(&t(&[0.; 3], &[3]), &t(&[0.; 3], &[3, 1])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "matmul: invalid `a`: expected a 2-D tensor (a matrix), received shape [3]"
        );
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let c = matmul(&t(&[], &[2, 0]), &t(&[], &[0, 3])).unwrap();
        assert_eq!(c.data(), &[0.; 6]);
    }
}
