//! Categorical hinge over the last (class) axis, per row:
//!   pos = Σ_c t_c·p_c,  neg = max_c (1 − t_c)·p_c,  l = max(0, 1 + neg − pos)
//! (as Keras, the max includes the 0 that (1 − t)·p has at the true class). Where the
//! hinge is active, dl/dp_c = (1 − t_c)·[c = argmax] − t_c (first maximum on ties), else 0.
//! Units are rows `[...]` of t, p `[..., C]`. See: keras.losses.CategoricalHinge.
//!
//! NOTE: targets must lie in [0, 1] (one-hot, or soft labels).

use super::nll::rows;
use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub struct CategoricalHinge;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(CategoricalHinge))
}

const OP: &str = "categoricalHinge";

/// Per row: the hinge before the max with 0, and the argmax of (1 − t)·p.
fn row(t: &[f32], p: &[f32]) -> (f64, usize) {
    let pos: f64 = t.iter().zip(p).map(|(&t, &p)| t as f64 * p as f64).sum();
    let (mut neg, mut arg) = (f64::NEG_INFINITY, 0);
    for (c, (&t, &p)) in t.iter().zip(p).enumerate() {
        let v = (1.0 - t as f64) * p as f64;
        if v > neg {
            (neg, arg) = (v, c);
        }
    }
    (1.0 + neg - pos, arg)
}

fn inputs<'a>(x: &[&'a Tensor]) -> Result<(&'a [f32], &'a [f32], super::nll::Rows)> {
    let (t, p) = same_shape(OP, ["yTrue", "yPred"], x[0], x[1])?;
    let r = rows(OP, x[1])?;
    if let Some((i, v)) = t
        .iter()
        .enumerate()
        .find(|(_, &v)| !(0.0..=1.0).contains(&v))
    {
        return Err(Error::invalid(
            OP,
            "yTrue",
            "one-hot (or soft) targets in [0, 1]",
            format!("{v} at index {i}"),
        ));
    }
    Ok((t, p, r))
}

impl Loss for CategoricalHinge {
    fn name(&self) -> &'static str {
        OP
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let (t, p, r) = inputs(x)?;
        let c = r.c;
        let values = (0..r.rows)
            .map(|i| {
                row(&t[i * c..(i + 1) * c], &p[i * c..(i + 1) * c])
                    .0
                    .max(0.0) as f32
            })
            .collect();
        Ok(Units {
            values: Tensor::new(r.shape, values),
            denom: r.rows as f64,
            batch: r.batch,
            saved: Vec::new(),
        })
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let (t, p, r) = inputs(x)?;
        let c = r.c;
        let mut g = vec![0f32; p.len()];
        for i in 0..r.rows {
            let (tr, gr) = (&t[i * c..(i + 1) * c], &mut g[i * c..(i + 1) * c]);
            let (h, arg) = row(tr, &p[i * c..(i + 1) * c]);
            if h <= 0.0 {
                continue;
            }
            let u = up[i] as f64;
            for k in 0..c {
                let d = if k == arg { 1.0 - tr[k] as f64 } else { 0.0 } - tr[k] as f64;
                gr[k] = (u * d) as f32;
            }
        }
        Ok(vec![None, Some(Tensor::new(x[1].shape().clone(), g))])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use super::*;
    use crate::autograd::Op;

    fn err(cfg: &str, inputs: &[&Tensor]) -> String {
        error(OP, cfg, inputs)
    }

    #[test]
    fn known_values() {
        let y = t(&[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[3, 3]);
        let p = t(&[0.5, 0.25, 1.0, 2.0, 0.0, 1.0, -1.0, -2.0, -3.0], &[3, 3]);
        // Rows: 1 + 1 − 0.25 = 1.75; 1 + 1 − 2 = 0; 1 + 0 − (−3) = 4 (the max is the 0 at
        // the true class, as in Keras).
        let op = LossOp::new(OP, r#"{"reduction":"none"}"#, false).unwrap();
        assert_eq!(op.forward(&[&y, &p]).unwrap().data(), &[1.75, 0.0, 4.0]);
        assert_eq!(value(OP, "", &[&y, &p]), 5.75 / 3.0);
        assert_eq!(value(OP, r#"{"reduction":"sum"}"#, &[&y, &p]), 5.75);
        let (_, g) = LossOp::new(OP, r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(
            g[0].data(),
            &[0.0, -1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0]
        );
        // A single row [C].
        assert_eq!(
            value(OP, "", &[&t(&[1.0, 0.0], &[2]), &t(&[0.5, 1.0], &[2])]),
            1.5
        );
    }

    #[test]
    fn gradients() {
        for (n, c, seed) in [(3usize, 5usize, 1u64), (1, 7, 2), (4, 2, 3)] {
            let onehot: Vec<f32> = (0..n * c)
                .map(|i| if i % c == (i / c * 2) % c { 1.0 } else { 0.0 })
                .collect();
            let soft: Vec<f32> = (0..n * c).map(|i| ((i * 7) % 5) as f32 / 4.0).collect();
            for y in [onehot, soft] {
                gradcheck(
                    OP,
                    "",
                    vec![t(&y, &[n, c]), normal(&[n, c], seed)],
                    1e-3,
                    1e-3,
                );
            }
        }
        gradcheck(
            OP,
            "",
            vec![
                t(&[0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &[2, 1, 3]),
                normal(&[2, 1, 3], 4),
            ],
            1e-3,
            1e-3,
        );
    }

    #[test]
    fn errors() {
        let p = t(&[0.0, 1.0, 2.0, 3.0], &[2, 2]);
        assert_eq!(
            err("", &[&t(&[1.0, -1.0, 0.0, 1.0], &[2, 2]), &p]),
            "categoricalHinge: invalid `yTrue`: expected one-hot (or soft) targets in [0, 1], received -1 at index 1"
        );
        assert_eq!(
            err("", &[&t(&[1.0, 0.0, 0.0, 1.0], &[4]), &p]),
            "categoricalHinge: invalid `yTrue`: expected the shape of `yPred`, [2, 2], received shape [4]"
        );
        assert_eq!(
            err("", &[&labels(&[0, 1], &[2]), &p]),
            "categoricalHinge: invalid `yTrue`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(
            err("", &[&t(&[1.0], &[]), &t(&[1.0], &[])]),
            "categoricalHinge: invalid `yPred`: expected scores with a non-empty last (class) axis, received shape []"
        );
        assert_eq!(
            err(r#"{"margin":2}"#, &[]),
            "categoricalHinge: invalid `config`: expected options among reduction, received unknown option `margin`"
        );
    }
}
