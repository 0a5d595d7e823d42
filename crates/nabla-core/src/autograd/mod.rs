//! Define-by-run reverse-mode autodiff. While a tape is open, every op with an input
//! that depends on a watched tensor is recorded with its inputs and output; `backward`
//! walks the records in reverse, calling each op's backward next to its forward
//! (the `Op` trait), and accumulates gradients with `+=` so a tensor used twice needs
//! no special case.

use crate::error::{Error, Result};
use crate::kernels::binary::add_assign;
use crate::tensor::Tensor;
use std::rc::Rc;

/// A differentiable operation: forward and its derivative side by side.
pub trait Op {
    /// The public name (`add`, `matmul`), used in errors.
    fn name(&self) -> &'static str;

    /// Validates the inputs and computes the output.
    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor>;

    /// Given dL/d(output), returns dL/d(input) for each input (`None` where an input
    /// takes no gradient, e.g. integer labels). Ops without a derivative keep this default.
    fn backward(
        &self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let _ = (inputs, output, grad);
        Err(Error::no_gradient(self.name()))
    }
}

type Key = *const Tensor;

fn key(t: &Rc<Tensor>) -> Key {
    Rc::as_ptr(t)
}

struct Node {
    op: Box<dyn Op>,
    inputs: Vec<Rc<Tensor>>,
    output: Rc<Tensor>,
}

/// The record of one `grad` call. Holding `Rc`s keeps every recorded tensor alive (so
/// its address is a stable key) even if JavaScript disposes its handle meanwhile.
#[derive(Default)]
pub struct Tape {
    nodes: Vec<Node>,
    watched: Vec<Rc<Tensor>>,
    /// The watched tensors and every recorded output, sorted for binary search, with no
    /// hashing code in the .wasm; an insert shifts pointer-sized keys (a few KB for
    /// thousands of ops). In `backward` a key's position also indexes its gradient.
    tracked: Vec<Key>,
}

impl Tape {
    pub fn new() -> Self {
        Tape::default()
    }

    /// Marks `t` as a variable to differentiate with respect to.
    pub fn watch(&mut self, t: Rc<Tensor>) {
        self.track(&t);
        self.watched.push(t);
    }

    /// Records an op application if any input depends on a watched tensor.
    pub fn record(&mut self, op: Box<dyn Op>, inputs: Vec<Rc<Tensor>>, output: Rc<Tensor>) {
        if inputs.iter().any(|t| self.slot(t).is_some()) {
            self.track(&output);
            self.nodes.push(Node { op, inputs, output });
        }
    }

    fn track(&mut self, t: &Rc<Tensor>) {
        if let Err(i) = self.tracked.binary_search(&key(t)) {
            self.tracked.insert(i, key(t));
        }
    }

    /// `t`'s position in `tracked`, if it is tracked.
    fn slot(&self, t: &Rc<Tensor>) -> Option<usize> {
        self.tracked.binary_search(&key(t)).ok()
    }

    /// Recorded op applications so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// d(sum of `y`)/d`x` for each `x` in `xs` (`seed`, if given, replaces the ones:
    /// a vector-Jacobian product). An `x` that `y` does not depend on gets zeros.
    pub fn backward(
        &self,
        y: &Rc<Tensor>,
        seed: Option<&Tensor>,
        xs: &[Rc<Tensor>],
    ) -> Result<Vec<Tensor>> {
        let start = match seed {
            Some(s) => {
                if s.dims() != y.dims() {
                    return Err(Error::shape(
                        "grad",
                        "dy",
                        format!("the shape of the result, {}", y.shape()),
                        format!("shape {}", s.shape()),
                    ));
                }
                s.clone()
            }
            None => Tensor::full(y.shape().clone(), 1.0),
        };
        let zeros = |x: &Rc<Tensor>| Tensor::zeros(x.shape().clone());
        let Some(top) = self.slot(y) else {
            // `y` depends on no watched tensor. (An `x` can still be `y` itself: an
            // argument replaced in place by an optimizer step inside `f`, then returned.)
            return Ok(xs
                .iter()
                .map(|x| {
                    if Rc::ptr_eq(x, y) {
                        start.clone()
                    } else {
                        zeros(x)
                    }
                })
                .collect());
        };
        // By position in `tracked`.
        let mut grads: Vec<Option<Tensor>> = Vec::new();
        grads.resize_with(self.tracked.len(), || None);
        grads[top] = Some(start);
        for node in self.nodes.iter().rev() {
            let Some(gy) = self.slot(&node.output).and_then(|i| grads[i].take()) else {
                continue;
            };
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|t| t.as_ref()).collect();
            let gs = node.op.backward(&inputs, &node.output, &gy)?;
            for (input, g) in node.inputs.iter().zip(gs) {
                let (Some(g), Some(i)) = (g, self.slot(input)) else {
                    continue;
                };
                debug_assert_eq!(g.dims(), input.dims(), "{}: gradient shape", node.op.name());
                match &mut grads[i] {
                    Some(acc) => add_assign(acc.data_mut(), g.data()),
                    empty => *empty = Some(g),
                }
            }
        }
        Ok(xs
            .iter()
            .map(|x| match self.slot(x).and_then(|i| grads[i].as_ref()) {
                Some(g) => g.clone(),
                None => zeros(x),
            })
            .collect())
    }
}
