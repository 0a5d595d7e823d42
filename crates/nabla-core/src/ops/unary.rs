//! The transcendental elementwise ops (exp, log, tanh, sigmoid, gelu, ...): forward and
//! derivative are the fused kernels in `kernels::unary`, whose accuracy is documented there.

use super::floats;
use crate::autograd::Op;
use crate::error::Result;
use crate::kernels::unary::{unary, unary_backward, Unary};
use crate::tensor::Tensor;

pub struct UnaryOp(pub Unary);

impl UnaryOp {
    pub fn from_name(name: &str) -> Option<UnaryOp> {
        Unary::ALL
            .into_iter()
            .find(|u| u.name() == name)
            .map(UnaryOp)
    }
}

impl Op for UnaryOp {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Tensor> {
        let x = x[0];
        let values = floats(self.name(), "x", x)?;
        let mut y = Tensor::zeros(x.shape().clone());
        unary(self.0, values, y.data_mut());
        Ok(y)
    }

    fn backward(&self, x: &[&Tensor], y: &Tensor, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let mut gx = Tensor::zeros(y.shape().clone());
        unary_backward(self.0, x[0].data(), y.data(), g.data(), gx.data_mut());
        Ok(vec![Some(gx)])
    }
}
