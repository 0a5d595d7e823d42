//! Mean squared error: l = (ŷ − y)², dl/dŷ = 2(ŷ − y); "mean" is the mean over all
//! elements, as the seed defines it. See: torch.nn.MSELoss, keras.losses.MeanSquaredError.

use super::{Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Mse;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Mse))
}

impl Mse {
    fn formula(&self, _x: &[&Tensor]) -> Result<Pointwise<'static>> {
        Ok(Pointwise::Mse)
    }
}

impl Loss for Mse {
    fn name(&self) -> &'static str {
        "mse"
    }

    pointwise_loss!();
}
