//! Dense f32 tensors: a validated shape and its row-major values.

use crate::error::{Error, Result};
use crate::shape::Shape;

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Shape,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor from row-major values; `data.len()` must equal the shape's element count.
    pub fn from_vec(op: &'static str, data: Vec<f32>, shape: Shape) -> Result<Self> {
        let n = shape.numel();
        if data.len() != n {
            return Err(Error::shape(
                op,
                "data",
                format!("{n} values for shape {shape}"),
                format!("{} values", data.len()),
            ));
        }
        Ok(Tensor { shape, data })
    }

    pub fn zeros(shape: Shape) -> Self {
        let n = shape.numel();
        Tensor {
            shape,
            data: vec![0.0; n],
        }
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_length_must_match_the_shape() {
        let e = Tensor::from_vec("tensor", vec![1.0; 5], Shape::new(vec![2, 3])).unwrap_err();
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        assert_eq!(
            e.to_string(),
            "tensor: invalid `data`: expected 6 values for shape [2, 3], received 5 values"
        );
        let t = Tensor::from_vec("tensor", vec![1.0; 6], Shape::new(vec![2, 3])).unwrap();
        assert_eq!(t.numel(), 6);
    }
}
