//! The pieces `fit`, `evaluate` and `predict` are made of: batched inference, loss on a
//! batch without training, and a fitting session holding the datasets and the shuffle
//! Rng. The JavaScript side drives the loop (so it can yield between batches); each
//! batch is one call in here.

use super::data::Dataset;
use super::Sequential;
use crate::error::{Error, Result};
use crate::metrics::Metric;
use crate::shape::Shape;
use crate::tensor::Tensor;
use std::rc::Rc;

impl Sequential {
    /// The model's output for `x`, computed `batch_size` samples at a time.
    pub fn predict(&mut self, x: &Tensor, batch_size: usize) -> Result<Tensor> {
        if batch_size == 0 {
            return Err(Error::invalid(
                "predict",
                "batchSize",
                "a positive integer",
                "0",
            ));
        }
        let n = x.dims().first().copied().unwrap_or(0);
        let row = x.numel() / n.max(1);
        let mut out: Option<Tensor> = None;
        let mut chunk = Tensor::zeros(Shape::new(vec![]));
        let mut start = 0;
        while start < n || (n == 0 && out.is_none()) {
            let end = (start + batch_size).min(n);
            let mut dims = x.dims().to_vec();
            dims[0] = end - start;
            chunk.resize(&dims);
            chunk
                .data_mut()
                .copy_from_slice(&x.f32s("predict", "x")?[start * row..end * row]);
            let y = self.forward(&chunk, false)?;
            let out = out.get_or_insert_with(|| {
                let mut d = y.dims().to_vec();
                d[0] = n;
                Tensor::zeros(Shape::new(d))
            });
            let orow = y.numel() / y.dims()[0].max(1);
            out.data_mut()[start * orow..end * orow].copy_from_slice(y.data());
            if n == 0 {
                break;
            }
            start = end;
        }
        Ok(out.expect("at least one batch"))
    }

    /// The loss on one batch, in inference mode (no update).
    pub fn loss_on(&mut self, x: &Tensor, y: &Tensor) -> Result<f32> {
        if self.loss.is_none() {
            return Err(Error::state(
                "evaluate",
                "a compiled model (call compile first)",
                "a model without a loss",
            ));
        }
        self.forward(x, false)?;
        let pred = self.acts.last().expect("one layer at least");
        let loss = self.loss.as_ref().expect("checked");
        Ok(crate::autograd::Op::forward(loss, &[y, pred])?.data()[0])
    }

    /// Every parameter (trainable or not), layer by layer, in `params()` order: copies.
    pub fn weights(&self) -> Vec<Tensor> {
        self.layers
            .iter()
            .flat_map(|l| l.params().into_iter().map(|p| p.value.clone()))
            .collect()
    }

    /// Replaces every parameter, in `weights()` order; checks all shapes before changing any.
    pub fn set_weights(&mut self, weights: &[&Tensor]) -> Result<()> {
        let shapes: Vec<(String, Shape)> = self
            .layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.params()
                    .into_iter()
                    .map(move |p| (format!("layers[{i}].{}", p.name), p.value.shape().clone()))
            })
            .collect();
        if shapes.len() != weights.len() {
            return Err(Error::invalid(
                "setWeights",
                "weights",
                format!("{} tensors, as getWeights returns", shapes.len()),
                format!("{}", weights.len()),
            ));
        }
        for (k, ((name, shape), w)) in shapes.iter().zip(weights).enumerate() {
            w.f32s("setWeights", &format!("weights[{k}]"))?;
            if w.shape() != shape {
                return Err(Error::shape(
                    "setWeights",
                    format!("weights[{k}]"),
                    format!("shape {shape} ({name})"),
                    format!("shape {}", w.shape()),
                ));
            }
        }
        let mut k = 0;
        for layer in &mut self.layers {
            for p in layer.params_mut() {
                p.value.data_mut().copy_from_slice(weights[k].data());
                k += 1;
            }
        }
        Ok(())
    }

    /// Layers with their kind, output shape (with a null batch) and parameter count, as JSON.
    pub fn summary_json(&self) -> String {
        let rows: Vec<crate::json::Value> = self
            .layers
            .iter()
            .zip(&self.output_shapes)
            .map(|(l, shape)| {
                let params: usize = l.params().iter().map(|p| p.value.numel()).sum();
                let trainable: usize = l.params().iter().filter(|p| p.trainable).map(|p| p.value.numel()).sum();
                crate::json::json!({ "kind": l.kind(), "config": l.config(), "outputShape": shape, "params": params, "trainableParams": trainable })
            })
            .collect();
        crate::json::json!({ "inputShape": &self.input_shape, "layers": rows }).to_string()
    }

    /// The output of the last forward pass.
    pub fn last_output(&self) -> &Tensor {
        self.acts.last().expect("one layer at least")
    }
}

/// Per-sample weights from `sample_weight` and `class_weight` (their product), if any.
fn combine_weights(
    data: &Dataset,
    sample_weight: Option<Rc<Tensor>>,
    class_weight: Option<Vec<f32>>,
) -> Result<Option<Rc<Tensor>>> {
    let Some(cw) = class_weight else {
        return Ok(sample_weight);
    };
    if let Some(i) = cw.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::invalid(
            "fit",
            "classWeight",
            "finite weights ≥ 0",
            format!("{} for class {i}", cw[i]),
        ));
    }
    let y = data.labels();
    let n = data.len();
    let classes: Vec<usize> = match y.dtype() {
        crate::tensor::DType::I32 => y.i32_data().iter().map(|&c| c.max(0) as usize).collect(),
        crate::tensor::DType::F32 => {
            let row = y.numel() / n.max(1);
            y.data()
                .chunks(row.max(1))
                .map(|r| {
                    if row == 1 {
                        r[0].max(0.0) as usize
                    } else {
                        crate::kernels::reduce::argmax_index(r)
                    }
                })
                .collect()
        }
    };
    let mut w: Vec<f32> = Vec::with_capacity(n);
    for (i, &c) in classes.iter().enumerate() {
        let cwv = *cw.get(c).ok_or_else(|| {
            Error::invalid(
                "fit",
                "classWeight",
                format!("a weight for class {c} (the label of sample {i})"),
                format!("{} weights", cw.len()),
            )
        })?;
        w.push(cwv);
    }
    if let Some(sw) = sample_weight {
        let values = sw.f32s("fit", "sampleWeight")?;
        if values.len() != n {
            return Err(Error::shape(
                "fit",
                "sampleWeight",
                format!("shape [{n}], one weight per sample"),
                format!("shape {}", sw.shape()),
            ));
        }
        w.iter_mut().zip(values).for_each(|(a, b)| *a *= b);
    }
    Ok(Some(Rc::new(Tensor::from_vec(
        "fit",
        w,
        Shape::new(vec![n]),
    )?)))
}

/// One `fit` call: the training samples (and validation samples), shuffled per epoch.
pub struct Fit {
    pub train: Dataset,
    pub validation: Option<Dataset>,
    shuffle: bool,
}

impl Fit {
    /// `validation`: explicit (x, y), or the last `split` fraction of the training data.
    /// `sample_weight` ([n]) and `class_weight` (one weight per class, applied through
    /// each sample's label: an int32 label, or the argmax of a one-hot row) multiply.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        x: Rc<Tensor>,
        y: Rc<Tensor>,
        validation: Option<(Rc<Tensor>, Rc<Tensor>)>,
        split: f64,
        shuffle: bool,
        sample_weight: Option<Rc<Tensor>>,
        class_weight: Option<Vec<f32>>,
    ) -> Result<Fit> {
        let mut train = Dataset::new("fit", x, y)?;
        let weights = combine_weights(&train, sample_weight, class_weight)?;
        if let Some(w) = weights {
            train = train.with_weights("fit", w)?;
        }
        let validation = match validation {
            Some((vx, vy)) => Some(Dataset::new("fit", vx, vy).map_err(|e| Error {
                arg: format!("validationData ({})", e.arg),
                ..e
            })?),
            None if split > 0.0 => Some(train.split_last(split)?),
            None => None,
        };
        Ok(Fit {
            train,
            validation,
            shuffle,
        })
    }

    /// Starts an epoch: a new order from the model's generator if shuffling.
    pub fn epoch(&mut self, model: &mut Sequential) {
        if self.shuffle {
            self.train.shuffle(&mut model.shuffle_rng);
        }
    }

    /// Trains on training samples [start, end) of this epoch's order and updates
    /// `metrics` with that batch's predictions (made before the update, as Keras reports
    /// them); returns the loss.
    pub fn train_batch(
        &mut self,
        model: &mut Sequential,
        start: usize,
        end: usize,
        metrics: &mut [Box<dyn Metric>],
    ) -> Result<f32> {
        let (x, y, w) = self.train.weighted_batch(start, end);
        let loss = model.train_step_weighted(x, y, w)?;
        for m in metrics {
            m.update(y, model.last_output())?;
        }
        Ok(loss)
    }

    /// Mean loss over the validation samples (inference mode), in batches, updating `metrics`.
    pub fn validate(
        &mut self,
        model: &mut Sequential,
        batch_size: usize,
        metrics: &mut [Box<dyn Metric>],
    ) -> Result<Option<f64>> {
        let Some(v) = self.validation.as_mut() else {
            return Ok(None);
        };
        Ok(Some(mean_loss(model, v, batch_size, metrics)?))
    }
}

/// The mean loss over a whole dataset (each batch's mean loss weighted by its size),
/// updating `metrics` along the way.
pub fn mean_loss(
    model: &mut Sequential,
    data: &mut Dataset,
    batch_size: usize,
    metrics: &mut [Box<dyn Metric>],
) -> Result<f64> {
    let n = data.len();
    let (mut total, mut start) = (0.0f64, 0);
    let batch_size = batch_size.max(1);
    while start < n {
        let end = (start + batch_size).min(n);
        let (x, y) = data.batch(start, end);
        total += model.loss_on(x, y)? as f64 * (end - start) as f64;
        for m in metrics.iter_mut() {
            m.update(y, model.last_output())?;
        }
        start = end;
    }
    Ok(total / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn predict_in_batches_equals_one_pass_and_fit_trains() {
        let layers = vec![
            (
                "dense".to_string(),
                r#"{"units":3,"activation":"tanh"}"#.to_string(),
            ),
            ("dense".to_string(), r#"{"units":1}"#.to_string()),
        ];
        let mut m = Sequential::new(&layers, &[2], 4).unwrap();
        let mut r = Rng::new(2);
        let x = Tensor::from_vec(
            "x",
            (0..40).map(|_| r.normal()).collect(),
            Shape::new(vec![20, 2]),
        )
        .unwrap();
        let whole = m.predict(&x, 100).unwrap();
        let parts = m.predict(&x, 3).unwrap();
        assert_eq!(whole.data(), parts.data());
        let y: Vec<f32> = x.data().chunks(2).map(|p| p[0] - 2.0 * p[1]).collect();
        let y = Rc::new(Tensor::from_vec("y", y, Shape::new(vec![20, 1])).unwrap());
        m.compile(("mse", ""), ("adam", r#"{"learningRate":0.05}"#))
            .unwrap();
        let mut fit = Fit::new(Rc::new(x), y, None, 0.25, true, None, None).unwrap();
        let first = fit.validate(&mut m, 4, &mut []).unwrap().unwrap();
        let mut mae = vec![crate::metrics::make("mae", "").unwrap()];
        for _ in 0..40 {
            fit.epoch(&mut m);
            for s in (0..fit.train.len()).step_by(5) {
                fit.train_batch(&mut m, s, s + 5, &mut mae).unwrap();
            }
        }
        let last = fit.validate(&mut m, 4, &mut []).unwrap().unwrap();
        assert!(mae[0].result() > 0.0);
        assert!(last < 0.1 * first, "{first} → {last}");
    }
}
