//! Define-by-run reverse-mode autodiff. While a tape is open, every op with an input
//! that depends on a watched tensor is recorded with its inputs and output; `backward`
//! walks the records in reverse, calling each op's backward next to its forward
//! (the `Op` trait), and accumulates gradients with `+=` so a tensor used twice needs
//! no special case.

use crate::error::{Error, Result};
use crate::kernels::binary::add_assign;
use crate::tensor::Tensor;
use std::collections::{HashMap, HashSet};
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
    tracked: HashSet<Key>,
}

impl Tape {
    pub fn new() -> Self {
        Tape::default()
    }

    /// Marks `t` as a variable to differentiate with respect to.
    pub fn watch(&mut self, t: Rc<Tensor>) {
        self.tracked.insert(key(&t));
        self.watched.push(t);
    }

    /// Records an op application if any input depends on a watched tensor.
    pub fn record(&mut self, op: Box<dyn Op>, inputs: Vec<Rc<Tensor>>, output: Rc<Tensor>) {
        if inputs.iter().any(|t| self.tracked.contains(&key(t))) {
            self.tracked.insert(key(&output));
            self.nodes.push(Node { op, inputs, output });
        }
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
        let mut grads: HashMap<Key, Tensor> = HashMap::new();
        grads.insert(key(y), start);
        for node in self.nodes.iter().rev() {
            let Some(gy) = grads.remove(&key(&node.output)) else {
                continue;
            };
            let inputs: Vec<&Tensor> = node.inputs.iter().map(|t| t.as_ref()).collect();
            let gs = node.op.backward(&inputs, &node.output, &gy)?;
            for (input, g) in node.inputs.iter().zip(gs) {
                let Some(g) = g else { continue };
                if !self.tracked.contains(&key(input)) {
                    continue;
                }
                debug_assert_eq!(g.dims(), input.dims(), "{}: gradient shape", node.op.name());
                match grads.get_mut(&key(input)) {
                    Some(acc) => add_assign(acc.data_mut(), g.data()),
                    None => {
                        grads.insert(key(input), g);
                    }
                }
            }
        }
        Ok(xs
            .iter()
            .map(|x| {
                grads
                    .get(&key(x))
                    .cloned()
                    .unwrap_or_else(|| Tensor::zeros(x.shape().clone()))
            })
            .collect())
    }
}
