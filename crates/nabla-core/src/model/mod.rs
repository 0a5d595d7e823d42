//! Models. `Sequential` runs a stack of layers; a training step — forward, loss,
//! backward, optimizer update — is one call, on buffers reused from step to step.

mod advice;
pub mod data;
pub mod fit;

use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::kernels::map::first_non_finite;
use crate::layers::{self, Layer};
use crate::losses::LossOp;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

mod save;
pub use save::{load, save, save_with, SaveOptions};

pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
    kinds: Vec<String>,
    input_shape: Vec<usize>,
    output_shapes: Vec<Vec<usize>>,
    /// `acts[i]`: the output of layer i in the last forward.
    acts: Vec<Tensor>,
    /// Ping-pong buffers for dL/d(activation) during backward.
    grad_a: Tensor,
    grad_b: Tensor,
    loss: Option<LossOp>,
    /// The same loss taking per-sample weights as a last input (fit's sampleWeight/classWeight).
    weighted_loss: Option<LossOp>,
    optimizer: Option<Optimizer>,
    /// Training steps taken (for error messages).
    steps: u64,
    /// Orders the samples of each `fit` epoch; lives with the model (and is saved) so a
    /// resumed run shuffles exactly as an uninterrupted one.
    pub(crate) shuffle_rng: Rng,
    /// What a failed training step restores (see `save_forward_state`).
    saved: ForwardState,
    /// What the model was made and compiled with, for `save`: (kind, config) per
    /// layer, the seed, and the (name, config) of the loss and of the optimizer.
    specs: Vec<(String, String)>,
    seed: u64,
    compiled: Option<(Spec, Spec)>,
}

/// A (name, JSON config) pair, as given to `new` and `compile`.
pub type Spec = (String, String);

/// The state a training forward moves besides the weights.
#[derive(Default)]
struct ForwardState {
    values: Vec<f32>,
    rngs: Vec<Option<[u32; 6]>>,
    steps: u64,
}

fn empty() -> Tensor {
    Tensor::zeros(Shape::new(vec![]))
}

/// Prefixes a layer's error with its position, so messages say which layer failed.
fn at_layer(e: Error, i: usize, kind: &str) -> Error {
    Error {
        arg: format!("layers[{i}] ({kind}): {}", e.arg),
        ..e
    }
}

impl Sequential {
    /// Makes and builds `layers` (kind, JSON config) for samples of `input_shape`
    /// (without the batch axis), initializing parameters from `seed`.
    pub fn new(
        layers: &[(String, String)],
        input_shape: &[usize],
        seed: u64,
    ) -> Result<Sequential> {
        if layers.is_empty() {
            return Err(Error::invalid(
                "sequential",
                "layers",
                "at least one layer",
                "none",
            ));
        }
        let mut rng = Rng::new(seed);
        let mut built = Vec::with_capacity(layers.len());
        let mut shapes = Vec::with_capacity(layers.len());
        let mut shape = input_shape.to_vec();
        for (i, (kind, config)) in layers.iter().enumerate() {
            let mut layer = layers::make(kind, config).map_err(|e| at_layer(e, i, kind))?;
            if layer.returns_state() {
                // One output per layer here; the final states come from the layer on its own.
                return Err(at_layer(
                    Error::invalid(
                        "sequential",
                        "returnState",
                        "false in a sequential model, where a layer has one output (for the \
                         final states use the layer on its own: nb.layer(nb.layers.lstm({ units, \
                         returnState: true }), { inputShape }).apply(x) gives [output, h, c])",
                        "true",
                    ),
                    i,
                    kind,
                ));
            }
            shape = layer
                .build(&shape, &mut rng)
                .map_err(|e| at_layer(e, i, kind))?;
            shapes.push(shape.clone());
            built.push(layer);
        }
        Ok(Sequential {
            kinds: layers.iter().map(|(k, _)| k.clone()).collect(),
            acts: (0..built.len()).map(|_| empty()).collect(),
            layers: built,
            input_shape: input_shape.to_vec(),
            output_shapes: shapes,
            grad_a: empty(),
            grad_b: empty(),
            loss: None,
            weighted_loss: None,
            optimizer: None,
            steps: 0,
            shuffle_rng: Rng::new(seed ^ 0x5EED_5EED_5EED_5EED),
            saved: ForwardState::default(),
            specs: layers.to_vec(),
            seed,
            compiled: None,
        })
    }

    /// Sets the loss (name, JSON config) and the optimizer (name, JSON config).
    pub fn compile(&mut self, loss: (&str, &str), optimizer: (&str, &str)) -> Result<()> {
        let (loss_spec, optimizer_spec) = (loss, optimizer);
        let loss = LossOp::new(loss.0, loss.1, false)?;
        let weighted = LossOp::new(loss_spec.0, loss_spec.1, true)?;
        let optimizer = Optimizer::new(optimizer.0, optimizer.1)?;
        self.loss = Some(loss);
        self.weighted_loss = Some(weighted);
        self.optimizer = Some(optimizer);
        self.compiled = Some((
            (loss_spec.0.into(), loss_spec.1.into()),
            (optimizer_spec.0.into(), optimizer_spec.1.into()),
        ));
        Ok(())
    }

    /// The (kind, JSON config) of each layer, as given to `new`.
    pub fn specs(&self) -> &[(String, String)] {
        &self.specs
    }

    /// The per-sample input shape (without the batch axis), as given to `new`.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    pub fn optimizer_mut(&mut self) -> Option<&mut Optimizer> {
        self.optimizer.as_mut()
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The (name, JSON config) of the loss and of the optimizer given to `compile`.
    pub fn compiled(&self) -> Option<&(Spec, Spec)> {
        self.compiled.as_ref()
    }

    pub fn optimizer(&self) -> Option<&Optimizer> {
        self.optimizer.as_ref()
    }

    pub fn output_shapes(&self) -> &[Vec<usize>] {
        &self.output_shapes
    }

    pub fn layers(&self) -> &[Box<dyn Layer>] {
        &self.layers
    }

    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer>] {
        &mut self.layers
    }

    /// Runs every layer on the batch `x`; the result is the last activation.
    pub fn forward(&mut self, x: &Tensor, training: bool) -> Result<&Tensor> {
        let d = x.dims();
        if d.len() != self.input_shape.len() + 1 || d[1..] != self.input_shape[..] {
            let mut want = vec![0];
            want.extend_from_slice(&self.input_shape);
            let want = Shape::new(want).to_string().replacen('0', "batch", 1);
            return Err(Error::shape(
                "sequential",
                "x",
                format!("shape {want} (the model's inputShape)"),
                format!("shape {}", x.shape()),
            ));
        }
        for i in 0..self.layers.len() {
            let (before, rest) = self.acts.split_at_mut(i);
            let input = if i == 0 { x } else { &before[i - 1] };
            self.layers[i]
                .forward(input, &mut rest[0], training)
                .map_err(|e| at_layer(e, i, &self.kinds[i]))?;
        }
        Ok(self.acts.last().expect("one layer at least"))
    }

    /// One training step on a batch: forward, loss, backward, update. Returns the loss
    /// (with regularization penalties). Inputs are checked before anything changes.
    pub fn train_step(&mut self, x: &Tensor, y: &Tensor) -> Result<f32> {
        self.train_step_weighted(x, y, None)
    }

    /// A training step with per-sample weights `w` (`[batch]`, Keras semantics).
    /// A non-finite loss or gradient stops the step before the update (the weights
    /// stay as they were) with an error naming the step and the first layer whose
    /// output was not finite, or the loss.
    pub fn train_step_weighted(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        w: Option<&Tensor>,
    ) -> Result<f32> {
        let (Some(loss), Some(_)) = (&self.loss, &self.optimizer) else {
            return Err(Error::state(
                "trainOnBatch",
                "a compiled model (call compile first)",
                "a model without loss or optimizer",
            ));
        };
        let loss_name = Op::name(loss);
        if x.dims().first() != y.dims().first() {
            return Err(Error::shape(
                loss_name,
                "y",
                format!(
                    "{} samples, as x has",
                    x.dims().first().copied().unwrap_or(0)
                ),
                format!("shape {}", y.shape()),
            ));
        }
        // A training forward moves state besides the weights (batchNorm's running
        // statistics, dropout's generator): a step that fails puts it back, so after any
        // error the model is as it was.
        self.save_forward_state();
        let result = self.step(x, y, w, loss_name);
        if result.is_err() {
            self.restore_forward_state();
        }
        result
    }

    /// Forward, loss, backward and update; the caller restores state if this fails.
    fn step(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        w: Option<&Tensor>,
        loss_name: &'static str,
    ) -> Result<f32> {
        self.forward(x, true)?;
        self.steps += 1;
        let pred = self.acts.last().expect("one layer at least");
        if first_non_finite(pred.data(), false).is_some() {
            return Err(self.non_finite(loss_name, f32::NAN));
        }
        // The loss and dL/d(prediction) on the loss op's own buffers; the gradient goes
        // straight into the first backward buffer.
        let loss = match w {
            Some(_) => self.weighted_loss.as_mut().expect("compiled"),
            None => self.loss.as_mut().expect("checked"),
        };
        let all = [y, pred, w.unwrap_or(y)];
        let inputs = &all[..2 + usize::from(w.is_some())];
        let value = loss.train_forward(inputs)?;
        if !value.is_finite() {
            return Err(self.non_finite(loss_name, value));
        }
        loss.train_grad(inputs, 1, &mut self.grad_a)?;
        let mut total = value as f64;
        for layer in &mut self.layers {
            for p in layer.params_mut() {
                p.grad.iter_mut().for_each(|g| *g = 0.0);
                if let Some(r) = p.regularizer {
                    total += r.penalty(p.value.data());
                }
            }
        }
        // Backward through the layers, dL/d(activation) alternating between two buffers.
        for i in (0..self.layers.len()).rev() {
            let input = if i == 0 { x } else { &self.acts[i - 1] };
            self.layers[i]
                .backward(input, &self.acts[i], &self.grad_a, &mut self.grad_b)
                .map_err(|e| at_layer(e, i, &self.kinds[i]))?;
            std::mem::swap(&mut self.grad_a, &mut self.grad_b);
        }
        // A gradient that is not finite would poison every weight: stop before the update.
        for (i, layer) in self.layers.iter().enumerate() {
            for p in layer.params() {
                if let Some(v) = first_non_finite(&p.grad, false).map(|i| p.grad[i]) {
                    return Err(Error::numeric(
                        "fit",
                        format!("finite gradients (step {})", self.steps),
                        format!(
                            "{v} in the gradient of layers[{i}] ({}).{}",
                            self.kinds[i], p.name
                        ),
                    ));
                }
            }
        }
        let optimizer = self.optimizer.as_mut().expect("checked");
        let layers = &mut self.layers;
        optimizer.step_each(|update| {
            for p in layers.iter_mut().flat_map(|l| l.params_mut()) {
                if p.trainable {
                    update(p.value.data_mut(), &p.grad);
                }
            }
        })?;
        Ok(total as f32)
    }
}

impl Sequential {
    /// Copies the state a training forward changes (non-trainable parameters, layer
    /// generators, the step count) into buffers reused from step to step.
    fn save_forward_state(&mut self) {
        self.saved.values.clear();
        self.saved.rngs.clear();
        for layer in &self.layers {
            for p in layer.params() {
                if !p.trainable {
                    self.saved.values.extend_from_slice(p.value.data());
                }
            }
            self.saved.rngs.push(layer.rng_state());
        }
        self.saved.steps = self.steps;
    }

    fn restore_forward_state(&mut self) {
        let mut k = 0;
        for (layer, rng) in self.layers.iter_mut().zip(&self.saved.rngs) {
            for p in layer.params_mut() {
                if !p.trainable {
                    let n = p.value.numel();
                    p.value
                        .data_mut()
                        .copy_from_slice(&self.saved.values[k..k + n]);
                    k += n;
                }
            }
            if let Some(state) = rng {
                // The state came from this very layer: restoring it cannot fail.
                let _ = layer.set_rng_state(*state);
            }
        }
        self.steps = self.saved.steps;
    }

    /// The error for a non-finite loss: names the step and the first layer whose output
    /// holds a non-finite value, or the loss if every layer's output was finite.
    fn non_finite(&self, loss_name: &str, value: f32) -> Error {
        let at = self
            .acts
            .iter()
            .position(|a| a.data().iter().any(|v| !v.is_finite()))
            .map(|i| {
                format!(
                    "the output of layers[{i}] ({}) is the first that is not finite",
                    self.kinds[i]
                )
            })
            .unwrap_or_else(|| {
                format!("every layer's output is finite: the loss ({loss_name}) made it")
            });
        let what = if value.is_nan() {
            "not finite".to_string()
        } else {
            format!("{value}")
        };
        Error::numeric(
            "fit",
            format!("a finite loss (step {})", self.steps),
            format!("{what}; {at}; lower the learning rate or check the data"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_leaves_the_model_as_it_was() {
        let layers = specs(&[
            ("dense", r#"{"units":4}"#),
            ("batchNorm", "{}"),
            ("dropout", r#"{"rate":0.5}"#),
            ("dense", r#"{"units":3}"#),
        ]);
        let mut m = Sequential::new(&layers, &[2], 1).unwrap();
        m.compile(("crossEntropy", r#"{"fromLogits":true}"#), ("sgd", ""))
            .unwrap();
        let x = Tensor::from_vec("x", vec![1.0, 2.0, -1.0, 0.5], Shape::new(vec![2, 2])).unwrap();
        let bad = Tensor::from_i32("y", vec![0, 7], Shape::new(vec![2])).unwrap();
        let good = Tensor::from_i32("y", vec![0, 2], Shape::new(vec![2])).unwrap();
        let state = |m: &Sequential| {
            m.layers()
                .iter()
                .flat_map(|l| l.params().into_iter().flat_map(|p| p.value.data().to_vec()))
                .collect::<Vec<_>>()
        };
        let (before, rng) = (state(&m), m.layers()[2].rng_state());
        assert_eq!(m.train_step(&x, &bad).unwrap_err().arg, "yTrue");
        assert_eq!(
            state(&m),
            before,
            "weights and running statistics unchanged"
        );
        assert_eq!(
            m.layers()[2].rng_state(),
            rng,
            "dropout's generator unchanged"
        );
        // and the next good step is the one an untouched model would take
        let mut fresh = Sequential::new(&layers, &[2], 1).unwrap();
        fresh
            .compile(("crossEntropy", r#"{"fromLogits":true}"#), ("sgd", ""))
            .unwrap();
        assert_eq!(
            m.train_step(&x, &good).unwrap().to_bits(),
            fresh.train_step(&x, &good).unwrap().to_bits()
        );
    }

    fn specs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, c)| (k.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn a_small_classifier_learns_and_errors_name_the_layer() {
        // Two Gaussian blobs per class in 4-D, 3 classes.
        let mut r = Rng::new(9);
        let (n, d) = (96, 4);
        let labels: Vec<i32> = (0..n).map(|i| (i % 3) as i32).collect();
        let x: Vec<f32> = (0..n * d)
            .map(|j| {
                r.normal() * 0.5
                    + if (j % d) as i32 == labels[j / d] {
                        2.0
                    } else {
                        0.0
                    }
            })
            .collect();
        let x = Tensor::from_vec("x", x, Shape::new(vec![n, d])).unwrap();
        let y = Tensor::from_i32("y", labels, Shape::new(vec![n])).unwrap();
        let mut m = Sequential::new(
            &specs(&[
                ("dense", r#"{"units":16,"activation":"relu"}"#),
                ("dense", r#"{"units":3}"#),
            ]),
            &[d],
            1,
        )
        .unwrap();
        m.compile(
            ("crossEntropy", r#"{"fromLogits":true}"#),
            ("adam", r#"{"learningRate":0.05}"#),
        )
        .unwrap();
        let first = m.train_step(&x, &y).unwrap();
        let mut last = first;
        for _ in 0..60 {
            last = m.train_step(&x, &y).unwrap();
        }
        assert!(last < 0.2 * first, "{first} → {last}");
        let e = Sequential::new(
            &specs(&[
                ("dense", r#"{"units":4}"#),
                ("conv2d", r#"{"filters":2,"kernelSize":3}"#),
            ]),
            &[5],
            1,
        )
        .err()
        .unwrap();
        assert!(e.arg.starts_with("layers[1] (conv2d): "), "{e}");
        let e = m
            .forward(&Tensor::zeros(Shape::new(vec![2, 5])), false)
            .unwrap_err();
        assert_eq!(e.to_string(), "sequential: invalid `x`: expected shape [batch, 4] (the model's inputShape), received shape [2, 5]");
    }

    #[test]
    fn return_state_is_refused_with_the_way_to_get_it() {
        for (kind, config) in [
            ("lstm", r#"{"units":3,"returnState":true}"#),
            (
                "bidirectional",
                r#"{"layer":{"kind":"gru","config":{"units":3,"returnState":true}}}"#,
            ),
        ] {
            let e = Sequential::new(
                &specs(&[(kind, config), ("dense", r#"{"units":1}"#)]),
                &[4, 2],
                1,
            )
            .err()
            .unwrap();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(e.arg, format!("layers[0] ({kind}): returnState"));
            assert!(
                e.to_string()
                    .contains("nb.layer(nb.layers.lstm({ units, returnState: true })"),
                "{e}"
            );
        }
        // returnState: false is the default and fine
        Sequential::new(
            &specs(&[("lstm", r#"{"units":3,"returnState":false}"#)]),
            &[4, 2],
            1,
        )
        .unwrap();
    }
}
