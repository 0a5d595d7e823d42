//! `embedding({ inputDim, outputDim, embeddingsInitializer = randomUniform ±0.05,
//! embeddingsRegularizer, paddingIdx })`: a lookup table. Input `[batch, ...]` of integer
//! ids in [0, inputDim) — an int32 tensor, or float32 holding integer values (what a
//! model pipeline of floats passes along); output `[batch, ..., outputDim]`, row `id` of
//! the table at each position.
//!
//! Parameter "embeddings" `[inputDim, outputDim]` = torch nn.Embedding `weight` as is (no
//! transpose), Keras's `embeddings`.
//! `paddingIdx` (none by default; negative counts from the end as in torch): that row
//! starts as zeros and never receives a gradient, as torch's padding_idx — it still
//! takes part in the forward pass with whatever value it holds. Keras has no such option.
//!
//! Backward scatter-adds dL/dy into the table's gradient: d embeddings[id] += gy at every
//! position holding `id` (repeated ids add up). Ids are not differentiable, so dL/dx is
//! zeros of x's shape. An id outside [0, inputDim), or a float that is not an integer,
//! is a ValueError naming the id and its position.

use super::init::Init;
use super::{batch_dims, Layer, Param, Regularizer};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

pub struct Embedding {
    input_dim: usize,
    output_dim: usize,
    init: Init,
    regularizer: Option<Regularizer>,
    padding_idx: Option<usize>,
    input: Vec<usize>,
    /// The per-sample output shape: `[...input, outputDim]`.
    output: Vec<usize>,
    params: Vec<Param>,
    /// The validated ids of the last batch, reused.
    ids: Vec<usize>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[
        "inputDim",
        "outputDim",
        "embeddingsInitializer",
        "embeddingsRegularizer",
        "paddingIdx",
    ])?;
    let dim = |key: &str| {
        cfg.f64_where(key, f64::NAN, "a positive integer", |u| {
            u.is_finite() && u >= 1.0 && u.fract() == 0.0 && u < 1e9
        })
        .map(|d| d as usize)
    };
    let (input_dim, output_dim) = (dim("inputDim")?, dim("outputDim")?);
    let padding_idx = match cfg.raw("paddingIdx") {
        None => None,
        Some(_) => {
            let n = input_dim as f64;
            let p = cfg.f64_where("paddingIdx", 0.0, &format!("an integer in [-{input_dim}, {input_dim}) (an id, negative from the end), or null"), |p| p.fract() == 0.0 && p >= -n && p < n)?;
            Some(if p < 0.0 {
                (p + n) as usize
            } else {
                p as usize
            })
        }
    };
    Ok(Box::new(Embedding {
        input_dim,
        output_dim,
        init: Init::from_config(
            cfg,
            "embeddingsInitializer",
            Init::RandomUniform {
                min: -0.05,
                max: 0.05,
            },
        )?,
        regularizer: Regularizer::from_config(cfg, "embeddingsRegularizer")?,
        padding_idx,
        input: Vec::new(),
        output: Vec::new(),
        params: Vec::new(),
        ids: Vec::new(),
    }))
}

/// `[b, i, j]`: the position of flat index `k` in a tensor of `dims`.
fn position(mut k: usize, dims: &[usize]) -> String {
    let mut idx = vec![0usize; dims.len()];
    for (slot, &d) in idx.iter_mut().zip(dims).rev() {
        *slot = k % d.max(1);
        k /= d.max(1);
    }
    format!("{idx:?}")
}

impl Embedding {
    /// Checks `x`'s shape and reads its ids into `self.ids`.
    fn read_ids(&mut self, x: &Tensor) -> Result<usize> {
        let d = x.dims();
        if d.len() != self.input.len() + 1 || d[1..] != self.input[..] {
            let want = Shape::new(batch_dims(0, &self.input))
                .to_string()
                .replacen('0', "batch", 1);
            return Err(Error::shape(
                "embedding",
                "input",
                format!("shape {want}"),
                format!("shape {}", x.shape()),
            ));
        }
        let n = self.input_dim;
        let bad = |k: usize, id: String| {
            Error::invalid(
                "embedding",
                "input",
                format!("integer ids in [0, {n})"),
                format!("id {id} at position {}", position(k, d)),
            )
        };
        self.ids.clear();
        match x.dtype() {
            DType::I32 => {
                for (k, &id) in x.i32s("embedding", "input")?.iter().enumerate() {
                    if id < 0 || id as usize >= n {
                        return Err(bad(k, id.to_string()));
                    }
                    self.ids.push(id as usize);
                }
            }
            DType::F32 => {
                for (k, &id) in x.f32s("embedding", "input")?.iter().enumerate() {
                    if !(id >= 0.0 && id.fract() == 0.0 && (id as usize) < n) {
                        return Err(bad(k, id.to_string()));
                    }
                    self.ids.push(id as usize);
                }
            }
        }
        Ok(d[0])
    }
}

impl Layer for Embedding {
    fn kind(&self) -> &'static str {
        "embedding"
    }

    fn config(&self) -> Value {
        json!({ "inputDim": self.input_dim, "outputDim": self.output_dim, "paddingIdx": self.padding_idx })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let (n, dim) = (self.input_dim, self.output_dim);
        let mut table = self.init.values(&[n, dim], n, dim, rng);
        if let Some(p) = self.padding_idx {
            table[p * dim..(p + 1) * dim]
                .iter_mut()
                .for_each(|v| *v = 0.0);
        }
        let mut param = Param::new(
            "embeddings",
            Tensor::new(Shape::new(vec![n, dim]), table),
            true,
        );
        param.regularizer = self.regularizer;
        self.params = vec![param];
        self.input = input.to_vec();
        let mut out = input.to_vec();
        out.push(dim);
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
        let batch = self.read_ids(x)?;
        let dim = self.output_dim;
        y.resize_batch(batch, &self.output);
        let table = self.params[0].value.data();
        for (row, &id) in y.data_mut().chunks_exact_mut(dim).zip(&self.ids) {
            row.copy_from_slice(&table[id * dim..(id + 1) * dim]);
        }
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        self.read_ids(x)?;
        let dim = self.output_dim;
        let mut want = x.dims().to_vec();
        want.push(dim);
        if gy.dims() != want.as_slice() {
            return Err(Error::shape(
                "embedding",
                "gradient",
                format!("shape {}", Shape::new(want)),
                format!("shape {}", gy.shape()),
            ));
        }
        let p = &mut self.params[0];
        for (g, &id) in gy.data().chunks_exact(dim).zip(&self.ids) {
            if Some(id) == self.padding_idx {
                continue;
            }
            for (d, &v) in p.grad[id * dim..(id + 1) * dim].iter_mut().zip(g) {
                *d += v;
            }
        }
        if let Some(r) = p.regularizer {
            r.add_grad(p.value.data(), &mut p.grad);
        }
        gx.resize(x.dims());
        gx.data_mut().iter_mut().for_each(|v| *v = 0.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{make, Layer};
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    fn ids(v: &[i32], dims: &[usize]) -> Tensor {
        Tensor::from_i32("test", v.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    fn floats(v: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", v.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    fn made(cfg: &str, input: &[usize]) -> Box<dyn Layer> {
        let mut l = make("embedding", cfg).unwrap();
        l.build(input, &mut Rng::new(1)).unwrap();
        l
    }

    /// Table row r = [10r, 10r + 1, ...].
    fn numbered(l: &mut Box<dyn Layer>) {
        let dim = l.params()[0].value.dims()[1];
        for (k, v) in l.params_mut()[0].value.data_mut().iter_mut().enumerate() {
            *v = (10 * (k / dim) + k % dim) as f32;
        }
    }

    #[test]
    fn lookup_with_int_and_float_ids() {
        let mut l = made(r#"{"inputDim":5,"outputDim":3}"#, &[2]);
        assert_eq!(l.params()[0].value.dims(), &[5, 3]);
        assert!(l.params()[0].value.data().iter().all(|v| v.abs() <= 0.05));
        numbered(&mut l);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        l.forward(&ids(&[4, 0, 2, 2], &[2, 2]), &mut y, true)
            .unwrap();
        assert_eq!(y.dims(), &[2, 2, 3]);
        assert_eq!(
            y.data(),
            &[40., 41., 42., 0., 1., 2., 20., 21., 22., 20., 21., 22.]
        );
        let mut yf = Tensor::zeros(Shape::new(vec![]));
        l.forward(&floats(&[4.0, 0.0, 2.0, 2.0], &[2, 2]), &mut yf, false)
            .unwrap();
        assert_eq!(y, yf);
        // A per-sample scalar id: [batch] → [batch, outputDim].
        let mut l = made(r#"{"inputDim":3,"outputDim":2}"#, &[]);
        numbered(&mut l);
        l.forward(&ids(&[1, 2, 0], &[3]), &mut y, false).unwrap();
        assert_eq!(
            (y.dims(), y.data()),
            (&[3usize, 2][..], &[10., 11., 20., 21., 0., 1.][..])
        );
    }

    #[test]
    fn backward_scatter_adds_and_skips_padding() {
        // Ids 1, 3, 1, 0 with padding 3 (given as -1): row 1 gets two gradients, row 3 none.
        let mut l = made(r#"{"inputDim":4,"outputDim":2,"paddingIdx":-1}"#, &[4]);
        assert_eq!(&l.params()[0].value.data()[6..], &[0.0, 0.0]);
        assert!(l.params()[0].value.data()[..6].iter().all(|&v| v != 0.0));
        assert_eq!(l.config()["paddingIdx"], 3);
        let x = ids(&[1, 3, 1, 0], &[1, 4]);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        l.forward(&x, &mut y, true).unwrap();
        let gy = floats(&[1., 2., 3., 4., 5., 6., 7., 8.], &[1, 4, 2]);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        l.backward(&x, &y, &gy, &mut gx).unwrap();
        assert_eq!(l.params()[0].grad, vec![7., 8., 6., 8., 0., 0., 0., 0.]);
        assert_eq!((gx.dims(), gx.data()), (&[1usize, 4][..], &[0.0; 4][..]));
        // Gradients accumulate across calls, with float ids too.
        let xf = floats(&[1., 3., 1., 0.], &[1, 4]);
        l.backward(&xf, &y, &gy, &mut gx).unwrap();
        assert_eq!(l.params()[0].grad, vec![14., 16., 12., 16., 0., 0., 0., 0.]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        // L = Σ w·y + penalty; x holds ids, so only the table is checked (dL/dx is zero).
        for cfg in [
            r#"{"inputDim":7,"outputDim":3}"#,
            r#"{"inputDim":5,"outputDim":5,"paddingIdx":2,"embeddingsRegularizer":{"l2":0.3}}"#,
        ] {
            let x = ids(&[0, 2, 4, 2, 1, 4], &[2, 3]);
            let mut l = made(cfg, &[3]);
            let mut y = Tensor::zeros(Shape::new(vec![]));
            l.forward(&x, &mut y, true).unwrap();
            let w = normal(y.dims(), 9);
            let mut gx = Tensor::zeros(Shape::new(vec![]));
            l.backward(&x, &y, &w, &mut gx).unwrap();
            let analytic = l.params()[0].grad.clone();
            let mut loss = |l: &mut Box<dyn Layer>| {
                l.forward(&x, &mut y, true).unwrap();
                let pen: f64 = l
                    .params()
                    .iter()
                    .filter_map(|p| p.regularizer.map(|r| r.penalty(p.value.data())))
                    .sum();
                y.data()
                    .iter()
                    .zip(w.data())
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum::<f64>()
                    + pen
            };
            for (j, &a) in analytic.iter().enumerate() {
                let v0 = l.params()[0].value.data()[j];
                let h = 1e-2f32;
                l.params_mut()[0].value.data_mut()[j] = v0 + h;
                let plus = loss(&mut l);
                l.params_mut()[0].value.data_mut()[j] = v0 - h;
                let minus = loss(&mut l);
                l.params_mut()[0].value.data_mut()[j] = v0;
                let numeric = (plus - minus) / ((v0 + h) as f64 - (v0 - h) as f64);
                let padding = cfg.contains("paddingIdx") && j / 5 == 2;
                let want = if padding { 0.0 } else { numeric };
                assert!(
                    (want - a as f64).abs() < 2e-3 * (1.0 + want.abs()),
                    "{cfg} [{j}]: {a} vs {want}"
                );
            }
        }
    }

    #[test]
    fn errors() {
        let err = |cfg: &str| make("embedding", cfg).err().unwrap();
        assert_eq!(
            err(r#"{"inputDim":0,"outputDim":2}"#).to_string(),
            "embedding: invalid `inputDim`: expected a positive integer, received 0"
        );
        assert_eq!(err(r#"{"inputDim":3}"#).arg, "outputDim");
        assert_eq!(err(r#"{"inputDim":3,"outputDim":2.5}"#).arg, "outputDim");
        assert_eq!(err(r#"{"inputDim":3,"outputDim":2,"paddingIdx":3}"#).to_string(), "embedding: invalid `paddingIdx`: expected an integer in [-3, 3) (an id, negative from the end), or null, received 3");
        assert_eq!(
            err(r#"{"inputDim":3,"outputDim":2,"paddingIdx":-4}"#).arg,
            "paddingIdx"
        );
        assert_eq!(
            err(r#"{"inputDim":3,"outputDim":2,"embeddingsInitializer":"nope"}"#).arg,
            "embeddingsInitializer"
        );
        assert_eq!(
            err(r#"{"inputDim":3,"outputDim":2,"units":4}"#).arg,
            "config"
        );
        assert!(make(
            "embedding",
            r#"{"inputDim":3,"outputDim":2,"paddingIdx":null}"#
        )
        .is_ok());

        let mut l = made(r#"{"inputDim":5,"outputDim":2}"#, &[3]);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = l
            .forward(&ids(&[0, 1, 2, 3, 5, 4], &[2, 3]), &mut y, true)
            .unwrap_err();
        assert_eq!((e.code(), e.to_string().as_str()), ("INVALID_ARGUMENT", "embedding: invalid `input`: expected integer ids in [0, 5), received id 5 at position [1, 1]"));
        let e = l
            .forward(&ids(&[-1, 1, 2], &[1, 3]), &mut y, true)
            .unwrap_err();
        assert_eq!(e.received, "id -1 at position [0, 0]");
        let e = l
            .forward(&floats(&[0., 1.5, 2.], &[1, 3]), &mut y, true)
            .unwrap_err();
        assert_eq!(e.received, "id 1.5 at position [0, 1]");
        let e = l
            .forward(&floats(&[0., 1., f32::NAN], &[1, 3]), &mut y, true)
            .unwrap_err();
        assert_eq!(e.received, "id NaN at position [0, 2]");
        let e = l.forward(&ids(&[0, 1], &[1, 2]), &mut y, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "embedding: invalid `input`: expected shape [batch, 3], received shape [1, 2]"
        );
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        let e = l
            .backward(
                &ids(&[0, 1, 2], &[1, 3]),
                &y,
                &normal(&[1, 3, 3], 1),
                &mut gx,
            )
            .unwrap_err();
        assert_eq!(e.arg, "gradient");
    }
}
