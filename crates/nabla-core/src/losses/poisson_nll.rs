//! Poisson negative log-likelihood of counts y under rates λ, without log(y!) unless `full`:
//!   logInput (ŷ = log λ):  l = e^ŷ − y·ŷ,             dl/dŷ = e^ŷ − y
//!   otherwise (ŷ = λ ≥ 0): l = ŷ − y·log(ŷ + eps),    dl/dŷ = 1 − y/(ŷ + eps)
//!   full adds Stirling's log(y!) ≈ y·log y − y + 0.5·log(2πy) where y > 1 (0 elsewhere).
//! Computed in f64: e^ŷ overflows f32 only when the loss itself does (ŷ > ~88.7 gives +∞,
//! as torch); ŷ = −1e4 gives the exact 1e4·y.
//! See: torch.nn.PoissonNLLLoss(log_input, full, eps), keras.losses.Poisson (logInput:
//! false, eps = 1e-7 there).
//! NOTE: with logInput false, negative rates are an error (torch returns NaN).

use super::{same_shape, Config, Loss, Units};
use crate::error::{Error, Result};
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct PoissonNll {
    pub log_input: bool,
    pub full: bool,
    pub eps: f64,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["logInput", "full", "eps"])?;
    Ok(Box::new(PoissonNll {
        log_input: cfg.bool("logInput", true)?,
        full: cfg.bool("full", false)?,
        eps: cfg.f64_where("eps", 1e-8, "a number > 0", |v| v.is_finite() && v > 0.0)?,
    }))
}

impl PoissonNll {
    fn formula(&self, x: &[&Tensor]) -> Result<Pointwise<'static>> {
        let (_, p) = same_shape("poissonNll", ["yTrue", "yPred"], x[0], x[1])?;
        if !self.log_input {
            if let Some((i, v)) = p.iter().enumerate().find(|(_, v)| v.is_nan() || **v < 0.0) {
                return Err(Error::invalid(
                    "poissonNll",
                    "yPred",
                    "rates ≥ 0 (pass logInput: true for log-rates)",
                    format!("{v} at index {i}"),
                ));
            }
        }
        Ok(Pointwise::PoissonNll {
            log_input: self.log_input,
            full: self.full,
            eps: self.eps,
        })
    }
}

impl Loss for PoissonNll {
    fn name(&self) -> &'static str {
        "poissonNll"
    }

    pointwise_loss!();
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::LossOp;
    use crate::autograd::Op;
    use crate::tensor::Tensor;
    use std::f64::consts::{LN_2, PI};

    fn err(config: &str, inputs: &[&Tensor]) -> String {
        error("poissonNll", config, inputs)
    }

    fn none(config: &str, inputs: &[&Tensor]) -> Vec<f32> {
        let cfg = format!(r#"{{"reduction":"none"{config}}}"#);
        let op = LossOp::new("poissonNll", &cfg, false).unwrap();
        op.forward(inputs).unwrap().data().to_vec()
    }

    fn close(a: &[f32], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(
                (*x as f64 - y).abs() <= 1e-6 * (1.0 + y.abs()),
                "{a:?} vs {b:?}"
            );
        }
    }

    fn counts(dims: &[usize], seed: u64) -> Tensor {
        let v = normal(dims, seed);
        t(
            &v.data()
                .iter()
                .map(|x| (x.abs() * 3.0).floor())
                .collect::<Vec<_>>(),
            dims,
        )
    }

    fn positive(dims: &[usize], seed: u64) -> Tensor {
        t(
            &normal(dims, seed)
                .data()
                .iter()
                .map(|v| v.exp())
                .collect::<Vec<_>>(),
            dims,
        )
    }

    #[test]
    fn known_values_for_every_option() {
        let y = t(&[0.0, 2.0, 3.0, 1.0], &[4]);
        let logp = t(&[0.0, LN_2 as f32, 1.0, -1e4], &[4]);
        let l2 = LN_2 as f32 as f64;
        let base = [1.0, 2.0 - 2.0 * l2, 1f64.exp() - 3.0, 1e4];
        close(&none("", &[&y, &logp]), &base);
        let st = [
            0.0,
            2.0 * LN_2 - 2.0 + 0.5 * (4.0 * PI).ln(),
            3.0 * 3f64.ln() - 3.0 + 0.5 * (6.0 * PI).ln(),
            0.0, // y = 1 is masked, as torch's `target > 1`
        ];
        let with_full: Vec<f64> = base.iter().zip(st).map(|(a, b)| a + b).collect();
        close(&none(r#","full":true"#, &[&y, &logp]), &with_full);
        let mean = value("poissonNll", "", &[&y, &logp]) as f64;
        assert!((mean - base.iter().sum::<f64>() / 4.0).abs() < 1e-3);

        let rate = t(&[0.5, 2.0, 1.0, 0.0], &[4]);
        close(
            &none(r#","logInput":false"#, &[&y, &rate]),
            &[
                0.5,
                2.0 - 2.0 * (2.0 + 1e-8f64).ln(),
                1.0 - 3.0 * (1.0 + 1e-8f64).ln(),
                -1e-8f64.ln(),
            ],
        );
        close(
            &none(r#","logInput":false,"eps":1,"full":true"#, &[&y, &rate]),
            &[
                0.5,
                2.0 - 2.0 * 3f64.ln() + st[1],
                1.0 - 3.0 * LN_2 + st[2],
                0.0,
            ],
        );
        let g = |cfg: &str, p: &Tensor| {
            let op = LossOp::new("poissonNll", cfg, false).unwrap();
            op.value_and_grad(&[&y, p]).unwrap().1[0].data().to_vec()
        };
        close(
            &g(r#"{"reduction":"sum","full":true}"#, &logp),
            &[1.0, l2.exp() - 2.0, 1f64.exp() - 3.0, -1.0],
        );
        close(
            &g(r#"{"reduction":"sum","logInput":false,"eps":1}"#, &rate),
            &[1.0, 1.0 - 2.0 / 3.0, 1.0 - 3.0 / 2.0, 0.0],
        );
    }

    #[test]
    fn huge_log_rates_overflow_to_infinity_not_nan() {
        let (y, p) = (t(&[2.0], &[1]), t(&[1e4], &[1]));
        assert_eq!(value("poissonNll", "", &[&y, &p]), f32::INFINITY);
    }

    #[test]
    fn gradcheck_for_every_option() {
        for cfg in [
            "",
            r#"{"full":true}"#,
            r#"{"logInput":false}"#,
            r#"{"logInput":false,"full":true,"eps":0.5,"reduction":"sum"}"#,
        ] {
            for (i, dims) in [&[3, 5][..], &[7], &[1, 3]].iter().enumerate() {
                let s = 10 * i as u64;
                let p = if cfg.contains("false") {
                    positive(dims, s + 2)
                } else {
                    normal(dims, s + 2)
                };
                gradcheck("poissonNll", cfg, vec![counts(dims, s + 1), p], 1e-3, 1e-3);
            }
        }
    }

    #[test]
    fn rejects_bad_options_rates_and_shapes() {
        let (a, b) = (t(&[1.0, 2.0], &[2]), t(&[0.5, -0.1], &[2]));
        assert_eq!(
            err(r#"{"logInput":false}"#, &[&a, &b]),
            "poissonNll: invalid `yPred`: expected rates ≥ 0 (pass logInput: true for log-rates), received -0.1 at index 1"
        );
        assert!(err("", &[&a, &b]).is_empty());
        assert_eq!(
            err(r#"{"eps":0}"#, &[&a, &a]),
            "poissonNll: invalid `eps`: expected a number > 0, received 0"
        );
        assert_eq!(
            err(r#"{"logInput":1}"#, &[&a, &a]),
            "poissonNll: invalid `logInput`: expected true or false, received 1"
        );
        assert_eq!(
            err(r#"{"full":"yes"}"#, &[&a, &a]),
            "poissonNll: invalid `full`: expected true or false, received \"yes\""
        );
        assert_eq!(
            err(r#"{"log_input":true}"#, &[&a, &a]),
            "poissonNll: invalid `config`: expected options among logInput, full, eps, reduction, received unknown option `log_input`"
        );
        assert_eq!(
            err("", &[&a, &t(&[1.0], &[1])]),
            "poissonNll: invalid `yTrue`: expected the shape of `yPred`, [1], received shape [2]"
        );
        assert_eq!(
            err("", &[&labels(&[1, 2], &[2]), &a]),
            "poissonNll: invalid `yTrue`: expected a float32 tensor, received an int32 tensor"
        );
    }
}
