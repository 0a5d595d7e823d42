//! Datasets for `fit`: the samples stay where they are in wasm memory (shared, not
//! copied), and each batch is gathered by index into buffers reused across batches.
//! Shuffling permutes indices with the model's seeded Rng, so runs are reproducible.

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::{DType, Tensor};
use std::rc::Rc;

pub struct Dataset {
    x: Rc<Tensor>,
    y: Rc<Tensor>,
    /// Per-sample weights `[n]`, if any.
    w: Option<Rc<Tensor>>,
    order: Vec<u32>,
    bx: Tensor,
    by: Tensor,
    bw: Tensor,
}

fn empty() -> Tensor {
    Tensor::zeros(crate::shape::Shape::new(vec![]))
}

fn gather(src: &Tensor, rows: &[u32], dst: &mut Tensor) {
    let n = src.dims()[0].max(1);
    let row = src.numel() / n;
    let rest = &src.dims()[1..];
    match src.dtype() {
        DType::F32 => {
            dst.resize_batch(rows.len(), rest);
            let (s, d) = (src.data(), dst.data_mut());
            for (k, &r) in rows.iter().enumerate() {
                let r = r as usize;
                d[k * row..(k + 1) * row].copy_from_slice(&s[r * row..(r + 1) * row]);
            }
        }
        DType::I32 => {
            dst.resize_batch_i32(rows.len(), rest);
            let s = src.i32_data();
            let d = dst.i32s_mut();
            for (k, &r) in rows.iter().enumerate() {
                let r = r as usize;
                d[k * row..(k + 1) * row].copy_from_slice(&s[r * row..(r + 1) * row]);
            }
        }
    }
}

impl Dataset {
    /// Samples along the first axis of `x` and `y`, which must agree.
    pub fn new(op: &'static str, x: Rc<Tensor>, y: Rc<Tensor>) -> Result<Dataset> {
        let (nx, ny) = (x.dims().first().copied(), y.dims().first().copied());
        if nx.is_none() || nx != ny {
            return Err(Error::shape(
                op,
                "y",
                format!("{} samples (the first axis of x)", nx.unwrap_or(0)),
                format!("shape {}", y.shape()),
            ));
        }
        let n = nx.unwrap_or(0);
        if n == 0 {
            return Err(Error::shape(
                op,
                "x",
                "at least one sample",
                format!("shape {}", x.shape()),
            ));
        }
        if n > u32::MAX as usize {
            return Err(Error::shape(
                op,
                "x",
                "fewer than 2^32 samples",
                format!("shape {}", x.shape()),
            ));
        }
        Ok(Dataset {
            order: (0..n as u32).collect(),
            x,
            y,
            w: None,
            bx: empty(),
            by: empty(),
            bw: empty(),
        })
    }

    /// Attaches per-sample weights: a float tensor `[n]`, finite and ≥ 0.
    pub fn with_weights(mut self, op: &'static str, w: Rc<Tensor>) -> Result<Dataset> {
        let values = w.f32s(op, "sampleWeight")?;
        if w.dims() != [self.len()] {
            return Err(Error::shape(
                op,
                "sampleWeight",
                format!("shape [{}], one weight per sample", self.len()),
                format!("shape {}", w.shape()),
            ));
        }
        if let Some(i) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::invalid(
                op,
                "sampleWeight",
                "finite weights ≥ 0",
                format!("{} at index {i}", values[i]),
            ));
        }
        self.w = Some(w);
        Ok(self)
    }

    /// The labels (to turn class weights into sample weights).
    pub fn labels(&self) -> &Tensor {
        &self.y
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Restores the natural order (evaluation, no shuffle).
    pub fn unshuffle(&mut self) {
        for (i, o) in self.order.iter_mut().enumerate() {
            *o = i as u32;
        }
    }

    /// A new random order (Fisher–Yates with `rng`) of the samples in their natural
    /// order, so an epoch's order depends only on the generator's state (a resumed
    /// run shuffles as an uninterrupted one).
    pub fn shuffle(&mut self, rng: &mut Rng) {
        self.order.sort_unstable();
        for i in (1..self.order.len()).rev() {
            let j = (rng.next_u32() as u64 * (i as u64 + 1) >> 32) as usize;
            self.order.swap(i, j);
        }
    }

    /// Gathers samples `order[start..end]` into the batch buffers.
    pub fn batch(&mut self, start: usize, end: usize) -> (&Tensor, &Tensor) {
        let (x, y, _) = self.weighted_batch(start, end);
        (x, y)
    }

    /// As `batch`, with the batch's sample weights if the dataset has any.
    pub fn weighted_batch(
        &mut self,
        start: usize,
        end: usize,
    ) -> (&Tensor, &Tensor, Option<&Tensor>) {
        let end = end.min(self.order.len());
        let start = start.min(end);
        gather(&self.x, &self.order[start..end], &mut self.bx);
        gather(&self.y, &self.order[start..end], &mut self.by);
        if let Some(w) = &self.w {
            gather(w, &self.order[start..end], &mut self.bw);
        }
        (&self.bx, &self.by, self.w.as_ref().map(|_| &self.bw))
    }

    /// Splits off the last `fraction` of the samples (in the current order) as a new
    /// dataset sharing the same tensors: Keras's validationSplit takes the last ones.
    pub fn split_last(&mut self, fraction: f64) -> Result<Dataset> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(Error::invalid(
                "fit",
                "validationSplit",
                "a number in (0, 1)",
                format!("{fraction}"),
            ));
        }
        let n = self.order.len();
        let k = ((n as f64) * fraction).floor() as usize;
        if k == 0 || k == n {
            return Err(Error::invalid(
                "fit",
                "validationSplit",
                format!("a fraction leaving samples on both sides of the {n}"),
                format!("{fraction}"),
            ));
        }
        let tail = self.order.split_off(n - k);
        Ok(Dataset {
            order: tail,
            x: self.x.clone(),
            y: self.y.clone(),
            w: self.w.clone(),
            bx: empty(),
            by: empty(),
            bw: empty(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn batches_gather_rows_in_shuffled_order() {
        let x = Rc::new(
            Tensor::from_vec(
                "x",
                (0..10).map(|v| v as f32).collect(),
                Shape::new(vec![5, 2]),
            )
            .unwrap(),
        );
        let y = Rc::new(Tensor::from_i32("y", vec![0, 1, 2, 3, 4], Shape::new(vec![5])).unwrap());
        let mut d = Dataset::new("fit", x, y).unwrap();
        let (bx, by) = d.batch(1, 3);
        assert_eq!(bx.data(), &[2.0, 3.0, 4.0, 5.0]);
        assert_eq!(by.i32_data(), &[1, 2]);
        d.shuffle(&mut Rng::new(1));
        let (_, by) = d.batch(0, 5);
        let mut seen = by.i32_data().to_vec();
        assert_ne!(seen, vec![0, 1, 2, 3, 4]);
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        let v = d.split_last(0.4).unwrap();
        assert_eq!((d.len(), v.len()), (3, 2));
        assert!(d.split_last(0.0).is_err());
    }
}
