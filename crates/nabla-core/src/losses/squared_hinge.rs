//! Squared hinge loss for ±1 targets: l = max(0, 1 − t·p)²; dl/dp = −2t·max(0, 1 − t·p).
//! Elementwise units; 0/1 targets are mapped to −1/1 as in `hinge.rs`, whose code this
//! loss runs with `squared: true`. See: keras.losses.SquaredHinge.
//!
//! NOTE: targets must be all in {−1, 1} or all in {0, 1}; Keras accepts any values.

use super::hinge::Hinge;
use super::{Config, Loss};
use crate::error::Result;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Hinge {
        op: "squaredHinge",
        squared: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;

    #[test]
    fn known_values() {
        let p = t(&[0.5, -2.0, 0.25, 3.0], &[2, 2]);
        let y = t(&[1.0, 1.0, -1.0, -1.0], &[2, 2]);
        let op = LossOp::new("squaredHinge", r#"{"reduction":"none"}"#, false).unwrap();
        assert_eq!(
            op.forward(&[&y, &p]).unwrap().data(),
            &[0.25, 9.0, 1.5625, 16.0]
        );
        let y01 = t(&[1.0, 1.0, 0.0, 0.0], &[2, 2]);
        assert_eq!(
            op.forward(&[&y01, &p]).unwrap().data(),
            &[0.25, 9.0, 1.5625, 16.0]
        );
        assert_eq!(value("squaredHinge", "", &[&y, &p]), 26.8125 / 4.0);
        assert_eq!(
            value("squaredHinge", r#"{"reduction":"sum"}"#, &[&y, &p]),
            26.8125
        );
        let (_, g) = LossOp::new("squaredHinge", r#"{"reduction":"sum"}"#, false)
            .unwrap()
            .value_and_grad(&[&y, &p])
            .unwrap();
        assert_eq!(g[0].data(), &[-1.0, -6.0, 2.5, 8.0]);
    }

    #[test]
    fn gradients() {
        for (dims, seed) in [(&[3usize, 5][..], 1u64), (&[7][..], 2), (&[1, 4][..], 3)] {
            let n: usize = dims.iter().product();
            let pm: Vec<f32> = (0..n)
                .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
                .collect();
            let zo: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
            for y in [pm, zo] {
                gradcheck(
                    "squaredHinge",
                    "",
                    vec![t(&y, dims), normal(dims, seed)],
                    1e-3,
                    1e-3,
                );
            }
        }
    }

    #[test]
    fn errors() {
        let op = LossOp::new("squaredHinge", "", false).unwrap();
        let e = op
            .forward(&[&t(&[2.0, 1.0], &[2]), &t(&[0.0, 1.0], &[2])])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "squaredHinge: invalid `yTrue`: expected targets that are all −1 or 1, or all 0 or 1, received 2 at index 0 (with values outside {0, 1})"
        );
        let e = LossOp::new("squaredHinge", r#"{"delta":1}"#, false)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "squaredHinge: invalid `config`: expected options among reduction, received unknown option `delta`");
    }
}
