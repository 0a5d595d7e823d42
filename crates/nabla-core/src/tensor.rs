//! Dense tensors: a validated shape and its row-major values, f32 (everything that is
//! computed) or i32 (class labels, indices).

use crate::error::{Error, Result};
use crate::shape::Shape;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I32,
}

impl DType {
    /// The public name, as in `tensor.dtype`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I32 => "int32",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Data {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Shape,
    data: Data,
}

fn check_len(op: &'static str, len: usize, shape: &Shape) -> Result<()> {
    let n = shape.numel();
    if len != n {
        return Err(Error::shape(
            op,
            "data",
            format!("{n} values for shape {shape}"),
            format!("{len} values"),
        ));
    }
    Ok(())
}

impl Tensor {
    /// A float tensor from row-major values; `data.len()` must equal the shape's element count.
    pub fn from_vec(op: &'static str, data: Vec<f32>, shape: Shape) -> Result<Self> {
        check_len(op, data.len(), &shape)?;
        Ok(Tensor {
            shape,
            data: Data::F32(data),
        })
    }

    /// An int32 tensor (labels, indices) from row-major values.
    pub fn from_i32(op: &'static str, data: Vec<i32>, shape: Shape) -> Result<Self> {
        check_len(op, data.len(), &shape)?;
        Ok(Tensor {
            shape,
            data: Data::I32(data),
        })
    }

    /// A float tensor whose length is known to match (built by an op, not a user).
    pub(crate) fn new(shape: Shape, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.numel(), data.len());
        Tensor {
            shape,
            data: Data::F32(data),
        }
    }

    pub fn zeros(shape: Shape) -> Self {
        Tensor::full(shape, 0.0)
    }

    pub fn full(shape: Shape, value: f32) -> Self {
        let n = shape.numel();
        Tensor {
            shape,
            data: Data::F32(vec![value; n]),
        }
    }

    pub fn scalar(value: f32) -> Self {
        Tensor::full(Shape::new(vec![]), value)
    }

    pub fn dtype(&self) -> DType {
        match self.data {
            Data::F32(_) => DType::F32,
            Data::I32(_) => DType::I32,
        }
    }

    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    pub fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// Bytes of element storage.
    pub fn bytes(&self) -> usize {
        self.numel() * 4
    }

    /// The float values, or a `DTYPE_MISMATCH` error naming `op` and `arg`.
    pub fn f32s(&self, op: &'static str, arg: &str) -> Result<&[f32]> {
        match &self.data {
            Data::F32(v) => Ok(v),
            Data::I32(_) => Err(Error::dtype(op, arg, "a float32 tensor", "an int32 tensor")),
        }
    }

    /// The int32 values, or a `DTYPE_MISMATCH` error naming `op` and `arg`.
    pub fn i32s(&self, op: &'static str, arg: &str) -> Result<&[i32]> {
        match &self.data {
            Data::I32(v) => Ok(v),
            Data::F32(_) => Err(Error::dtype(op, arg, "an int32 tensor", "a float32 tensor")),
        }
    }

    /// Float values of a tensor an op made or already checked; empty for int32.
    pub fn data(&self) -> &[f32] {
        match &self.data {
            Data::F32(v) => v,
            Data::I32(_) => &[],
        }
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        match &mut self.data {
            Data::F32(v) => v,
            Data::I32(_) => &mut [],
        }
    }

    /// The values as f32 whatever the dtype (int32 converted), for reading out.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            Data::F32(v) => v.clone(),
            Data::I32(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Makes this a float tensor of `dims`, reusing its buffer (values are unspecified
    /// afterwards). Layers write their outputs into tensors resized this way, so a
    /// training step allocates nothing once the buffers have grown.
    pub fn resize(&mut self, dims: &[usize]) {
        let n: usize = dims.iter().product();
        self.shape.set(dims);
        match &mut self.data {
            Data::F32(v) => crate::kernels::resize_zeroed(v, n),
            Data::I32(_) => self.data = Data::F32(vec![0.0; n]),
        }
    }

    /// `resize` to `[batch, ...rest]`.
    pub fn resize_batch(&mut self, batch: usize, rest: &[usize]) {
        self.shape.set_batch(batch, rest);
        let n = self.shape.numel();
        match &mut self.data {
            Data::F32(v) => crate::kernels::resize_zeroed(v, n),
            Data::I32(_) => self.data = Data::F32(vec![0.0; n]),
        }
    }

    /// The float buffer behind a tensor of shape `dims`, for a kernel that fills it
    /// (clear, then extend to the shape's element count): the buffer's capacity is
    /// reused, so refilling a tensor of the same size allocates nothing.
    pub fn f32_buffer(&mut self, dims: &[usize]) -> &mut Vec<f32> {
        self.shape.set(dims);
        if let Data::I32(_) = self.data {
            self.data = Data::F32(Vec::new());
        }
        match &mut self.data {
            Data::F32(v) => v,
            Data::I32(_) => unreachable!("made float above"),
        }
    }

    /// As `resize`, for an int32 tensor (gathered label batches).
    pub fn resize_i32(&mut self, dims: &[usize]) {
        let n: usize = dims.iter().product();
        self.shape.set(dims);
        match &mut self.data {
            Data::I32(v) => v.resize(n, 0),
            Data::F32(_) => self.data = Data::I32(vec![0; n]),
        }
    }

    /// `resize_i32` to `[batch, ...rest]`.
    pub fn resize_batch_i32(&mut self, batch: usize, rest: &[usize]) {
        self.shape.set_batch(batch, rest);
        let n = self.shape.numel();
        match &mut self.data {
            Data::I32(v) => v.resize(n, 0),
            Data::F32(_) => self.data = Data::I32(vec![0; n]),
        }
    }

    /// The int32 values, mutable (empty for float tensors).
    pub fn i32s_mut(&mut self) -> &mut [i32] {
        match &mut self.data {
            Data::I32(v) => v,
            Data::F32(_) => &mut [],
        }
    }

    /// The int32 values of a tensor known to be int32 (empty for float tensors).
    pub fn i32_data(&self) -> &[i32] {
        match &self.data {
            Data::I32(v) => v,
            Data::F32(_) => &[],
        }
    }

    /// The same values under another shape with the same element count.
    pub(crate) fn with_shape(&self, shape: Shape) -> Tensor {
        debug_assert_eq!(shape.numel(), self.numel());
        Tensor {
            shape,
            data: self.data.clone(),
        }
    }

    pub fn into_vec(self) -> Vec<f32> {
        match self.data {
            Data::F32(v) => v,
            Data::I32(v) => v.into_iter().map(|x| x as f32).collect(),
        }
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

    #[test]
    fn int_tensors_refuse_float_access_with_a_named_error() {
        let t = Tensor::from_i32("tensor", vec![1, 2], Shape::new(vec![2])).unwrap();
        assert_eq!(t.dtype().name(), "int32");
        let e = t.f32s("exp", "x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "exp: invalid `x`: expected a float32 tensor, received an int32 tensor"
        );
        assert_eq!(t.to_f32_vec(), vec![1.0, 2.0]);
    }
}
