//! Mean squared error: l = (ŷ − y)², dl/dŷ = 2(ŷ − y); "mean" is the mean over all
//! elements, as the seed defines it. See: torch.nn.MSELoss, keras.losses.MeanSquaredError.

use super::{pointwise, pointwise_grad, pointwise_grad_into, pointwise_into, Config, Loss, Units};
use crate::error::Result;
use crate::kernels::pointwise::Pointwise;
use crate::tensor::Tensor;

pub struct Mse;

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Mse))
}

impl Loss for Mse {
    fn name(&self) -> &'static str {
        "mse"
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        pointwise("mse", x, Pointwise::Mse)
    }

    fn backward(&self, x: &[&Tensor], _u: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        Ok(pointwise_grad(x, up, Pointwise::Mse))
    }

    fn forward_into(&self, x: &[&Tensor], units: &mut Units) -> Result<()> {
        pointwise_into("mse", x, Pointwise::Mse, units)
    }

    fn grad_into(
        &self,
        x: &[&Tensor],
        _u: &Units,
        up: &[f32],
        i: usize,
        out: &mut Tensor,
    ) -> Result<()> {
        pointwise_grad_into(self.name(), x, up, Pointwise::Mse, i, out)
    }
}
