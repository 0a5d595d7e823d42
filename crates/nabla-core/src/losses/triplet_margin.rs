//! Triplet margin loss, one unit per row of the last axis:
//!   l = max(0, d(a, p) − d(a, n) + m),   d(x, y) = ‖x − y + ε‖_q   (torch pairwise_distance)
//! with `swap`, d(a, n) is replaced by min(d(a, n), d(p, n)) (the harder negative).
//! The norm is computed scaled by the largest |u_i| (finite for any q ≥ 1), and
//!   ∂‖u‖_q/∂u_i = sign(u_i)·(|u_i| / ‖u‖_q)^(q−1)   (0 at u = 0, as torch)
//! in f64. See: torch.nn.TripletMarginLoss.

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct TripletMargin {
    margin: f64,
    p: f64,
    eps: f64,
    swap: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["margin", "p", "eps", "swap"])?;
    Ok(Box::new(TripletMargin {
        margin: cfg.f64_where("margin", 1.0, "a finite number", f64::is_finite)?,
        p: cfg.f64_where("p", 2.0, "a finite number ≥ 1 (the norm's order)", |v| {
            v.is_finite() && v >= 1.0
        })?,
        eps: cfg.f64_where("eps", 1e-6, "a finite number ≥ 0", |v| {
            v.is_finite() && v >= 0.0
        })?,
        swap: cfg.bool("swap", false)?,
    }))
}

/// One pairwise distance ‖x − y + ε‖_q and, on request, its gradient w.r.t. x
/// (the gradient w.r.t. y is its negative).
struct Distance {
    d: f64,
    u: Vec<f64>,
}

impl TripletMargin {
    fn distance(&self, x: &[f32], y: &[f32]) -> Distance {
        let u: Vec<f64> = x
            .iter()
            .zip(y)
            .map(|(&a, &b)| a as f64 - b as f64 + self.eps)
            .collect();
        let m = u.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let d = if m == 0.0 {
            0.0
        } else {
            m * u
                .iter()
                .map(|v| (v.abs() / m).powf(self.p))
                .sum::<f64>()
                .powf(1.0 / self.p)
        };
        Distance { d, u }
    }

    /// Adds `scale · ∂d/∂x` to `gx` and subtracts it from `gy`.
    fn add_grad(&self, dist: &Distance, scale: f64, gx: &mut [f32], gy: &mut [f32]) {
        if dist.d == 0.0 {
            return;
        }
        for (k, &u) in dist.u.iter().enumerate() {
            let g = if u == 0.0 {
                0.0
            } else {
                u.signum() * (u.abs() / dist.d).powf(self.p - 1.0)
            };
            gx[k] += (scale * g) as f32;
            gy[k] -= (scale * g) as f32;
        }
    }

    /// The three rows and the row length, validated.
    fn check<'a>(&self, x: &[&'a Tensor]) -> Result<([&'a [f32]; 3], usize)> {
        let op = self.name();
        let (pos, anchor) = same_shape(op, ["positive", "anchor"], x[1], x[0])?;
        let (neg, _) = same_shape(op, ["negative", "anchor"], x[2], x[0])?;
        let dims = x[0].dims();
        if dims.is_empty() {
            return Err(Error::shape(
                op,
                "anchor",
                "vectors along a last axis, e.g. [N, D]",
                "a scalar (shape [])",
            ));
        }
        Ok(([anchor, pos, neg], dims[dims.len() - 1]))
    }
}

impl Loss for TripletMargin {
    fn name(&self) -> &'static str {
        "tripletMargin"
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["anchor", "positive", "negative"]
    }

    fn differentiable(&self) -> &'static [usize] {
        &[0, 1, 2]
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let ([a, p, n], d) = self.check(x)?;
        let dims = x[0].dims();
        let lead = &dims[..dims.len() - 1];
        let rows: usize = lead.iter().product();
        let values = (0..rows)
            .map(|r| {
                let s = r * d..(r + 1) * d;
                let (ar, pr, nr) = (&a[s.clone()], &p[s.clone()], &n[s]);
                let dap = self.distance(ar, pr).d;
                let mut dan = self.distance(ar, nr).d;
                if self.swap {
                    dan = dan.min(self.distance(pr, nr).d);
                }
                (dap - dan + self.margin).max(0.0) as f32
            })
            .collect();
        Ok(Units {
            values: Tensor::new(Shape::new(lead.to_vec()), values),
            denom: rows as f64,
            batch: if dims.len() > 1 { dims[0] } else { 1 },
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let ([a, p, n], d) = self.check(x)?;
        let len = a.len();
        let (mut ga, mut gp, mut gn) = (vec![0f32; len], vec![0f32; len], vec![0f32; len]);
        for (r, &u) in up.iter().enumerate() {
            let s = r * d..(r + 1) * d;
            let (ar, pr, nr) = (&a[s.clone()], &p[s.clone()], &n[s.clone()]);
            let ap = self.distance(ar, pr);
            let an = self.distance(ar, nr);
            let pn = if self.swap {
                Some(self.distance(pr, nr)).filter(|pn| pn.d < an.d)
            } else {
                None
            };
            let neg = pn.as_ref().map_or(an.d, |pn| pn.d);
            if ap.d - neg + self.margin <= 0.0 {
                continue;
            }
            let u = u as f64;
            self.add_grad(&ap, u, &mut ga[s.clone()], &mut gp[s.clone()]);
            match &pn {
                Some(pn) => self.add_grad(pn, -u, &mut gp[s.clone()], &mut gn[s]),
                None => self.add_grad(&an, -u, &mut ga[s.clone()], &mut gn[s]),
            }
        }
        let shape = x[0].shape();
        Ok(vec![
            Some(Tensor::new(shape.clone(), ga)),
            Some(Tensor::new(shape.clone(), gp)),
            Some(Tensor::new(shape.clone(), gn)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::tensor::Tensor;

    const NAME: &str = "tripletMargin";

    fn none(cfg: &str, x: &[&Tensor]) -> Vec<f32> {
        super::super::testing::none(NAME, cfg, x)
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    #[test]
    fn known_values() {
        let a = t(&[0.0, 0.0, 0.0, 0.0], &[2, 2]);
        let p = t(&[3.0, 4.0, 4.0, 0.0], &[2, 2]);
        let n = t(&[1.0, 0.0, 5.0, 0.0], &[2, 2]);
        // row 0: d(a,p) = 5, d(a,n) = 1; row 1: d(a,p) = 4, d(a,n) = 5, d(p,n) = 1
        assert_eq!(none(r#","eps":0"#, &[&a, &p, &n]), vec![5.0, 0.0]);
        assert_eq!(
            none(r#","eps":0,"swap":true"#, &[&a, &p, &n]),
            vec![5.0, 4.0]
        );
        assert_eq!(
            none(r#","eps":0,"p":1,"margin":0.5"#, &[&a, &p, &n]),
            vec![6.5, 0.0]
        );
        assert_eq!(value(NAME, r#"{"eps":0,"swap":true}"#, &[&a, &p, &n]), 4.5);
        // eps shifts every difference: d(a,p) = ‖(−3+ε, −4+ε)‖.
        let v = none("", &[&a, &p, &n])[0] as f64;
        let e = 1e-6;
        let want = ((3.0f64 - e).powi(2) + (4.0 - e).powi(2)).sqrt() - (1.0f64 - e).hypot(e) + 1.0;
        assert!((v - want).abs() < 1e-6);
        // Huge p stays finite (the norm tends to the max).
        let big = none(r#","eps":0,"p":1000"#, &[&a, &p, &n]);
        assert!((big[0] - 4.0).abs() < 1e-2 && big[0].is_finite());
        // Identical points: distance 0, gradient 0 there, no NaN.
        let op = LossOp::new(NAME, r#"{"eps":0}"#, false).unwrap();
        let (v, g) = op.value_and_grad(&[&a, &a, &a]).unwrap();
        assert_eq!(v.data(), &[1.0]);
        assert!(g.iter().all(|g| g.data().iter().all(|&v| v == 0.0)));
    }

    #[test]
    fn gradients() {
        for cfg in [
            "",
            r#"{"margin":3}"#,
            r#"{"p":1,"margin":2}"#,
            r#"{"p":3.5,"margin":2,"eps":0.01}"#,
            r#"{"swap":true,"margin":3}"#,
            r#"{"swap":true,"p":1.5,"margin":2.5}"#,
        ] {
            gradcheck(
                NAME,
                cfg,
                vec![normal(&[3, 5], 1), normal(&[3, 5], 2), normal(&[3, 5], 3)],
                1e-3,
                2e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![normal(&[1, 7], 4), normal(&[1, 7], 5), normal(&[1, 7], 6)],
                1e-3,
                2e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![normal(&[7], 7), normal(&[7], 8), normal(&[7], 9)],
                1e-3,
                2e-3,
            );
        }
    }

    #[test]
    fn errors() {
        let (a, b) = (normal(&[2, 3], 1), normal(&[3, 2], 2));
        assert_eq!(
            fails("", &[&a, &b, &a]),
            "tripletMargin: invalid `positive`: expected the shape of `anchor`, [2, 3], received shape [3, 2]"
        );
        assert!(fails("", &[&a, &a, &b]).contains("invalid `negative`"));
        assert_eq!(
            fails(r#"{"p":0.5}"#, &[]),
            "tripletMargin: invalid `p`: expected a finite number ≥ 1 (the norm's order), received 0.5"
        );
        assert!(fails(r#"{"eps":-1}"#, &[]).contains("invalid `eps`"));
        assert!(fails(r#"{"swap":1}"#, &[]).contains("invalid `swap`: expected true or false"));
        assert!(fails(r#"{"epsilon":1}"#, &[]).contains("unknown option `epsilon`"));
        let s = t(&[1.0], &[]);
        assert!(fails("", &[&s, &s, &s]).contains("received a scalar"));
    }
}
