//! `dropout({ rate, seed })`: in training, each value is zeroed with probability `rate`
//! and the rest scaled by 1/(1 − rate) (inverted dropout, as Keras and torch); at
//! inference the identity. The mask comes from the layer's own seeded Rng (from `seed`,
//! or drawn from the model's seed at build time), so runs are reproducible.

use super::Layer;
use crate::error::Result;
use crate::json::{json, Value};
use crate::losses::Config;
use crate::rng::Rng;
use crate::tensor::Tensor;

pub struct Dropout {
    rate: f32,
    seed: Option<u64>,
    rng: Rng,
    shape: Vec<usize>,
    /// 0 or 1/(1 − rate) per value of the last training forward.
    mask: Vec<f32>,
    training: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&["rate", "seed"])?;
    let rate = cfg.f64_where("rate", f64::NAN, "a number in [0, 1)", |r| {
        (0.0..1.0).contains(&r)
    })?;
    let seed = match cfg.raw("seed") {
        None => None,
        Some(_) => Some(Rng::seed_from_f64("dropout", cfg.f64("seed", 0.0)?)?),
    };
    Ok(Box::new(Dropout {
        rate: rate as f32,
        seed,
        rng: Rng::new(seed.unwrap_or(0)),
        shape: Vec::new(),
        mask: Vec::new(),
        training: false,
    }))
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "dropout"
    }

    fn config(&self) -> Value {
        json!({ "rate": self.rate, "seed": self.seed })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        self.shape = input.to_vec();
        if self.seed.is_none() {
            self.rng = Rng::new(rng.next_u32() as u64 | (rng.next_u32() as u64) << 32);
        }
        Ok(input.to_vec())
    }

    fn rng_state(&self) -> Option<[u32; 6]> {
        Some(self.rng.state())
    }

    fn set_rng_state(&mut self, state: [u32; 6]) -> Result<()> {
        self.rng = Rng::from_state(state).ok_or_else(|| {
            crate::error::Error::invalid(
                "dropout",
                "state",
                "a generator state",
                format!("{state:?}"),
            )
        })?;
        Ok(())
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        super::check_input("dropout", x, &self.shape)?;
        y.resize(x.dims());
        self.training = training && self.rate > 0.0;
        if !self.training {
            y.data_mut().copy_from_slice(x.data());
            return Ok(());
        }
        let keep = 1.0 / (1.0 - self.rate);
        self.mask.resize(x.numel(), 0.0);
        self.rng.dropout_mask(self.rate, keep, &mut self.mask);
        crate::kernels::binary::binary(
            crate::kernels::binary::Binary::Mul,
            x.data(),
            &self.mask,
            y.data_mut(),
        );
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        gx.resize(x.dims());
        if self.training {
            crate::kernels::binary::binary(
                crate::kernels::binary::Binary::Mul,
                gy.data(),
                &self.mask,
                gx.data_mut(),
            );
        } else {
            gx.data_mut().copy_from_slice(gy.data());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn drops_and_scales_in_training_only() {
        let x = normal(&[100, 100], 1);
        let (_, y) = run("dropout", r#"{"rate":0.25,"seed":3}"#, &x, true);
        let zeros = y.data().iter().filter(|&&v| v == 0.0).count();
        assert!((zeros as f64 / 10_000.0 - 0.25).abs() < 0.02, "{zeros}");
        for (a, b) in x.data().iter().zip(y.data()) {
            assert!(*b == 0.0 || (b - a / 0.75).abs() < 1e-6);
        }
        let (_, y2) = run("dropout", r#"{"rate":0.25,"seed":3}"#, &x, true);
        assert_eq!(y.data(), y2.data(), "seeded: reproducible");
        let (_, yi) = run("dropout", r#"{"rate":0.25}"#, &x, false);
        assert_eq!(yi.data(), x.data());
        assert_eq!(
            super::super::make("dropout", r#"{"rate":1}"#)
                .err()
                .unwrap()
                .to_string(),
            "dropout: invalid `rate`: expected a number in [0, 1), received 1"
        );
    }
}
