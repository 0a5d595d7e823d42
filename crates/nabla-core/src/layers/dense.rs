//! `dense({ units, activation, useBias, kernelInitializer, biasInitializer,
//! kernelRegularizer })`: y = act(x·W + b) over the last axis, with W `[in, units]`
//! (Keras layout; torch.nn.Linear's weight is Wᵀ). Any leading axes are batch-like.
//! Backward: g = gy·act'; dW += xᵀ·g; db += Σ g; dx = g·Wᵀ — GEMMs on transposed views.

use super::activation::Act;
use super::init::Init;
use super::{Layer, Param, Regularizer};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::binary::add_column_sums;
use crate::kernels::{gemm, MatRef};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct Dense {
    units: usize,
    act: Act,
    use_bias: bool,
    kernel_init: Init,
    bias_init: Init,
    regularizer: Option<Regularizer>,
    input: Vec<usize>,
    /// The per-sample output shape: `input` with the last axis `units`.
    output: Vec<usize>,
    params: Vec<Param>,
    /// x·W + b before the activation, kept for backward.
    pre: Vec<f32>,
    /// dL/d(pre), reused.
    g: Vec<f32>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[
        "units",
        "activation",
        "useBias",
        "kernelInitializer",
        "biasInitializer",
        "kernelRegularizer",
    ])?;
    let units = cfg.f64_where("units", f64::NAN, "a positive integer", |u| {
        u.is_finite() && u >= 1.0 && u.fract() == 0.0 && u < 1e9
    })?;
    Ok(Box::new(Dense {
        units: units as usize,
        act: Act::from_config(cfg, "activation")?,
        use_bias: cfg.bool("useBias", true)?,
        kernel_init: Init::from_config(cfg, "kernelInitializer", Init::GlorotUniform)?,
        bias_init: Init::from_config(cfg, "biasInitializer", Init::Constant(0.0))?,
        regularizer: Regularizer::from_config(cfg, "kernelRegularizer")?,
        input: Vec::new(),
        output: Vec::new(),
        params: Vec::new(),
        pre: Vec::new(),
        g: Vec::new(),
    }))
}

impl Layer for Dense {
    fn kind(&self) -> &'static str {
        "dense"
    }

    fn config(&self) -> Value {
        json!({ "units": self.units, "activation": self.act.to_json(), "useBias": self.use_bias })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let Some(&fan_in) = input.last().filter(|&&d| d > 0) else {
            return Err(Error::shape(
                "dense",
                "input",
                "a shape [batch, ..., features] with features > 0",
                format!("per-sample shape {}", Shape::new(input.to_vec())),
            ));
        };
        self.input = input.to_vec();
        let kernel = self
            .kernel_init
            .values(&[fan_in, self.units], fan_in, self.units, rng);
        let mut w = Param::new(
            "kernel",
            Tensor::new(Shape::new(vec![fan_in, self.units]), kernel),
            true,
        );
        w.regularizer = self.regularizer;
        self.params = vec![w];
        if self.use_bias {
            let b = self
                .bias_init
                .values(&[self.units], fan_in, self.units, rng);
            self.params.push(Param::new(
                "bias",
                Tensor::new(Shape::new(vec![self.units]), b),
                true,
            ));
        }
        let mut out = input.to_vec();
        *out.last_mut().expect("rank ≥ 1") = self.units;
        self.output.clone_from(&out);
        Ok(out)
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = super::check_input("dense", x, &self.input)?;
        let k = *self.input.last().expect("built");
        let rows = x.numel() / k.max(1);
        self.pre.resize(rows * self.units, 0.0);
        if self.use_bias {
            let b = self.params[1].value.data();
            for row in self.pre.chunks_mut(self.units) {
                row.copy_from_slice(b);
            }
        }
        gemm(
            MatRef::row_major(x.data(), rows, k),
            MatRef::row_major(self.params[0].value.data(), k, self.units),
            &mut self.pre,
            self.use_bias,
        );
        y.resize_batch(batch, &self.output);
        self.act.apply(&self.pre, y.data_mut(), self.units);
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        let k = *self.input.last().expect("built");
        let rows = x.numel() / k.max(1);
        self.g.resize(rows * self.units, 0.0);
        self.act
            .backward(&self.pre, y.data(), gy.data(), &mut self.g, self.units);
        let g = MatRef::row_major(&self.g, rows, self.units);
        let (w, rest) = self.params.split_first_mut().expect("built");
        gemm(
            MatRef::row_major(x.data(), rows, k).t(),
            g,
            &mut w.grad,
            true,
        );
        if let Some(r) = w.regularizer {
            r.add_grad(w.value.data(), &mut w.grad);
        }
        if let Some(b) = rest.first_mut() {
            add_column_sums(&self.g, &mut b.grad);
        }
        gx.resize(x.dims());
        gemm(
            g,
            MatRef::row_major(w.value.data(), k, self.units).t(),
            gx.data_mut(),
            false,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::make;
    use super::super::testing::*;

    #[test]
    fn gradients_for_every_activation_and_option() {
        for cfg in [
            r#"{"units":4}"#,
            r#"{"units":3,"activation":"tanh"}"#,
            r#"{"units":5,"activation":"softmax","useBias":false}"#,
            r#"{"units":2,"activation":"sigmoid","kernelRegularizer":{"l2":0.1}}"#,
        ] {
            gradcheck("dense", cfg, normal(&[3, 7], 1), false, 2e-3);
        }
        gradcheck(
            "dense",
            r#"{"units":3}"#,
            normal(&[2, 3, 5], 2),
            false,
            2e-3,
        );
    }

    #[test]
    fn shapes_and_errors() {
        let (layer, y) = run(
            "dense",
            r#"{"units":6,"biasInitializer":"ones","kernelInitializer":"zeros"}"#,
            &normal(&[4, 3], 1),
            false,
        );
        assert_eq!(y.dims(), &[4, 6]);
        assert!(y.data().iter().all(|&v| v == 1.0));
        assert_eq!(layer.params().len(), 2);
        assert_eq!(
            make("dense", r#"{"units":0}"#).err().unwrap().to_string(),
            "dense: invalid `units`: expected a positive integer, received 0"
        );
        assert_eq!(make("dense", "{}").err().unwrap().arg, "units");
        let (mut layer, _) = run("dense", r#"{"units":2}"#, &normal(&[4, 3], 1), false);
        let mut y = crate::tensor::Tensor::zeros(crate::shape::Shape::new(vec![]));
        let e = layer
            .forward(&normal(&[4, 5], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dense: invalid `input`: expected shape [batch, 3], received shape [4, 5]"
        );
    }
}
