//! A layer on its own, outside a model (`nb.layer(spec, { inputShape, seed })`): its
//! parameters are runtime tensors the caller holds, so `grad` and the optimizers treat
//! them like any tensor, and each `apply` is one op on the autograd tape with inputs
//! `[x, initial states..., weights...]`. This is how recurrent layers give their final
//! states (`returnState`) and take `initialState`: encoder–decoder models and generation
//! step by step, trained with a custom loop.
//!
//! Several outputs (`[output, final states...]`) are recorded as one op whose output packs
//! their values end to end, and one `Part` op per output that slices it out; a part's
//! backward scatters its gradient into zeros and the tape's `+=` sums the parts into the
//! packed gradient. The tape itself stays single-output.
//!
//! A layer keeps the caches of its last forward for backward. When one layer is applied
//! several times inside one `grad` (a decoder stepped in a loop), an earlier application
//! finds the caches overwritten: its backward first runs its forward again from the
//! inputs the tape kept (recomputation: one extra forward per such application).
//!
//! The layer runs as at inference. Layers that behave differently in training (dropout,
//! batchNorm) and regularizers (a penalty the op's output cannot carry) are refused.

use super::{make, Layer};
use crate::autograd::Op;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::runtime::Runtime;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub struct Standalone {
    shared: Rc<RefCell<Shared>>,
    kind: &'static str,
    /// Per-sample input and output shapes; `None`: any length (a recurrent time axis).
    input: Vec<Option<usize>>,
    output: Vec<Option<usize>>,
    names: Vec<&'static str>,
    states: Vec<&'static str>,
    returns_state: bool,
    /// The runtime tensors holding the parameters, in `params` order.
    weights: Vec<u32>,
}

struct Shared {
    layer: Box<dyn Layer>,
    /// The application whose caches the layer holds (0: none), and the last number given.
    current: u64,
    last: u64,
}

fn empty() -> Tensor {
    Tensor::zeros(Shape::new(vec![]))
}

/// `[batch, 5, 3]`, or `[batch, time, 3]` for an axis of any length.
fn pattern(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("time".to_string(), |d| d.to_string()))
        .collect();
    format!("[batch, {}]", parts.join(", "))
}

fn shape_json(dims: &[Option<usize>]) -> Value {
    Value::Array(
        dims.iter()
            .map(|d| d.map_or(Value::Null, |d| json!(d)))
            .collect(),
    )
}

impl Standalone {
    /// Makes `kind` from its JSON config and builds it for samples of `input_shape` (JSON:
    /// positive integers without the batch axis; `null` as the time axis of a recurrent
    /// layer for sequences of any length), initialized from `seed`. The parameters become
    /// runtime tensors (`weights`).
    pub fn new(
        rt: &mut Runtime,
        kind: &str,
        config: &str,
        input_shape: &str,
        seed: u64,
    ) -> Result<Standalone> {
        let mut layer = make(kind, config)?;
        let kind = layer.kind();
        let recurrent = !layer.state_names().is_empty();
        let input = parse_shape(input_shape, recurrent)?;
        if layer.rng_state().is_some() || layer.params().iter().any(|p| !p.trainable) {
            return Err(Error::invalid(
                "layer",
                "spec",
                "a layer that behaves the same in training and inference (dropout and batchNorm \
                 belong in nb.sequential, whose fit runs them in training mode)",
                kind,
            ));
        }
        // A sequence of any length is built as length 1: the weights do not depend on it.
        let dims: Vec<usize> = input.iter().map(|d| d.unwrap_or(1)).collect();
        let out = layer.build(&dims, &mut Rng::new(seed))?;
        if let Some(p) = layer.params().iter().find(|p| p.regularizer.is_some()) {
            return Err(Error::invalid(
                "layer",
                "spec",
                "a layer without regularizers (nb.layer's outputs carry no penalty: add it to \
                 your loss)",
                format!("{kind} with a regularizer on `{}`", p.name),
            ));
        }
        let any_time = input[0].is_none();
        let output = out
            .iter()
            .enumerate()
            // a recurrent output with a time axis is [time, units]
            .map(|(i, &d)| (!(any_time && i == 0 && out.len() == 2)).then_some(d))
            .collect();
        let names = layer.params().iter().map(|p| p.name).collect();
        let weights = layer
            .params()
            .iter()
            .map(|p| rt.insert(p.value.clone()))
            .collect();
        Ok(Standalone {
            kind,
            input,
            output,
            names,
            states: layer.state_names(),
            returns_state: layer.returns_state(),
            weights,
            shared: Rc::new(RefCell::new(Shared {
                layer,
                current: 0,
                last: 0,
            })),
        })
    }

    /// The runtime tensors of the parameters, in the layer's order (`describe`'s names).
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// `{ kind, config, inputShape, outputShape, weightNames, stateNames, returnState }`.
    pub fn describe(&self) -> Value {
        json!({
            "kind": self.kind,
            "config": self.shared.borrow().layer.config(),
            "inputShape": shape_json(&self.input),
            "outputShape": shape_json(&self.output),
            "weightNames": self.names,
            "stateNames": self.states,
            "returnState": self.returns_state,
        })
    }

    /// Replaces the parameters' values with copies of `values` (same order and shapes).
    pub fn set_weights(&self, rt: &mut Runtime, values: &[u32]) -> Result<()> {
        if values.len() != self.weights.len() {
            return Err(Error::shape(
                "setWeights",
                "weights",
                format!("{} tensors ({})", self.weights.len(), self.names.join(", ")),
                format!("{} tensors", values.len()),
            ));
        }
        rt.assign("setWeights", "weights", &self.weights, values)
    }

    /// `layer(x)` from the states `initial` (none: zeros), recorded on the open tape.
    /// Returns the output's id, then the final states' with `returnState`.
    pub fn apply(&self, rt: &mut Runtime, x: u32, initial: &[u32]) -> Result<Vec<u32>> {
        let op = self.kind;
        let xt = rt.get(op, "x", x)?;
        let d = xt.dims();
        let fits = d.len() == self.input.len() + 1
            && d[1..]
                .iter()
                .zip(&self.input)
                .all(|(&got, want)| want.map_or(got >= 1, |w| w == got));
        if !fits {
            return Err(Error::shape(
                op,
                "x",
                format!("shape {}", pattern(&self.input)),
                format!("shape {}", xt.shape()),
            ));
        }
        if !initial.is_empty() && self.states.is_empty() {
            return Err(Error::invalid(
                op,
                "initialState",
                format!("none ({op} has no recurrent state)"),
                format!("{} tensors", initial.len()),
            ));
        }
        let mut ids = vec![x];
        ids.extend_from_slice(initial);
        ids.extend_from_slice(&self.weights);
        let mut args = vec!["x".to_string()];
        args.extend((0..initial.len()).map(|i| format!("initialState[{i}]")));
        args.extend(
            self.names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("weights[{i}] ({n})")),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let dims = Rc::new(RefCell::new(Vec::new()));
        let n_finals = if self.returns_state {
            self.states.len()
        } else {
            0
        };
        let apply = Apply {
            shared: self.shared.clone(),
            kind: op,
            n_initial: initial.len(),
            n_finals,
            id: Cell::new(0),
            dims: dims.clone(),
        };
        let packed = rt.run(Box::new(apply), &ids, &args)?;
        if n_finals == 0 {
            return Ok(vec![packed]);
        }
        let mut out = Vec::with_capacity(1 + n_finals);
        let mut offset = 0;
        for d in dims.borrow().iter() {
            let part = Part {
                offset,
                dims: d.clone(),
            };
            offset += part.numel();
            match rt.run(Box::new(part), &[packed], &["output"]) {
                Ok(id) => out.push(id),
                Err(e) => {
                    out.iter().chain([&packed]).for_each(|&id| rt.free(id));
                    return Err(e);
                }
            }
        }
        // The tape (if open) keeps the packed values; nothing else needs them.
        rt.free(packed);
        Ok(out)
    }
}

/// `inputShape` from JSON: positive integers; `null` only as a recurrent time axis.
fn parse_shape(json: &str, recurrent: bool) -> Result<Vec<Option<usize>>> {
    let expected = if recurrent {
        "the shape of one sample without the batch axis, [time, features] (time null: any length)"
    } else {
        "the shape of one sample without the batch axis: positive integers"
    };
    let bad = || Error::invalid("layer", "inputShape", expected, json.to_string());
    let list: Vec<Value> = serde_json::from_str(json).map_err(|_| bad())?;
    if list.is_empty() {
        return Err(bad());
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Null if recurrent && i == 0 && list.len() == 2 => Ok(None),
            Value::Number(n) => match n.as_u64() {
                Some(d) if d >= 1 && d < 1 << 31 => Ok(Some(d as usize)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        })
        .collect()
}

/// One application of the layer: `[x, initial states..., weights...]` → the output, or
/// with `n_finals` the output and the final states packed end to end.
struct Apply {
    shared: Rc<RefCell<Shared>>,
    kind: &'static str,
    n_initial: usize,
    n_finals: usize,
    /// This application's number (`Shared::current` while the caches are its own).
    id: Cell<u64>,
    /// The dimensions of each output, set by forward.
    dims: Rc<RefCell<Vec<Vec<usize>>>>,
}

impl Apply {
    /// Loads the weights into the layer and runs forward; (output, final states).
    fn run(&self, sh: &mut Shared, inputs: &[&Tensor]) -> Result<(Tensor, Vec<Tensor>)> {
        let (x, rest) = inputs.split_first().expect("x first");
        let (initial, weights) = rest.split_at(self.n_initial);
        let mut params = sh.layer.params_mut();
        if weights.len() != params.len() {
            return Err(Error::shape(
                self.kind,
                "weights",
                format!("{} tensors", params.len()),
                format!("{} tensors", weights.len()),
            ));
        }
        for (i, (p, w)) in params.iter().zip(weights).enumerate() {
            let arg = format!("weights[{i}] ({})", p.name);
            if p.value.dims() != w.dims() {
                return Err(Error::shape(
                    self.kind,
                    arg,
                    format!("shape {}", p.value.shape()),
                    format!("shape {}", w.shape()),
                ));
            }
            w.f32s(self.kind, &arg)?;
        }
        for (p, w) in params.iter_mut().zip(weights) {
            p.value.data_mut().copy_from_slice(w.data());
        }
        sh.current = 0;
        let mut y = empty();
        let mut finals: Vec<Tensor> = (0..self.n_finals).map(|_| empty()).collect();
        sh.layer
            .forward_with_state(x, initial, &mut y, &mut finals, false)?;
        Ok((y, finals))
    }
}

impl Op for Apply {
    fn name(&self) -> &'static str {
        self.kind
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let mut sh = self.shared.borrow_mut();
        let (y, finals) = self.run(&mut sh, inputs)?;
        sh.last += 1;
        sh.current = sh.last;
        self.id.set(sh.last);
        let mut dims = self.dims.borrow_mut();
        dims.clear();
        dims.push(y.dims().to_vec());
        dims.extend(finals.iter().map(|t| t.dims().to_vec()));
        if finals.is_empty() {
            return Ok(y);
        }
        let mut packed =
            Vec::with_capacity(y.numel() + finals.iter().map(Tensor::numel).sum::<usize>());
        for t in std::iter::once(&y).chain(&finals) {
            packed.extend_from_slice(t.data());
        }
        let n = packed.len();
        Ok(Tensor::new(Shape::new(vec![n]), packed))
    }

    fn backward(
        &self,
        inputs: &[&Tensor],
        output: &Tensor,
        grad: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let mut sh = self.shared.borrow_mut();
        // Another application overwrote the caches: rebuild them from this one's inputs.
        let recomputed = if sh.current != self.id.get() {
            let r = self.run(&mut sh, inputs)?;
            sh.current = self.id.get();
            Some(r)
        } else {
            None
        };
        let dims = self.dims.borrow();
        let slices = |t: &Tensor| -> Vec<Tensor> {
            let mut offset = 0;
            dims.iter()
                .map(|d| {
                    let n: usize = d.iter().product();
                    let part = t.data()[offset..offset + n].to_vec();
                    offset += n;
                    Tensor::new(Shape::new(d.clone()), part)
                })
                .collect()
        };
        let (gy, g_finals) = if self.n_finals == 0 {
            (grad.clone(), Vec::new())
        } else {
            let mut parts = slices(grad);
            let gy = parts.remove(0);
            (gy, parts)
        };
        let y = match (&recomputed, self.n_finals) {
            (Some((y, _)), _) => y.clone(),
            (None, 0) => output.clone(),
            (None, _) => slices(output).swap_remove(0),
        };
        let x = inputs[0];
        for p in sh.layer.params_mut() {
            p.grad.fill(0.0);
        }
        let mut gx = empty();
        let mut g_initial: Vec<Tensor> = (0..self.n_initial).map(|_| empty()).collect();
        let g_refs: Vec<&Tensor> = g_finals.iter().collect();
        sh.layer
            .backward_with_state(x, &y, &gy, &g_refs, &mut gx, &mut g_initial)?;
        let mut out = Vec::with_capacity(inputs.len());
        // integer inputs (embedding ids) take no gradient
        out.push((x.dtype() == DType::F32).then_some(gx));
        out.extend(g_initial.into_iter().map(Some));
        out.extend(
            sh.layer
                .params()
                .iter()
                .map(|p| Some(Tensor::new(p.value.shape().clone(), p.grad.clone()))),
        );
        Ok(out)
    }
}

/// One output of a packed multi-output op: the `dims`-shaped values at `offset`.
struct Part {
    offset: usize,
    dims: Vec<usize>,
}

impl Part {
    fn numel(&self) -> usize {
        self.dims.iter().product()
    }
}

impl Op for Part {
    fn name(&self) -> &'static str {
        "apply"
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let values = &inputs[0].data()[self.offset..self.offset + self.numel()];
        Ok(Tensor::new(Shape::new(self.dims.clone()), values.to_vec()))
    }

    /// d(part)/d(packed) scatters: zeros but for this part's slice.
    fn backward(
        &self,
        inputs: &[&Tensor],
        _output: &Tensor,
        grad: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let mut g = Tensor::zeros(inputs[0].shape().clone());
        g.data_mut()[self.offset..self.offset + self.numel()].copy_from_slice(grad.data());
        Ok(vec![Some(g)])
    }
}
