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
use crate::json::{json, Value};
use crate::rng::Rng;
use crate::runtime::Runtime;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};
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
        // A sequence of any length is built as length 1: the weights do not depend on it.
        let dims: Vec<usize> = input.iter().map(|d| d.unwrap_or(1)).collect();
        let out = layer.build(&dims, &mut Rng::new(seed))?;
        if layer.rng_state().is_some() || layer.params().iter().any(|p| !p.trainable) {
            return Err(Error::invalid(
                "layer",
                "spec",
                "a layer that behaves the same in training and inference (dropout and batchNorm \
                 belong in nb.sequential, whose fit runs them in training mode)",
                kind,
            ));
        }
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
            "weightNames": &self.names,
            "stateNames": &self.states,
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
    let list = match crate::json::parse(json) {
        Ok(Value::Array(list)) => list,
        _ => return Err(bad()),
    };
    if list.is_empty() {
        return Err(bad());
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Null if recurrent && i == 0 && list.len() == 2 => Ok(None),
            Value::Number(_) => match v.as_u64() {
                Some(d) if (1..1 << 31).contains(&d) => Ok(Some(d as usize)),
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
        let params = sh.layer.params_mut();
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
        // Unpacks [output, final states...] (only when there are several).
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
        let (g_parts, y_parts): (Vec<Tensor>, Vec<Tensor>);
        let (gy, g_finals) = if self.n_finals == 0 {
            (grad, &[][..])
        } else {
            g_parts = slices(grad);
            let (gy, rest) = g_parts.split_first().expect("an output");
            (gy, rest)
        };
        let y = match &recomputed {
            Some((y, _)) => y,
            None if self.n_finals == 0 => output,
            None => {
                y_parts = slices(output);
                &y_parts[0]
            }
        };
        let x = inputs[0];
        for p in sh.layer.params_mut() {
            p.grad.fill(0.0);
        }
        let mut gx = empty();
        let mut g_initial: Vec<Tensor> = (0..self.n_initial).map(|_| empty()).collect();
        let g_refs: Vec<&Tensor> = g_finals.iter().collect();
        sh.layer
            .backward_with_state(x, y, gy, &g_refs, &mut gx, &mut g_initial)?;
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

#[cfg(test)]
mod tests {
    use super::super::testing::normal;
    use super::*;
    use crate::kernels::binary::Binary;
    use crate::ops::{BinaryOp, ReduceKind, Reduction};

    /// Σᵢ Σ wᵢ·outᵢ through recorded ops (so `end_grad` differentiates it).
    fn weighted_sum(rt: &mut Runtime, outs: &[u32], ws: &[Tensor]) -> u32 {
        let mut acc: Option<u32> = None;
        for (&o, w) in outs.iter().zip(ws) {
            let wid = rt.insert(w.clone());
            let m = rt
                .run(Box::new(BinaryOp(Binary::Mul)), &[o, wid], &["a", "b"])
                .unwrap();
            let s = rt
                .run(
                    Box::new(Reduction {
                        kind: ReduceKind::Sum,
                        axes: None,
                        keep_dims: false,
                    }),
                    &[m],
                    &["x"],
                )
                .unwrap();
            acc = Some(match acc {
                None => s,
                Some(a) => rt
                    .run(Box::new(BinaryOp(Binary::Add)), &[a, s], &["a", "b"])
                    .unwrap(),
            });
        }
        acc.unwrap()
    }

    fn value(rt: &Runtime, id: u32) -> Tensor {
        (**rt.get("test", "x", id).unwrap()).clone()
    }

    /// The f64 loss Σ wᵢ·outᵢ of one application (no tape).
    fn loss_now(rt: &mut Runtime, l: &Standalone, x: u32, init: &[u32], ws: &[Tensor]) -> f64 {
        let outs = l.apply(rt, x, init).unwrap();
        let mut sum = 0.0;
        for (&o, w) in outs.iter().zip(ws) {
            let t = value(rt, o);
            sum += t
                .data()
                .iter()
                .zip(w.data())
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum::<f64>();
            rt.free(o);
        }
        sum
    }

    /// Gradients through the tape — apply, its parts, the loss ops — w.r.t. x, the
    /// initial states and every weight, against central differences on the f64 loss.
    fn check_tape(kind: &str, config: &str, input: &str, x: Tensor, with_initial: bool) {
        let mut rt = Runtime::new();
        let l = Standalone::new(&mut rt, kind, config, input, 1).unwrap();
        let batch = x.dims()[0];
        let xid = rt.insert(x.clone());
        let probe = l.apply(&mut rt, xid, &[]).unwrap();
        let ws: Vec<Tensor> = probe
            .iter()
            .enumerate()
            .map(|(i, &o)| normal(value(&rt, o).dims(), 60 + i as u64))
            .collect();
        let units = value(&rt, probe[probe.len() - 1]).dims()[1];
        probe.iter().for_each(|&o| rt.free(o));
        let init: Vec<u32> = if with_initial {
            (0..l.states.len())
                .map(|i| rt.insert(normal(&[batch, units], 30 + i as u64)))
                .collect()
        } else {
            Vec::new()
        };
        let mut vars = vec![xid];
        vars.extend(&init);
        vars.extend(l.weights());
        rt.begin_grad(&vars).unwrap();
        let outs = l.apply(&mut rt, xid, &init).unwrap();
        assert_eq!(
            outs.len(),
            1 + if l.returns_state { l.states.len() } else { 0 }
        );
        let loss = weighted_sum(&mut rt, &outs, &ws);
        let grads = rt.end_grad(loss, None, &vars).unwrap();
        for (vi, (&var, &g)) in vars.iter().zip(&grads).enumerate() {
            let g = value(&rt, g);
            let v = value(&rt, var);
            assert_eq!(g.dims(), v.dims());
            for j in 0..v.numel() {
                let v0 = v.data()[j];
                let h = 1e-2 * v0.abs().max(0.1);
                let mut at = |val: f32| {
                    rt.update("test", &[var], &[], |p, _| {
                        p[0][j] = val;
                        Ok(())
                    })
                    .unwrap();
                    loss_now(&mut rt, &l, xid, &init, &ws)
                };
                let numeric = (at(v0 + h) - at(v0 - h)) / ((v0 + h) as f64 - (v0 - h) as f64);
                at(v0);
                let analytic = g.data()[j] as f64;
                assert!(
                    (numeric - analytic).abs() <= 3e-3 * (1.0 + numeric.abs().max(analytic.abs())),
                    "{kind} {config}: variable {vi} [{j}]: analytic {analytic} vs numeric {numeric}"
                );
            }
        }
    }

    #[test]
    fn gradients_through_the_tape() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for seq in [false, true] {
                let cfg = format!(r#"{{"units":3,"returnSequences":{seq},"returnState":true}}"#);
                check_tape(kind, &cfg, "[4, 2]", normal(&[2, 4, 2], 1), true);
                check_tape(kind, &cfg, "[null, 2]", normal(&[1, 3, 2], 2), false);
            }
            // initial states without returnState
            check_tape(
                kind,
                r#"{"units":3,"goBackwards":true}"#,
                "[3, 2]",
                normal(&[2, 3, 2], 3),
                true,
            );
        }
        check_tape(
            "bidirectional",
            r#"{"layer":{"kind":"lstm","config":{"units":2,"returnState":true,"returnSequences":true}}}"#,
            "[3, 2]",
            normal(&[2, 3, 2], 4),
            true,
        );
        check_tape(
            "dense",
            r#"{"units":3,"activation":"tanh"}"#,
            "[4]",
            normal(&[2, 4], 5),
            false,
        );
        check_tape(
            "conv1d",
            r#"{"filters":2,"kernelSize":2}"#,
            "[4, 3]",
            normal(&[2, 4, 3], 6),
            false,
        );
    }

    /// A decoder stepped one step at a time, carrying its states, inside one gradient:
    /// each earlier step's backward recomputes its forward (the caches hold the last
    /// step's). Values and gradients equal one call on the whole sequence.
    #[test]
    fn stepping_equals_the_whole_sequence_with_gradients() {
        for kind in ["lstm", "gru"] {
            let (batch, time, f, units) = (2, 4, 3, 5);
            let mut rt = Runtime::new();
            let cfg = format!(r#"{{"units":{units},"returnSequences":true,"returnState":true}}"#);
            let l = Standalone::new(&mut rt, kind, &cfg, "[null, 3]", 7).unwrap();
            let x = normal(&[batch, time, f], 8);
            let n_states = l.states.len();
            let init: Vec<u32> = (0..n_states)
                .map(|i| rt.insert(normal(&[batch, units], 20 + i as u64)))
                .collect();
            let wy = normal(&[batch, time, units], 9);
            let wh = normal(&[batch, units], 10);

            // the whole sequence
            let xid = rt.insert(x.clone());
            let mut vars = vec![xid];
            vars.extend(&init);
            vars.extend(l.weights());
            rt.begin_grad(&vars).unwrap();
            let outs = l.apply(&mut rt, xid, &init).unwrap();
            let y_all = value(&rt, outs[0]);
            let loss = weighted_sum(&mut rt, &[outs[0], outs[1]], &[wy.clone(), wh.clone()]);
            let whole = rt.end_grad(loss, None, &vars).unwrap();

            // step by step
            let slice = |t: &Tensor, s: usize, width: usize| -> Tensor {
                let mut v = Vec::new();
                for b in 0..batch {
                    v.extend_from_slice(&t.data()[(b * time + s) * width..][..width]);
                }
                Tensor::new(Shape::new(vec![batch, 1, width]), v)
            };
            let xs: Vec<u32> = (0..time).map(|s| rt.insert(slice(&x, s, f))).collect();
            let mut vars = xs.clone();
            vars.extend(&init);
            vars.extend(l.weights());
            rt.begin_grad(&vars).unwrap();
            let mut state = init.clone();
            let mut terms = Vec::new();
            let mut weights = Vec::new();
            for (s, &xs_id) in xs.iter().enumerate() {
                let outs = l.apply(&mut rt, xs_id, &state).unwrap();
                let y = value(&rt, outs[0]);
                assert_eq!(y.data(), slice(&y_all, s, units).data(), "{kind} step {s}");
                terms.push(outs[0]);
                weights.push(slice(&wy, s, units));
                state = outs[1..].to_vec();
            }
            terms.push(state[0]);
            weights.push(wh.clone());
            let loss = weighted_sum(&mut rt, &terms, &weights);
            let stepped = rt.end_grad(loss, None, &vars).unwrap();

            let gx_all = value(&rt, whole[0]);
            for (s, &g) in stepped[..time].iter().enumerate() {
                let g = value(&rt, g);
                for (a, b) in g.data().iter().zip(slice(&gx_all, s, f).data()) {
                    assert!((a - b).abs() < 1e-5, "{kind}: dL/dx step {s}: {a} vs {b}");
                }
            }
            for (i, (&a, &b)) in whole[1..].iter().zip(&stepped[time..]).enumerate() {
                let (a, b) = (value(&rt, a), value(&rt, b));
                for (u, v) in a.data().iter().zip(b.data()) {
                    assert!(
                        (u - v).abs() < 1e-4 * (1.0 + u.abs()),
                        "{kind}: gradient {i}: {u} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn describe_weights_and_any_length() {
        let mut rt = Runtime::new();
        let l = Standalone::new(
            &mut rt,
            "lstm",
            r#"{"units":4,"returnSequences":true,"returnState":true}"#,
            "[null, 3]",
            1,
        )
        .unwrap();
        let d = l.describe();
        assert_eq!(d["inputShape"], json!([null, 3]));
        assert_eq!(d["outputShape"], json!([null, 4]));
        assert_eq!(
            d["weightNames"],
            json!(["kernel", "recurrentKernel", "bias"])
        );
        assert_eq!(d["stateNames"], json!(["h", "c"]));
        assert_eq!(d["returnState"], true);
        assert_eq!(value(&rt, l.weights()[1]).dims(), &[4, 16]);
        for time in [1, 7] {
            let x = rt.insert(normal(&[2, time, 3], 1));
            let outs = l.apply(&mut rt, x, &[]).unwrap();
            let dims: Vec<Vec<usize>> = outs
                .iter()
                .map(|&o| value(&rt, o).dims().to_vec())
                .collect();
            assert_eq!(dims, vec![vec![2, time, 4], vec![2, 4], vec![2, 4]]);
        }
        // the same seed gives the same weights as the layer built in a model would get
        let mut other = Runtime::new();
        let again = Standalone::new(&mut other, "lstm", r#"{"units":4}"#, "[5, 3]", 1).unwrap();
        assert_eq!(
            value(&other, again.weights()[0]).data(),
            value(&rt, l.weights()[0]).data()
        );
        assert_eq!(again.describe()["outputShape"], json!([4]));
        // no tape open: nothing is recorded, the outputs are plain tensors
        let before = rt.memory().tensors;
        let x = rt.insert(normal(&[1, 2, 3], 2));
        let outs = l.apply(&mut rt, x, &[]).unwrap();
        assert_eq!(rt.memory().tensors, before + 1 + outs.len());
        // setWeights copies values in place (same ids)
        let zeros: Vec<u32> = l
            .weights()
            .iter()
            .map(|&w| rt.insert(Tensor::zeros(value(&rt, w).shape().clone())))
            .collect();
        l.set_weights(&mut rt, &zeros).unwrap();
        let outs = l.apply(&mut rt, x, &[]).unwrap();
        assert!(value(&rt, outs[0]).data().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn errors_name_the_argument() {
        let mut rt = Runtime::new();
        let err = |rt: &mut Runtime, kind: &str, cfg: &str, shape: &str| {
            Standalone::new(rt, kind, cfg, shape, 1).err().unwrap()
        };
        let e = err(&mut rt, "lstm", r#"{"units":2}"#, "[null, 0]");
        assert_eq!(
            (e.code(), e.arg.as_str()),
            ("INVALID_ARGUMENT", "inputShape")
        );
        assert_eq!(e.received, "[null, 0]");
        assert_eq!(
            err(&mut rt, "dense", r#"{"units":2}"#, "[null]").arg,
            "inputShape"
        );
        assert_eq!(
            err(&mut rt, "dense", r#"{"units":2}"#, "[]").arg,
            "inputShape"
        );
        assert_eq!(
            err(&mut rt, "lstm", r#"{"units":2}"#, "[3]").code(),
            "SHAPE_MISMATCH"
        );
        assert_eq!(
            err(&mut rt, "lstm", r#"{"units":0}"#, "[3, 2]").arg,
            "units"
        );
        for (kind, cfg) in [("dropout", r#"{"rate":0.5}"#), ("batchNorm", "{}")] {
            let e = err(&mut rt, kind, cfg, "[3]");
            assert_eq!((e.arg.as_str(), e.received.as_str()), ("spec", kind));
        }
        let e = err(
            &mut rt,
            "gru",
            r#"{"units":2,"kernelRegularizer":{"l2":0.1}}"#,
            "[3, 2]",
        );
        assert_eq!(e.received, "gru with a regularizer on `kernel`");
        assert_eq!(
            rt.memory().tensors,
            0,
            "a failed construction leaves no tensors"
        );

        let l = Standalone::new(
            &mut rt,
            "lstm",
            r#"{"units":2,"returnState":true}"#,
            "[4, 3]",
            1,
        )
        .unwrap();
        let x = rt.insert(normal(&[2, 5, 3], 1));
        let e = l.apply(&mut rt, x, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lstm: invalid `x`: expected shape [batch, 4, 3], received shape [2, 5, 3]"
        );
        let x = rt.insert(normal(&[2, 4, 3], 1));
        let h = rt.insert(normal(&[2, 2], 1));
        let e = l.apply(&mut rt, x, &[h]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "lstm: invalid `initialState`: expected 2 tensors (h, c) or none, received 1 tensors"
        );
        let c = rt.insert(normal(&[2, 3], 1));
        let e = l.apply(&mut rt, x, &[h, c]).unwrap_err();
        assert_eq!(e.arg, "initialState[1]");
        assert_eq!(e.expected, "shape [2, 2] (c: [batch, units])");
        rt.free(c);
        let e = l.apply(&mut rt, x, &[h, c]).unwrap_err();
        assert_eq!((e.code(), e.arg.as_str()), ("DISPOSED", "initialState[1]"));
        let before = rt.memory().tensors;
        rt.free(l.weights()[1]);
        let e = l.apply(&mut rt, x, &[]).unwrap_err();
        assert_eq!(
            (e.code(), e.arg.as_str()),
            ("DISPOSED", "weights[1] (recurrentKernel)")
        );
        assert_eq!(
            rt.memory().tensors,
            before - 1,
            "a failed apply leaves no tensors"
        );

        let d = Standalone::new(&mut rt, "dense", r#"{"units":2}"#, "[3]", 1).unwrap();
        let x = rt.insert(normal(&[2, 3], 1));
        let e = d.apply(&mut rt, x, &[h]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dense: invalid `initialState`: expected none (dense has no recurrent state), received 1 tensors"
        );
        let e = d.set_weights(&mut rt, &[x]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "setWeights: invalid `weights`: expected 2 tensors (kernel, bias), received 1 tensors"
        );
        let e = d.set_weights(&mut rt, &[x, x]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "setWeights: invalid `weights[0]`: expected shape [3, 2], received shape [2, 3]"
        );
    }
}
