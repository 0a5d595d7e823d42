//! Activation functions, shared by the `activation` layer and the layers that take an
//! `activation` option (dense, conv, recurrent). Each is built from the SIMD kernels
//! (unary, map, binary) and has its derivative next to it.
//!
//!   linear  relu  leakyRelu {alpha 0.3}  elu {alpha 1}  gelu (erf)  geluTanh  sigmoid
//!   tanh  softmax  logSoftmax (last axis)  softplus  silu

use super::Layer;
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::binary::{binary, binary_broadcast, Binary};
use crate::kernels::map::{map, select, Map};
use crate::kernels::reduce::{reduce, Reduce};
use crate::kernels::unary::{unary, unary_backward, Unary};
use crate::losses::Config;
use crate::rng::Rng;
use crate::tensor::Tensor;
use std::cell::RefCell;

thread_local! {
    // Scratch buffers for the activations that need temporaries, grown once and reused,
    // so a training step does not allocate.
    static SCRATCH: RefCell<[Vec<f32>; 3]> = const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Runs `f` with three scratch slices of lengths `n`, `n` and `rows`.
fn scratch<R>(n: usize, rows: usize, f: impl FnOnce(&mut [f32], &mut [f32], &mut [f32]) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let [a, b, c] = &mut *s;
        a.resize(a.len().max(n), 0.0);
        b.resize(b.len().max(n), 0.0);
        c.resize(c.len().max(rows), 0.0);
        f(&mut a[..n], &mut b[..n], &mut c[..rows])
    })
}

/// `out[r, :] = a[r, :] op v[r]` for rows of length `last`: the `[rows, last]` by
/// `[rows, 1]` broadcast, one row at a time so no stride tables are built (no
/// allocation); the same span kernel on the same operands, so the same values.
fn by_rows(op: Binary, a: &[f32], v: &[f32], last: usize, out: &mut [f32]) {
    if last == 0 {
        return;
    }
    for ((a, &v), out) in a.chunks_exact(last).zip(v).zip(out.chunks_exact_mut(last)) {
        binary_broadcast(op, a, &[last], &[v], &[], &[last], out);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Linear,
    Relu,
    LeakyRelu(f32),
    Elu(f32),
    Math(Unary),
    Softmax,
    LogSoftmax,
}

impl Act {
    /// Reads the activation at `key`: a name, or `{ type: "leakyRelu", alpha }`.
    pub fn from_config(cfg: &Config, key: &str) -> Result<Act> {
        let op = cfg.op;
        let names = "linear, relu, leakyRelu, elu, gelu, geluTanh, sigmoid, tanh, softmax, logSoftmax, softplus, silu";
        let bad = |v: &Value| Error::invalid(op, key, format!("one of {names}"), v.to_string());
        let Some(v) = cfg.raw(key) else {
            return Ok(Act::Linear);
        };
        let (name, opts) = match v {
            Value::String(s) => (s.as_str(), Config::from_value(op, &json!({}))?),
            Value::Object(m) => (
                m.get("type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(v))?,
                Config::from_value(op, v)?,
            ),
            _ => return Err(bad(v)),
        };
        let alpha = |d: f64| {
            opts.f64_where("alpha", d, "a finite number ≥ 0", |a| {
                a.is_finite() && a >= 0.0
            })
            .map(|a| a as f32)
        };
        Ok(match name {
            "linear" => Act::Linear,
            "relu" => Act::Relu,
            "leakyRelu" => Act::LeakyRelu(alpha(0.3)?),
            "elu" => Act::Elu(alpha(1.0)?),
            "gelu" => Act::Math(Unary::Gelu),
            "geluTanh" => Act::Math(Unary::GeluTanh),
            "sigmoid" => Act::Math(Unary::Sigmoid),
            "tanh" => Act::Math(Unary::Tanh),
            "softplus" => Act::Math(Unary::Softplus),
            "silu" => Act::Math(Unary::Silu),
            "softmax" => Act::Softmax,
            "logSoftmax" => Act::LogSoftmax,
            _ => return Err(bad(v)),
        })
    }

    pub fn to_json(self) -> Value {
        match self {
            Act::Linear => json!("linear"),
            Act::Relu => json!("relu"),
            Act::LeakyRelu(a) => json!({ "type": "leakyRelu", "alpha": a }),
            Act::Elu(a) => json!({ "type": "elu", "alpha": a }),
            Act::Math(u) => json!(u.name()),
            Act::Softmax => json!("softmax"),
            Act::LogSoftmax => json!("logSoftmax"),
        }
    }

    /// `y = act(x)`; softmax and logSoftmax act on rows of length `last` (the last axis).
    pub fn apply(self, x: &[f32], y: &mut [f32], last: usize) {
        match self {
            Act::Linear => y.copy_from_slice(x),
            Act::Relu => {
                binary_broadcast(Binary::Maximum, x, &[x.len()], &[0.0], &[], &[x.len()], y)
            }
            Act::LeakyRelu(a) => scratch(x.len(), 0, |ax, _, _| {
                // max(x, a·x) for a ≤ 1; min for a > 1 (not a leaky relu then, but defined)
                binary_broadcast(Binary::Mul, x, &[x.len()], &[a], &[], &[x.len()], ax);
                let op = if a <= 1.0 {
                    Binary::Maximum
                } else {
                    Binary::Minimum
                };
                binary(op, x, ax, y);
            }),
            Act::Elu(a) => scratch(x.len(), 0, |e, pos, _| {
                unary(Unary::Expm1, x, y);
                binary_broadcast(Binary::Mul, y, &[x.len()], &[a], &[], &[x.len()], e);
                map(Map::Step, x, pos);
                select(pos, x, e, y);
            }),
            Act::Math(u) => unary(u, x, y),
            Act::Softmax | Act::LogSoftmax => {
                let rows = x.len() / last.max(1);
                scratch(x.len(), rows, |z, e, m| {
                    reduce(Reduce::Max, x, rows, last, 1, m);
                    for v in m.iter_mut() {
                        if v.is_infinite() {
                            *v = 0.0;
                        }
                    }
                    by_rows(Binary::Sub, x, m, last, z);
                    unary(Unary::Exp, z, e);
                    reduce(Reduce::Sum, e, rows, last, 1, m); // m now holds Σ e per row
                    if self == Act::Softmax {
                        by_rows(Binary::Div, e, m, last, y);
                    } else {
                        unary(Unary::Log, m, &mut e[..rows]);
                        by_rows(Binary::Sub, z, &e[..rows], last, y);
                    }
                })
            }
        }
    }

    /// `gx = gy · act'(x)` (using `y = act(x)` where that is cheaper).
    pub fn backward(self, x: &[f32], y: &[f32], gy: &[f32], gx: &mut [f32], last: usize) {
        let n = x.len();
        match self {
            Act::Linear => gx.copy_from_slice(gy),
            Act::Relu => scratch(n, 0, |step, _, _| {
                map(Map::Step, x, step);
                binary(Binary::Mul, gy, step, gx);
            }),
            Act::LeakyRelu(a) => scratch(n, 0, |pos, slope, _| {
                // slope 1 where x > 0, else a: a + (1 − a)·step
                map(Map::Step, x, pos);
                for (s, &p) in slope.iter_mut().zip(pos.iter()) {
                    *s = if p != 0.0 { 1.0 } else { a };
                }
                binary(Binary::Mul, gy, slope, gx);
            }),
            Act::Elu(a) => scratch(n, 0, |pos, neg, _| {
                // x > 0: 1; else a·e^x = y + a
                map(Map::Step, x, pos);
                binary_broadcast(Binary::Add, y, &[n], &[a], &[], &[n], neg);
                for (p, &v) in pos.iter_mut().zip(neg.iter()) {
                    *p = if *p != 0.0 { 1.0 } else { v };
                }
                binary(Binary::Mul, gy, pos, gx);
            }),
            Act::Math(u) => unary_backward(u, x, y, gy, gx),
            Act::Softmax => {
                // gx = y·(gy − Σ gy·y)
                let rows = n / last.max(1);
                scratch(n, rows, |gyy, c, s| {
                    binary(Binary::Mul, gy, y, gyy);
                    reduce(Reduce::Sum, gyy, rows, last, 1, s);
                    by_rows(Binary::Sub, gy, s, last, c);
                    binary(Binary::Mul, y, c, gx);
                })
            }
            Act::LogSoftmax => {
                // gx = gy − e^y·Σ gy
                let rows = n / last.max(1);
                scratch(n, rows, |p, ps, s| {
                    reduce(Reduce::Sum, gy, rows, last, 1, s);
                    unary(Unary::Exp, y, p);
                    by_rows(Binary::Mul, p, s, last, ps);
                    binary(Binary::Sub, gy, ps, gx);
                })
            }
        }
    }
}

/// The `activation` layer: `{ activation }` applied elementwise (softmax on the last axis).
pub struct Activation {
    act: Act,
    shape: Vec<usize>,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&["activation"])?;
    if cfg.raw("activation").is_none() {
        return Err(Error::invalid(
            "activation",
            "activation",
            "an activation name such as \"relu\"",
            "nothing",
        ));
    }
    Ok(Box::new(Activation {
        act: Act::from_config(cfg, "activation")?,
        shape: Vec::new(),
    }))
}

impl Layer for Activation {
    fn kind(&self) -> &'static str {
        "activation"
    }

    fn config(&self) -> Value {
        json!({ "activation": self.act.to_json() })
    }

    fn build(&mut self, input: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        self.shape = input.to_vec();
        Ok(input.to_vec())
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        super::check_input("activation", x, &self.shape)?;
        y.resize(x.dims());
        let last = *x.dims().last().unwrap_or(&1);
        self.act.apply(x.data(), y.data_mut(), last);
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        gx.resize(x.dims());
        let last = *x.dims().last().unwrap_or(&1);
        self.act
            .backward(x.data(), y.data(), gy.data(), gx.data_mut(), last);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn every_activation_passes_a_gradient_check() {
        for act in [
            "linear",
            "relu",
            "sigmoid",
            "tanh",
            "softmax",
            "logSoftmax",
            "softplus",
            "silu",
            "gelu",
            "geluTanh",
            r#"{"type":"leakyRelu","alpha":0.1}"#,
            r#"{"type":"elu","alpha":0.7}"#,
        ] {
            let act = if act.starts_with('{') {
                act.to_string()
            } else {
                format!("\"{act}\"")
            };
            let cfg = format!(r#"{{"activation":{act}}}"#);
            // away from relu's kink at 0
            let mut x = normal(&[3, 5], 2);
            x.data_mut()
                .iter_mut()
                .for_each(|v| *v += if *v >= 0.0 { 0.2 } else { -0.2 });
            gradcheck("activation", &cfg, x, false, 2e-3);
        }
    }

    #[test]
    fn values() {
        let x = crate::tensor::Tensor::from_vec(
            "t",
            vec![-2.0, 0.5],
            crate::shape::Shape::new(vec![1, 2]),
        )
        .unwrap();
        let (_, y) = run(
            "activation",
            r#"{"activation":{"type":"leakyRelu","alpha":0.1}}"#,
            &x,
            false,
        );
        assert_eq!(y.data(), &[-0.2, 0.5]);
        let (_, y) = run("activation", r#"{"activation":"softmax"}"#, &x, false);
        assert!((y.data()[0] + y.data()[1] - 1.0).abs() < 1e-6);
        assert_eq!(
            super::super::make("activation", r#"{"activation":"swish"}"#)
                .err()
                .unwrap()
                .arg,
            "activation"
        );
    }
}
