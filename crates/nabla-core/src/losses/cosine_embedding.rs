//! Cosine embedding loss for pairs (x1, x2) labelled similar (y = 1) or dissimilar
//! (y = −1), one unit per row of the last axis:
//!   cos = x1·x2 / sqrt(A·B),  A = max(‖x1‖², ε),  B = max(‖x2‖², ε),  ε = 1e-12
//!   l = 1 − cos            if y = 1
//!   l = max(0, cos − m)    if y = −1   (gradient 0 at cos = m)
//!   dcos/dx1 = x2/sqrt(A·B) − cos·x1/A   (the second term only where ‖x1‖² > ε)
//! and symmetrically for x2; computed in f64. See: torch.nn.CosineEmbeddingLoss.
//!
//! NOTE: torch adds ε to the squared norms (A = ‖x1‖² + ε); we clamp them, as the
//! contract says, so the two agree to ~1e-12 relative except for near-zero vectors.
//! Labels must be exactly 1 or −1 (torch silently gives other values a loss of 0).

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

const EPS: f64 = 1e-12;

pub struct CosineEmbedding {
    margin: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["margin"])?;
    Ok(Box::new(CosineEmbedding {
        margin: cfg.f64_where("margin", 0.0, "a finite number", f64::is_finite)?,
    }))
}

/// `yTrue` as ±1 labels (float32 or int32).
fn signs(op: &'static str, y: &Tensor) -> Result<Vec<f64>> {
    let v: Vec<f64> = match y.dtype() {
        DType::I32 => y.i32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
        DType::F32 => y.f32s(op, "yTrue")?.iter().map(|&v| v as f64).collect(),
    };
    if let Some((i, bad)) = v
        .iter()
        .enumerate()
        .find(|(_, v)| **v != 1.0 && **v != -1.0)
    {
        return Err(Error::invalid(
            op,
            "yTrue",
            "labels of 1 (similar) or -1 (dissimilar)",
            format!("{bad} at index {i}"),
        ));
    }
    Ok(v)
}

/// x1·x2, A and B of one row.
fn row_stats(a: &[f32], b: &[f32]) -> (f64, f64, f64) {
    let (mut s, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&p, &q) in a.iter().zip(b) {
        let (p, q) = (p as f64, q as f64);
        s += p * q;
        aa += p * p;
        bb += q * q;
    }
    (s, aa, bb)
}

/// Validated inputs: labels, the two row-major [rows, d] tensors, the row length d.
struct Pairs<'a> {
    y: Vec<f64>,
    a: &'a [f32],
    b: &'a [f32],
    d: usize,
}

impl CosineEmbedding {
    fn check<'a>(&self, x: &[&'a Tensor]) -> Result<Pairs<'a>> {
        let op = self.name();
        let (a, b) = same_shape(op, ["x1", "x2"], x[1], x[2])?;
        let dims = x[1].dims();
        if dims.is_empty() {
            return Err(Error::shape(
                op,
                "x1",
                "vectors along a last axis, e.g. [N, D]",
                "a scalar (shape [])",
            ));
        }
        let lead = &dims[..dims.len() - 1];
        if x[0].dims() != lead {
            return Err(Error::shape(
                op,
                "yTrue",
                format!(
                    "one label per pair, shape {} (x1's shape {} without its last axis)",
                    Shape::new(lead.to_vec()),
                    x[1].shape()
                ),
                format!("shape {}", x[0].shape()),
            ));
        }
        let y = signs(op, x[0])?;
        Ok(Pairs {
            y,
            a,
            b,
            d: dims[dims.len() - 1],
        })
    }
}

impl Loss for CosineEmbedding {
    fn name(&self) -> &'static str {
        "cosineEmbedding"
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "x1", "x2"]
    }

    fn differentiable(&self) -> &'static [usize] {
        &[1, 2]
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let Pairs { y, a, b, d } = self.check(x)?;
        let values = y
            .iter()
            .enumerate()
            .map(|(r, &y)| {
                let (s, aa, bb) = row_stats(&a[r * d..(r + 1) * d], &b[r * d..(r + 1) * d]);
                let cos = s / (aa.max(EPS) * bb.max(EPS)).sqrt();
                (if y > 0.0 {
                    1.0 - cos
                } else {
                    (cos - self.margin).max(0.0)
                }) as f32
            })
            .collect();
        let dims = x[1].dims();
        Ok(Units {
            values: Tensor::new(x[0].shape().clone(), values),
            denom: y.len() as f64,
            batch: if dims.len() > 1 { dims[0] } else { 1 },
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let Pairs { y, a, b, d } = self.check(x)?;
        let (mut ga, mut gb) = (vec![0f32; a.len()], vec![0f32; b.len()]);
        for (r, &y) in y.iter().enumerate() {
            let (ar, br) = (&a[r * d..(r + 1) * d], &b[r * d..(r + 1) * d]);
            let (s, aa, bb) = row_stats(ar, br);
            let (na, nb) = (aa.max(EPS), bb.max(EPS));
            let root = (na * nb).sqrt();
            let cos = s / root;
            // dl/dcos: −1 for similar pairs, 1 for dissimilar pairs inside the margin.
            let dl = if y > 0.0 {
                -1.0
            } else if cos > self.margin {
                1.0
            } else {
                0.0
            };
            let u = up[r] as f64 * dl;
            if u == 0.0 {
                continue;
            }
            let (ka, kb) = (
                if aa > EPS { cos / na } else { 0.0 },
                if bb > EPS { cos / nb } else { 0.0 },
            );
            for k in 0..d {
                let (p, q) = (ar[k] as f64, br[k] as f64);
                ga[r * d + k] = (u * (q / root - ka * p)) as f32;
                gb[r * d + k] = (u * (p / root - kb * q)) as f32;
            }
        }
        Ok(vec![
            None,
            Some(Tensor::new(x[1].shape().clone(), ga)),
            Some(Tensor::new(x[2].shape().clone(), gb)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::tensor::Tensor;

    const NAME: &str = "cosineEmbedding";

    fn none(cfg: &str, x: &[&Tensor]) -> Vec<f32> {
        super::super::testing::none(NAME, cfg, x)
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    #[test]
    fn known_values() {
        // cos = 1, 0, −1, 0.6 for the four pairs.
        let x1 = t(&[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 3.0, 4.0], &[4, 2]);
        let x2 = t(&[2.0, 0.0, 0.0, 1.0, -1.0, 0.0, 1.0, 0.0], &[4, 2]);
        let similar = t(&[1.0; 4], &[4]);
        let l = none("", &[&similar, &x1, &x2]);
        for (v, e) in l.iter().zip([0.0, 1.0, 2.0, 0.4]) {
            assert!((v - e).abs() < 1e-6, "{l:?}");
        }
        let dissimilar = labels(&[-1, -1, -1, -1], &[4]);
        assert_eq!(none("", &[&dissimilar, &x1, &x2]), vec![1.0, 0.0, 0.0, 0.6]);
        let m = none(r#","margin":0.5"#, &[&dissimilar, &x1, &x2]);
        assert!(
            (m[0] - 0.5).abs() < 1e-6 && m[1] == 0.0 && m[2] == 0.0 && (m[3] - 0.1).abs() < 1e-6
        );
        let mixed = t(&[1.0, -1.0, 1.0, -1.0], &[4]);
        assert!(
            (value(NAME, "", &[&mixed, &x1, &x2]) - (0.0 + 0.0 + 2.0 + 0.6) / 4.0).abs() < 1e-6
        );
        // Zero vectors: cos = 0, finite everywhere.
        let z = t(&[0.0, 0.0], &[1, 2]);
        let op = LossOp::new(NAME, "", false).unwrap();
        let (v, g) = op
            .value_and_grad(&[&t(&[1.0], &[1]), &z, &x1_row()])
            .unwrap();
        assert_eq!(v.data(), &[1.0]);
        assert!(g.iter().all(|g| g.data().iter().all(|v| v.is_finite())));
    }

    fn x1_row() -> Tensor {
        t(&[0.3, -0.4], &[1, 2])
    }

    #[test]
    fn gradients() {
        let y = t(&[1.0, -1.0, -1.0], &[3]);
        for cfg in ["", r#"{"margin":-0.5}"#, r#"{"margin":0.2}"#] {
            gradcheck(
                NAME,
                cfg,
                vec![y.clone(), normal(&[3, 5], 1), normal(&[3, 5], 2)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![t(&[-1.0], &[1]), normal(&[1, 7], 3), normal(&[1, 7], 4)],
                1e-3,
                1e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![t(&[1.0], &[1]), normal(&[1, 7], 5), normal(&[1, 7], 6)],
                1e-3,
                1e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let (a, b) = (normal(&[3, 2], 1), normal(&[3, 2], 2));
        assert_eq!(
            fails("", &[&t(&[1.0, 0.0, 1.0], &[3]), &a, &b]),
            "cosineEmbedding: invalid `yTrue`: expected labels of 1 (similar) or -1 (dissimilar), received 0 at index 1"
        );
        assert_eq!(
            fails("", &[&t(&[1.0, 1.0], &[2]), &a, &b]),
            "cosineEmbedding: invalid `yTrue`: expected one label per pair, shape [3] (x1's shape [3, 2] without its last axis), received shape [2]"
        );
        assert!(fails("", &[&t(&[1.0; 3], &[3]), &a, &normal(&[3, 3], 3)]).contains("invalid `x1`"));
        assert!(fails(r#"{"margin":"big"}"#, &[]).contains("invalid `margin`: expected a number"));
        assert!(fails(r#"{"eps":1}"#, &[]).contains("unknown option `eps`"));
    }
}
