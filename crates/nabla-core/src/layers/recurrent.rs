//! `simpleRnn`, `lstm` and `gru` over sequences `[batch, time, features]`, with gates in
//! PyTorch's order and one GEMM per time step.
//!
//! Options (all three): `units` (required), `activation` ("tanh"), `useBias` (true),
//! `returnSequences` (false: output `[batch, units]`, the last state; true:
//! `[batch, time, units]`), `returnState` (false; true: the outputs are `[output, h]`, lstm
//! `[output, h, c]`, as Keras — for the layer used on its own, `nb.layer` (standalone.rs);
//! a Sequential model, one output per layer, refuses it), `goBackwards` (false:
//! Keras's option; reads the sequence from the last step, and with `returnSequences`
//! the outputs come in that processing order, as Keras does), `kernelInitializer`
//! ("glorotUniform"), `recurrentInitializer` ("orthogonal"), `biasInitializer`
//! ("zeros"), `kernelRegularizer`, `recurrentRegularizer`, `biasRegularizer`
//! (`{ l1, l2 }`). lstm and gru: `recurrentActivation` ("sigmoid"). lstm:
//! `unitForgetBias` (true: the forget-gate block of the bias starts at 1, as Keras).
//!
//! Parameters (H = units, in = features; x·W with W `[in, ·]` as dense does):
//!
//!   simpleRnn  kernel [in, H]            = torch weight_ih_l0ᵀ
//!              recurrentKernel [H, H]    = torch weight_hh_l0ᵀ
//!              bias [H]                  = torch bias_ih_l0 + bias_hh_l0
//!              h' = act(x·W + h·U + b)
//!   lstm       kernel [in, 4H]           = torch weight_ih_l0ᵀ
//!              recurrentKernel [H, 4H]   = torch weight_hh_l0ᵀ
//!              bias [4H]                 = torch bias_ih_l0 + bias_hh_l0
//!              column blocks of H in torch's (and Keras's) order i, f, g, o:
//!              [i f g o] = x·W + h·U + b; i, f, o = recAct(·); g = act(·)
//!              c' = f⊙c + i⊙g;  h' = o⊙act(c')
//!   gru        kernel [in, 3H]           = torch weight_ih_l0ᵀ
//!              recurrentKernel [H, 3H]   = torch weight_hh_l0ᵀ
//!              bias [3H]                 = torch bias_ih_l0   (b_i)
//!              recurrentBias [3H]        = torch bias_hh_l0   (b_h)
//!              column blocks in torch's order r, z, n:
//!              a = x·W + b_i;  u = h·U + b_h
//!              r = recAct(a_r + u_r);  z = recAct(a_z + u_z);  n = act(a_n + r⊙u_n)
//!              h' = (1 − z)⊙n + z⊙h
//!              Both biases are kept because b_hn sits inside r⊙(·): they cannot be summed
//!              (this is Keras's `resetAfter: true` GRU, whose bias `[2, 3H]` is
//!              [bias; recurrentBias]).
//! States: h (simpleRnn, gru) or h, c (lstm), each `[batch, H]`. The initial state is
//! zero unless given (`forward_with_state`: Keras's `initialState`, torch's h_0 / c_0);
//! the final states are those after the last step in processing order (with
//! `goBackwards`, after the sequence's first step), so carrying them into the next call
//! continues the sequence. Backward takes dL/d(final states) and gives dL/d(initial
//! states). A layer takes sequences of any length ≥ 1, whatever it was built for (its
//! weights do not depend on the length; a model checks its own input shape).
//! Torch with `batch_first=True` takes the same `[batch, time, features]` input; its
//! output `[batch, time, H]` is our `returnSequences` output, `h_n[0]` our default one
//! and our final h (`c_n[0]` our final c).
//!
//! Masking (NOTE: implicit, as a Keras `Masking({ maskValue: 0 })` layer in front): a
//! time step whose input vector is all zeros, for one sample, is skipped: the state
//! (h, and c for lstm) carries through unchanged, and with `returnSequences` that
//! step's output is zeros. Without `returnSequences` the output is the last state, so
//! trailing padding returns the state after the last real step. dL/dx is 0 on masked
//! steps. To feed real all-zero vectors, shift the features. A fully masked sample's
//! final states are its initial ones.
//!
//! Performance: the input is copied time-major in processing order; its projection for
//! all steps is one GEMM `[time·batch, in]·[in, gates·H]` into the pre-activation
//! buffer; each step adds `h·U` to its `[batch, gates·H]` slice with one GEMM and applies
//! the gate nonlinearities with the SIMD unary kernels and the cell arithmetic with
//! `kernels::recurrent` (built for speed, while this crate is built for size). Every
//! step's pre-activations, activations and states stay in buffers for backpropagation
//! through time. Backward walks the steps in reverse: fused gate derivatives, one GEMM
//! `dGates·Uᵀ` per step, then one GEMM each for `dW = xᵀ·dGates`, `dU = hᵀ·dGates` and
//! `dx = dGates·Wᵀ` over all steps. Buffers grow once and are reused: no allocation per
//! step.

use super::activation::Act;
use super::init::Init;
use super::{Layer, Param, Regularizer};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::binary::{add_assign, add_column_sums};
use crate::kernels::recurrent::*;
use crate::kernels::unary::Unary;
use crate::kernels::{gemm, MatRef};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Rnn,
    Lstm,
    Gru,
}

impl Cell {
    fn name(self) -> &'static str {
        match self {
            Cell::Rnn => "simpleRnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }

    /// Gate blocks of H columns in the kernels.
    fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

pub struct Recurrent {
    cell: Cell,
    units: usize,
    act: Act,
    rec_act: Act,
    use_bias: bool,
    return_sequences: bool,
    return_state: bool,
    go_backwards: bool,
    unit_forget_bias: bool,
    kernel_init: Init,
    recurrent_init: Init,
    bias_init: Init,
    kernel_reg: Option<Regularizer>,
    recurrent_reg: Option<Regularizer>,
    bias_reg: Option<Regularizer>,
    /// `[time, features]` it was built for (forward takes any time ≥ 1).
    input: Vec<usize>,
    /// kernel, recurrentKernel, then bias and (gru) recurrentBias when `useBias`.
    params: Vec<Param>,
    c: Cache,
}

/// Buffers kept between steps. Rows are time-major in processing order: row `s·batch + b`
/// is sample b at processing step s.
#[derive(Default)]
struct Cache {
    /// (batch, time) of the last forward (backward needs its caches).
    shape: Option<(usize, usize)>,
    /// Whether the last forward started from given states (not zeros).
    initial: bool,
    /// Input `[time·batch, in]`.
    xt: Vec<f32>,
    /// Whether each row is a masked (all-zero) step, and whether any is.
    mask: Vec<bool>,
    any_masked: bool,
    /// Gate pre-activations `[time·batch, G]` (G = gates·H), then their activations.
    pre: Vec<f32>,
    act: Vec<f32>,
    /// States `[(time + 1)·batch, H]`, block 0 the initial state.
    hs: Vec<f32>,
    /// lstm: cells like `hs`, and act(c) `[time·batch, H]`.
    cs: Vec<f32>,
    ac: Vec<f32>,
    /// gru: h·U + b_h `[time·batch, G]`.
    hu: Vec<f32>,
    /// dL/d(pre) `[time·batch, G]`; gru: dL/d(h·U + b_h) too.
    dg: Vec<f32>,
    dgh: Vec<f32>,
    /// dL/dh into the current step and into the previous one; lstm: dL/dc; scratch.
    dh: Vec<f32>,
    dh_prev: Vec<f32>,
    dc: Vec<f32>,
    t1: Vec<f32>,
    t2: Vec<f32>,
    /// dL/d(activated gates) of one step `[batch, G]`.
    da: Vec<f32>,
    /// dL/dx time-major `[time·batch, in]`.
    dxt: Vec<f32>,
}

pub fn build_simple_rnn(cfg: &Config) -> Result<Box<dyn Layer>> {
    build_cell(cfg, Cell::Rnn)
}

pub fn build_lstm(cfg: &Config) -> Result<Box<dyn Layer>> {
    build_cell(cfg, Cell::Lstm)
}

pub fn build_gru(cfg: &Config) -> Result<Box<dyn Layer>> {
    build_cell(cfg, Cell::Gru)
}

fn build_cell(cfg: &Config, cell: Cell) -> Result<Box<dyn Layer>> {
    let mut keys = vec![
        "units",
        "activation",
        "useBias",
        "returnSequences",
        "returnState",
        "goBackwards",
        "kernelInitializer",
        "recurrentInitializer",
        "biasInitializer",
        "kernelRegularizer",
        "recurrentRegularizer",
        "biasRegularizer",
    ];
    if cell != Cell::Rnn {
        keys.push("recurrentActivation");
    }
    if cell == Cell::Lstm {
        keys.push("unitForgetBias");
    }
    cfg.check_keys(&keys)?;
    let units = cfg.f64_where("units", f64::NAN, "a positive integer", |u| {
        u.is_finite() && u >= 1.0 && u.fract() == 0.0 && u < 1e9
    })?;
    let act_or = |key: &str, default: Unary| -> Result<Act> {
        if cfg.raw(key).is_some() {
            Act::from_config(cfg, key)
        } else {
            Ok(Act::Math(default))
        }
    };
    Ok(Box::new(Recurrent {
        cell,
        units: units as usize,
        act: act_or("activation", Unary::Tanh)?,
        rec_act: act_or("recurrentActivation", Unary::Sigmoid)?,
        use_bias: cfg.bool("useBias", true)?,
        return_sequences: cfg.bool("returnSequences", false)?,
        return_state: cfg.bool("returnState", false)?,
        go_backwards: cfg.bool("goBackwards", false)?,
        unit_forget_bias: cfg.bool("unitForgetBias", true)?,
        kernel_init: Init::from_config(cfg, "kernelInitializer", Init::GlorotUniform)?,
        recurrent_init: Init::from_config(cfg, "recurrentInitializer", Init::Orthogonal)?,
        bias_init: Init::from_config(cfg, "biasInitializer", Init::Constant(0.0))?,
        kernel_reg: Regularizer::from_config(cfg, "kernelRegularizer")?,
        recurrent_reg: Regularizer::from_config(cfg, "recurrentRegularizer")?,
        bias_reg: Regularizer::from_config(cfg, "biasRegularizer")?,
        input: Vec::new(),
        params: Vec::new(),
        c: Cache::default(),
    }))
}

fn reg_json(r: Option<Regularizer>) -> Value {
    r.map_or(Value::Null, |r| json!({ "l1": r.l1, "l2": r.l2 }))
}

/// A batch of sequences `[batch, time ≥ 1, features]` (any length: the weights do not
/// depend on it); returns (batch, time).
pub(super) fn check_sequence(
    op: &'static str,
    x: &Tensor,
    features: usize,
) -> Result<(usize, usize)> {
    match *x.dims() {
        [batch, time, f] if time >= 1 && f == features => {
            x.f32s(op, "input")?;
            Ok((batch, time))
        }
        _ => Err(Error::shape(
            op,
            "input",
            format!("shape [batch, time, {features}] with time ≥ 1"),
            format!("shape {}", x.shape()),
        )),
    }
}

/// Checks a list of states against `names` (none, or one `[batch, units]` each).
pub(super) fn check_states(
    op: &'static str,
    arg: &str,
    states: &[&Tensor],
    names: &[&str],
    batch: usize,
    units: usize,
) -> Result<()> {
    if !states.is_empty() && states.len() != names.len() {
        let n = names.len();
        return Err(Error::shape(
            op,
            arg,
            format!(
                "{n} tensor{} ({}) or none",
                if n == 1 { "" } else { "s" },
                names.join(", ")
            ),
            format!("{} tensors", states.len()),
        ));
    }
    for (i, (t, name)) in states.iter().zip(names).enumerate() {
        if t.dims() != [batch, units] {
            return Err(Error::shape(
                op,
                format!("{arg}[{i}]"),
                format!("shape [{batch}, {units}] ({name}: [batch, units])"),
                format!("shape {}", t.shape()),
            ));
        }
        t.f32s(op, &format!("{arg}[{i}]"))?;
    }
    Ok(())
}

impl Recurrent {
    /// The output shape, `[batch, time, units]` (returnSequences) or `[batch, units]`,
    /// as an array and its rank: `&dims[..rank]` (no list built per step).
    fn output_dims(&self, batch: usize, time: usize) -> ([usize; 3], usize) {
        if self.return_sequences {
            ([batch, time, self.units], 3)
        } else {
            ([batch, self.units, 0], 2)
        }
    }

    fn names(&self) -> &'static [&'static str] {
        if self.cell == Cell::Lstm {
            &["h", "c"]
        } else {
            &["h"]
        }
    }
}

impl Layer for Recurrent {
    fn kind(&self) -> &'static str {
        self.cell.name()
    }

    fn config(&self) -> Value {
        let mut v = json!({
            "units": self.units,
            "activation": self.act.to_json(),
            "useBias": self.use_bias,
            "returnSequences": self.return_sequences,
            "returnState": self.return_state,
            "goBackwards": self.go_backwards,
        });
        let m = v.as_object_mut().expect("an object");
        if self.cell != Cell::Rnn {
            m.insert("recurrentActivation".into(), self.rec_act.to_json());
        }
        if self.cell == Cell::Lstm {
            m.insert("unitForgetBias".into(), json!(self.unit_forget_bias));
        }
        for (k, r) in [
            ("kernelRegularizer", self.kernel_reg),
            ("recurrentRegularizer", self.recurrent_reg),
            ("biasRegularizer", self.bias_reg),
        ] {
            if r.is_some() {
                m.insert(k.into(), reg_json(r));
            }
        }
        v
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let op = self.cell.name();
        let &[time, fan_in] = input else {
            return Err(Error::shape(
                op,
                "input",
                "a shape [batch, time, features]",
                format!("per-sample shape {}", Shape::new(input.to_vec())),
            ));
        };
        if time == 0 || fan_in == 0 {
            return Err(Error::shape(
                op,
                "input",
                "a shape [batch, time, features] with time ≥ 1 and features ≥ 1",
                format!("per-sample shape {}", Shape::new(input.to_vec())),
            ));
        }
        let (h, g) = (self.units, self.cell.gates() * self.units);
        let kernel = self.kernel_init.values(&[fan_in, g], fan_in, g, rng);
        let recurrent = self.recurrent_init.values(&[h, g], h, g, rng);
        let mut k = Param::new(
            "kernel",
            Tensor::new(Shape::new(vec![fan_in, g]), kernel),
            true,
        );
        k.regularizer = self.kernel_reg;
        let mut u = Param::new(
            "recurrentKernel",
            Tensor::new(Shape::new(vec![h, g]), recurrent),
            true,
        );
        u.regularizer = self.recurrent_reg;
        let mut params = vec![k, u];
        if self.use_bias {
            let mut b = self.bias_init.values(&[g], fan_in, g, rng);
            if self.cell == Cell::Lstm && self.unit_forget_bias {
                b[h..2 * h].fill(1.0);
            }
            let mut b = Param::new("bias", Tensor::new(Shape::new(vec![g]), b), true);
            b.regularizer = self.bias_reg;
            params.push(b);
            if self.cell == Cell::Gru {
                let rb = self.bias_init.values(&[g], fan_in, g, rng);
                let mut rb =
                    Param::new("recurrentBias", Tensor::new(Shape::new(vec![g]), rb), true);
                rb.regularizer = self.bias_reg;
                params.push(rb);
            }
        }
        self.params = params;
        self.input = input.to_vec();
        self.c.shape = None;
        let (dims, rank) = self.output_dims(0, time);
        Ok(dims[1..rank].to_vec())
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn state_names(&self) -> Vec<&'static str> {
        self.names().to_vec()
    }

    fn returns_state(&self) -> bool {
        self.return_state
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, training: bool) -> Result<()> {
        self.forward_with_state(x, &[], y, &mut [], training)
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        self.backward_with_state(x, y, gy, &[], gx, &mut [])
    }

    fn forward_with_state(
        &mut self,
        x: &Tensor,
        initial: &[&Tensor],
        y: &mut Tensor,
        finals: &mut [Tensor],
        _training: bool,
    ) -> Result<()> {
        let op = self.cell.name();
        if self.input.is_empty() {
            return Err(Error::state(
                op,
                "a built layer (build before forward)",
                "an unbuilt layer",
            ));
        }
        let (batch, time) = check_sequence(op, x, self.input[1])?;
        check_states(op, "initialState", initial, self.names(), batch, self.units)?;
        if !finals.is_empty() && finals.len() != self.names().len() {
            return Err(Error::shape(
                op,
                "finalState",
                format!("{} tensors or none", self.names().len()),
                format!("{} tensors", finals.len()),
            ));
        }
        let (dims, rank) = self.output_dims(batch, time);
        let out_dims = &dims[..rank];
        let Recurrent {
            cell,
            units: h,
            act,
            rec_act,
            use_bias,
            return_sequences,
            go_backwards,
            params,
            c,
            ..
        } = self;
        let (cell, h, act, rec_act, use_bias) = (*cell, *h, *act, *rec_act, *use_bias);
        let f = self.input[1];
        let g = cell.gates() * h;
        let (n, bh, bg) = (time * batch, batch * h, batch * g);

        // Time-major input in processing order, and the mask.
        c.xt.resize(n * f, 0.0);
        c.mask.resize(n, false);
        c.any_masked = false;
        let xd = x.data();
        for s in 0..time {
            let t = if *go_backwards { time - 1 - s } else { s };
            for b in 0..batch {
                let src = &xd[(b * time + t) * f..][..f];
                c.xt[(s * batch + b) * f..][..f].copy_from_slice(src);
                let m = src.iter().all(|&v| v == 0.0);
                c.mask[s * batch + b] = m;
                c.any_masked |= m;
            }
        }

        // Input projection of every step in one GEMM (plus the input bias).
        c.pre.resize(n * g, 0.0);
        if use_bias {
            for row in c.pre.chunks_exact_mut(g) {
                row.copy_from_slice(params[2].value.data());
            }
        }
        gemm(
            MatRef::row_major(&c.xt, n, f),
            MatRef::row_major(params[0].value.data(), f, g),
            &mut c.pre,
            use_bias,
        );

        c.act.resize(n * g, 0.0);
        c.hs.resize(n * h + bh, 0.0);
        c.initial = !initial.is_empty();
        match initial.first() {
            Some(h0) => c.hs[..bh].copy_from_slice(h0.data()),
            None => c.hs[..bh].fill(0.0),
        }
        if cell == Cell::Lstm {
            c.cs.resize(n * h + bh, 0.0);
            match initial.get(1) {
                Some(c0) => c.cs[..bh].copy_from_slice(c0.data()),
                None => c.cs[..bh].fill(0.0),
            }
            c.ac.resize(n * h, 0.0);
        }
        // h·U vanishes at the first step only from the zero state.
        let first_gemm = c.initial;
        if cell == Cell::Gru {
            c.hu.resize(n * g, 0.0);
        }
        let u = MatRef::row_major(params[1].value.data(), h, g);
        for s in 0..time {
            let (done, next) = c.hs.split_at_mut((s + 1) * bh);
            let (h_prev, h_new) = (&done[s * bh..], &mut next[..bh]);
            let pre = &mut c.pre[s * bg..][..bg];
            let a = &mut c.act[s * bg..][..bg];
            match cell {
                Cell::Rnn => {
                    if s > 0 || first_gemm {
                        gemm(MatRef::row_major(h_prev, batch, h), u, pre, true);
                    }
                    act.apply(pre, a, h);
                    h_new.copy_from_slice(a);
                }
                Cell::Lstm => {
                    if s > 0 || first_gemm {
                        gemm(MatRef::row_major(h_prev, batch, h), u, pre, true);
                    }
                    let (cdone, cnext) = c.cs.split_at_mut((s + 1) * bh);
                    let (c_prev, c_new) = (&cdone[s * bh..], &mut cnext[..bh]);
                    for b in 0..batch {
                        let (p, a) = (&pre[b * g..][..g], &mut a[b * g..][..g]);
                        rec_act.apply(&p[..2 * h], &mut a[..2 * h], h);
                        act.apply(&p[2 * h..3 * h], &mut a[2 * h..3 * h], h);
                        rec_act.apply(&p[3 * h..], &mut a[3 * h..], h);
                        lstm_state(a, &c_prev[b * h..][..h], &mut c_new[b * h..][..h]);
                    }
                    let ac = &mut c.ac[s * bh..][..bh];
                    act.apply(c_new, ac, h);
                    lstm_times_output_gate(a, ac, h_new, h);
                    if c.any_masked {
                        for b in (0..batch).filter(|&b| c.mask[s * batch + b]) {
                            c_new[b * h..][..h].copy_from_slice(&c_prev[b * h..][..h]);
                        }
                    }
                }
                Cell::Gru => {
                    let hu = &mut c.hu[s * bg..][..bg];
                    if use_bias {
                        for row in hu.chunks_exact_mut(g) {
                            row.copy_from_slice(params[3].value.data());
                        }
                    } else {
                        hu.fill(0.0);
                    }
                    if s > 0 || first_gemm {
                        gemm(MatRef::row_major(h_prev, batch, h), u, hu, true);
                    }
                    for b in 0..batch {
                        let (p, a, hu) = (
                            &mut pre[b * g..][..g],
                            &mut a[b * g..][..g],
                            &hu[b * g..][..g],
                        );
                        add_assign(&mut p[..2 * h], &hu[..2 * h]);
                        rec_act.apply(&p[..2 * h], &mut a[..2 * h], h);
                        gru_candidate(&mut p[2 * h..], &a[..h], &hu[2 * h..]);
                        act.apply(&p[2 * h..], &mut a[2 * h..], h);
                        let (z, nv) = (&a[h..2 * h], &a[2 * h..]);
                        gru_output(z, nv, &h_prev[b * h..][..h], &mut h_new[b * h..][..h]);
                    }
                }
            }
            if c.any_masked {
                for b in (0..batch).filter(|&b| c.mask[s * batch + b]) {
                    h_new[b * h..][..h].copy_from_slice(&h_prev[b * h..][..h]);
                }
            }
        }

        y.resize(out_dims);
        let yd = y.data_mut();
        if *return_sequences {
            for b in 0..batch {
                for s in 0..time {
                    let out = &mut yd[(b * time + s) * h..][..h];
                    if c.mask[s * batch + b] {
                        out.fill(0.0);
                    } else {
                        out.copy_from_slice(&c.hs[(s + 1) * bh + b * h..][..h]);
                    }
                }
            }
        } else {
            yd.copy_from_slice(&c.hs[time * bh..][..bh]);
        }
        // The final states: after the last step in processing order (masked steps carry).
        if let Some(hf) = finals.first_mut() {
            hf.resize(&[batch, h]);
            hf.data_mut().copy_from_slice(&c.hs[time * bh..][..bh]);
        }
        if let Some(cf) = finals.get_mut(1) {
            cf.resize(&[batch, h]);
            cf.data_mut().copy_from_slice(&c.cs[time * bh..][..bh]);
        }
        c.shape = Some((batch, time));
        Ok(())
    }

    fn backward_with_state(
        &mut self,
        x: &Tensor,
        _y: &Tensor,
        gy: &Tensor,
        g_finals: &[&Tensor],
        gx: &mut Tensor,
        g_initial: &mut [Tensor],
    ) -> Result<()> {
        let op = self.cell.name();
        if self.input.is_empty() {
            return Err(Error::state(
                op,
                "a built layer (build before backward)",
                "an unbuilt layer",
            ));
        }
        let (batch, time) = check_sequence(op, x, self.input[1])?;
        if self.c.shape != Some((batch, time)) {
            return Err(Error::state(
                op,
                "backward after a forward on the same batch",
                "no matching forward",
            ));
        }
        let (dims, rank) = self.output_dims(batch, time);
        let out_dims = &dims[..rank];
        if gy.dims() != out_dims {
            return Err(Error::shape(
                op,
                "outputGradient",
                format!("shape {}", Shape::new(out_dims.to_vec())),
                format!("shape {}", gy.shape()),
            ));
        }
        check_states(
            op,
            "stateGradient",
            g_finals,
            self.names(),
            batch,
            self.units,
        )?;
        if !g_initial.is_empty() && g_initial.len() != self.names().len() {
            return Err(Error::shape(
                op,
                "initialStateGradient",
                format!("{} tensors or none", self.names().len()),
                format!("{} tensors", g_initial.len()),
            ));
        }
        let Recurrent {
            cell,
            units: h,
            act,
            rec_act,
            return_sequences,
            go_backwards,
            params,
            c,
            ..
        } = self;
        let (cell, h, act, rec_act) = (*cell, *h, *act, *rec_act);
        let f = self.input[1];
        let g = cell.gates() * h;
        let (n, bh, bg) = (time * batch, batch * h, batch * g);
        let gyd = gy.f32s(op, "outputGradient")?;

        c.dg.resize(n * g, 0.0);
        if cell == Cell::Gru {
            c.dgh.resize(n * g, 0.0);
        }
        // The carried dL/dh (dL/dc) start from the gradients on the final states.
        for (i, v) in [&mut c.dh, &mut c.dc].into_iter().enumerate() {
            v.resize(bh, 0.0);
            match g_finals.get(i) {
                Some(g) => v.copy_from_slice(g.data()),
                None => v.fill(0.0),
            }
        }
        for v in [&mut c.dh_prev, &mut c.t1, &mut c.t2] {
            v.resize(bh, 0.0);
        }
        c.da.resize(bg, 0.0);
        let u = MatRef::row_major(params[1].value.data(), h, g);

        for s in (0..time).rev() {
            let masked = &c.mask[s * batch..][..batch];
            // dL/dh_s from this step's output
            if *return_sequences {
                for b in (0..batch).filter(|&b| !masked[b]) {
                    add_assign(&mut c.dh[b * h..][..h], &gyd[(b * time + s) * h..][..h]);
                }
            } else if s == time - 1 {
                add_assign(&mut c.dh, gyd);
            }
            let pre = &c.pre[s * bg..][..bg];
            let a = &c.act[s * bg..][..bg];
            let dgs = &mut c.dg[s * bg..][..bg];
            let h_prev = &c.hs[s * bh..][..bh];
            match cell {
                Cell::Rnn => {
                    act.backward(pre, a, &c.dh, dgs, h);
                }
                Cell::Lstm => {
                    let (c_prev, c_new) = (&c.cs[s * bh..][..bh], &c.cs[(s + 1) * bh..][..bh]);
                    let ac = &c.ac[s * bh..][..bh];
                    // t2 = act'(c')·(dh⊙o)
                    lstm_times_output_gate(a, &c.dh, &mut c.t1, h);
                    act.backward(c_new, ac, &c.t1, &mut c.t2, h);
                    for b in 0..batch {
                        let (ab, da) = (&a[b * g..][..g], &mut c.da[b * g..][..g]);
                        if masked[b] {
                            da.fill(0.0);
                            continue;
                        }
                        let k = b * h;
                        lstm_backward(
                            ab,
                            &c_prev[k..][..h],
                            &ac[k..][..h],
                            &c.dh[k..][..h],
                            &c.t2[k..][..h],
                            &mut c.dc[k..][..h],
                            da,
                        );
                    }
                    for b in 0..batch {
                        let (p, ab, da, dg) = (
                            &pre[b * g..][..g],
                            &a[b * g..][..g],
                            &c.da[b * g..][..g],
                            &mut dgs[b * g..][..g],
                        );
                        rec_act.backward(
                            &p[..2 * h],
                            &ab[..2 * h],
                            &da[..2 * h],
                            &mut dg[..2 * h],
                            h,
                        );
                        act.backward(
                            &p[2 * h..3 * h],
                            &ab[2 * h..3 * h],
                            &da[2 * h..3 * h],
                            &mut dg[2 * h..3 * h],
                            h,
                        );
                        rec_act.backward(
                            &p[3 * h..],
                            &ab[3 * h..],
                            &da[3 * h..],
                            &mut dg[3 * h..],
                            h,
                        );
                    }
                }
                Cell::Gru => {
                    let hu = &c.hu[s * bg..][..bg];
                    let dghs = &mut c.dgh[s * bg..][..bg];
                    for b in 0..batch {
                        if masked[b] {
                            continue;
                        }
                        let (p, ab, hub) =
                            (&pre[b * g..][..g], &a[b * g..][..g], &hu[b * g..][..g]);
                        let (da, dg, dgh) = (
                            &mut c.da[b * g..][..g],
                            &mut dgs[b * g..][..g],
                            &mut dghs[b * g..][..g],
                        );
                        let (dh, hp) = (&c.dh[b * h..][..h], &h_prev[b * h..][..h]);
                        gru_backward_output(ab, dh, hp, da);
                        act.backward(&p[2 * h..], &ab[2 * h..], &da[2 * h..], &mut dg[2 * h..], h);
                        gru_backward_candidate(
                            &dg[2 * h..],
                            &hub[2 * h..],
                            &ab[..h],
                            &mut da[..h],
                            &mut dgh[2 * h..],
                        );
                        rec_act.backward(
                            &p[..2 * h],
                            &ab[..2 * h],
                            &da[..2 * h],
                            &mut dg[..2 * h],
                            h,
                        );
                        dgh[..2 * h].copy_from_slice(&dg[..2 * h]);
                    }
                }
            }
            if c.any_masked {
                for b in (0..batch).filter(|&b| masked[b]) {
                    dgs[b * g..][..g].fill(0.0);
                    if cell == Cell::Gru {
                        c.dgh[s * bg + b * g..][..g].fill(0.0);
                    }
                }
            }
            // dL/dh_{s−1} = dGates·Uᵀ (+ dh⊙z for gru); masked rows pass dh through.
            let src = if cell == Cell::Gru {
                &c.dgh[s * bg..][..bg]
            } else {
                &c.dg[s * bg..][..bg]
            };
            gemm(
                MatRef::row_major(src, batch, g),
                u.t(),
                &mut c.dh_prev,
                false,
            );
            for b in 0..batch {
                let (dp, dh) = (&mut c.dh_prev[b * h..][..h], &c.dh[b * h..][..h]);
                if masked[b] {
                    dp.copy_from_slice(dh);
                } else if cell == Cell::Gru {
                    add_product(dp, dh, &a[b * g + h..][..h]);
                }
            }
            std::mem::swap(&mut c.dh, &mut c.dh_prev);
        }
        // What is left in the carried buffers is dL/d(initial states).
        for (i, gi) in g_initial.iter_mut().enumerate() {
            gi.resize(&[batch, h]);
            gi.data_mut()
                .copy_from_slice(if i == 0 { &c.dh[..bh] } else { &c.dc[..bh] });
        }

        // Parameter gradients over all steps at once.
        let dgm = MatRef::row_major(&c.dg, n, g);
        let (kp, rest) = params.split_first_mut().expect("built");
        let (up, rest) = rest.split_first_mut().expect("built");
        gemm(MatRef::row_major(&c.xt, n, f).t(), dgm, &mut kp.grad, true);
        let dgh = if cell == Cell::Gru {
            MatRef::row_major(&c.dgh, n, g)
        } else {
            dgm
        };
        gemm(
            MatRef::row_major(&c.hs[..n * h], n, h).t(),
            dgh,
            &mut up.grad,
            true,
        );
        for p in [&mut *kp, &mut *up] {
            if let Some(r) = p.regularizer {
                r.add_grad(p.value.data(), &mut p.grad);
            }
        }
        for (i, p) in rest.iter_mut().enumerate() {
            add_column_sums(if i == 0 { &c.dg } else { &c.dgh }, &mut p.grad);
            if let Some(r) = p.regularizer {
                r.add_grad(p.value.data(), &mut p.grad);
            }
        }

        // dL/dx = dGates·Wᵀ, back to [batch, time, in] order.
        c.dxt.resize(n * f, 0.0);
        gemm(
            dgm,
            MatRef::row_major(kp.value.data(), f, g).t(),
            &mut c.dxt,
            false,
        );
        gx.resize(x.dims());
        let gxd = gx.data_mut();
        for s in 0..time {
            let t = if *go_backwards { time - 1 - s } else { s };
            for b in 0..batch {
                gxd[(b * time + t) * f..][..f].copy_from_slice(&c.dxt[(s * batch + b) * f..][..f]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::*;
    use super::super::{make, Layer};
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    fn tensor(data: Vec<f32>, dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", data, Shape::new(dims.to_vec())).unwrap()
    }

    /// `normal` with the steps listed as (sample, time) zeroed (masked).
    pub fn with_masked(dims: &[usize], seed: u64, masked: &[(usize, usize)]) -> Tensor {
        let mut x = normal(dims, seed);
        let (time, f) = (dims[1], dims[2]);
        for &(b, t) in masked {
            x.data_mut()[(b * time + t) * f..][..f].fill(0.0);
        }
        x
    }

    /// `gradcheck`, but skipping dL/dx on masked (all-zero) steps, where the mask makes
    /// the loss discontinuous: their analytic gradient must be 0. (The stateless case of
    /// `gradcheck_states`.)
    pub fn gradcheck_masked(kind: &str, config: &str, x: Tensor, tol: f64) {
        gradcheck_states(kind, config, x, false, false, tol);
    }

    fn sig(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// A plain f64 reference of the three cells straight from the documented layouts
    /// (tanh/sigmoid), with masking and goBackwards: `[batch, time, H]` per processing
    /// step (masked steps zero).
    fn reference(
        kind: &str,
        x: &Tensor,
        p: &[Vec<f32>],
        h: usize,
        backwards: bool,
    ) -> (Vec<f64>, Vec<f64>) {
        let (batch, time, f) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let g = p[0].len() / f;
        let zero = vec![0.0f32; g];
        let (w, u) = (&p[0], &p[1]);
        let bi = p.get(2).unwrap_or(&zero);
        let bh = p.get(3).unwrap_or(&zero);
        let mut seq = vec![0.0; batch * time * h];
        let mut last = vec![0.0; batch * h];
        for b in 0..batch {
            let (mut hs, mut cs) = (vec![0.0f64; h], vec![0.0f64; h]);
            for s in 0..time {
                let t = if backwards { time - 1 - s } else { s };
                let xv = &x.data()[(b * time + t) * f..][..f];
                if xv.iter().all(|&v| v == 0.0) {
                    continue;
                }
                let lin = |m: &[f32], v: &[f64], col: usize, rows: usize| {
                    (0..rows).map(|k| v[k] * m[k * g + col] as f64).sum::<f64>()
                };
                let xd: Vec<f64> = xv.iter().map(|&v| v as f64).collect();
                let ax: Vec<f64> = (0..g)
                    .map(|col| lin(w, &xd, col, f) + bi[col] as f64)
                    .collect();
                let ah: Vec<f64> = (0..g)
                    .map(|col| lin(u, &hs, col, h) + bh[col] as f64)
                    .collect();
                let new: Vec<f64> = match kind {
                    "simpleRnn" => (0..h).map(|j| (ax[j] + ah[j]).tanh()).collect(),
                    "lstm" => (0..h)
                        .map(|j| {
                            let gate = |k: usize| ax[k * h + j] + ah[k * h + j];
                            cs[j] = sig(gate(1)) * cs[j] + sig(gate(0)) * gate(2).tanh();
                            sig(gate(3)) * cs[j].tanh()
                        })
                        .collect(),
                    _ => (0..h)
                        .map(|j| {
                            let r = sig(ax[j] + ah[j]);
                            let z = sig(ax[h + j] + ah[h + j]);
                            let nn = (ax[2 * h + j] + r * ah[2 * h + j]).tanh();
                            (1.0 - z) * nn + z * hs[j]
                        })
                        .collect(),
                };
                hs = new;
                seq[(b * time + s) * h..][..h].copy_from_slice(&hs);
            }
            last[b * h..][..h].copy_from_slice(&hs);
        }
        (seq, last)
    }

    #[test]
    fn matches_a_plain_reference_of_the_documented_layouts() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for backwards in [false, true] {
                for seq in [false, true] {
                    let x = with_masked(&[3, 5, 3], 4, &[(0, 1), (1, 4), (2, 0), (2, 1)]);
                    let cfg = format!(
                        r#"{{"units":4,"returnSequences":{seq},"goBackwards":{backwards},"biasInitializer":{{"type":"randomNormal","stddev":0.5}}}}"#
                    );
                    let (layer, y) = run(kind, &cfg, &x, false);
                    let p: Vec<Vec<f32>> = layer
                        .params()
                        .iter()
                        .map(|p| p.value.data().to_vec())
                        .collect();
                    let (want_seq, want_last) = reference(kind, &x, &p, 4, backwards);
                    let want = if seq { want_seq } else { want_last };
                    assert_eq!(y.data().len(), want.len());
                    for (i, (&a, &b)) in y.data().iter().zip(&want).enumerate() {
                        assert!(
                            (a as f64 - b).abs() < 2e-5,
                            "{kind} {cfg}: y[{i}] {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn gradients() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for seq in [false, true] {
                for (batch, time) in [(1, 1), (3, 5), (1, 5), (3, 1)] {
                    let cfg = format!(
                        r#"{{"units":4,"returnSequences":{seq},"biasInitializer":{{"type":"randomNormal","stddev":0.3}}}}"#
                    );
                    gradcheck(kind, &cfg, normal(&[batch, time, 3], 3), false, 3e-3);
                }
            }
        }
        // options: no bias, other activations, regularizers, goBackwards
        for (kind, cfg) in [
            (
                "simpleRnn",
                r#"{"units":3,"activation":"relu","useBias":false,"returnSequences":true}"#,
            ),
            (
                "lstm",
                r#"{"units":4,"unitForgetBias":false,"useBias":false,"goBackwards":true,"returnSequences":true}"#,
            ),
            (
                "lstm",
                r#"{"units":3,"activation":"silu","recurrentActivation":"sigmoid"}"#,
            ),
            (
                "gru",
                r#"{"units":5,"activation":"silu","recurrentActivation":"sigmoid","goBackwards":true}"#,
            ),
            (
                "gru",
                r#"{"units":4,"useBias":false,"returnSequences":true,"kernelRegularizer":{"l2":0.1},"recurrentRegularizer":{"l1":0.01,"l2":0.05}}"#,
            ),
            (
                "lstm",
                r#"{"units":4,"biasRegularizer":{"l2":0.2},"returnSequences":true}"#,
            ),
        ] {
            gradcheck(kind, cfg, normal(&[3, 5, 3], 5), false, 3e-3);
        }
    }

    #[test]
    fn gradients_with_masked_steps() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for seq in [false, true] {
                for backwards in [false, true] {
                    // leading, middle and trailing masked steps; one sample fully masked
                    let x = with_masked(
                        &[3, 5, 3],
                        6,
                        &[
                            (0, 0),
                            (0, 2),
                            (1, 4),
                            (1, 3),
                            (2, 0),
                            (2, 1),
                            (2, 2),
                            (2, 3),
                            (2, 4),
                        ],
                    );
                    let cfg = format!(
                        r#"{{"units":4,"returnSequences":{seq},"goBackwards":{backwards},"biasInitializer":{{"type":"randomNormal","stddev":0.3}}}}"#
                    );
                    gradcheck_masked(kind, &cfg, x, 3e-3);
                }
            }
            let x = with_masked(&[1, 5, 3], 7, &[(0, 4)]);
            gradcheck_masked(kind, r#"{"units":4}"#, x, 3e-3);
        }
    }

    #[test]
    fn gradients_with_initial_and_final_states() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for seq in [false, true] {
                for (initial, finals) in [(true, true), (true, false), (false, true)] {
                    let cfg = format!(
                        r#"{{"units":4,"returnSequences":{seq},"biasInitializer":{{"type":"randomNormal","stddev":0.3}}}}"#
                    );
                    gradcheck_states(kind, &cfg, normal(&[3, 4, 3], 8), initial, finals, 3e-3);
                }
            }
            // batch 1, one step; goBackwards with masked steps (leading, trailing, all)
            let cfg = r#"{"units":3,"returnSequences":true}"#;
            gradcheck_states(kind, cfg, normal(&[1, 1, 2], 9), true, true, 3e-3);
            for seq in [false, true] {
                let x = with_masked(
                    &[3, 5, 3],
                    6,
                    &[
                        (0, 0),
                        (0, 4),
                        (1, 2),
                        (2, 0),
                        (2, 1),
                        (2, 2),
                        (2, 3),
                        (2, 4),
                    ],
                );
                let cfg = format!(r#"{{"units":4,"returnSequences":{seq},"goBackwards":true}}"#);
                gradcheck_states(kind, &cfg, x.clone(), true, true, 3e-3);
                let cfg = format!(r#"{{"units":4,"returnSequences":{seq}}}"#);
                gradcheck_states(kind, &cfg, x, true, true, 3e-3);
            }
        }
        gradcheck_states(
            "lstm",
            r#"{"units":3,"activation":"silu","recurrentActivation":"sigmoid","useBias":false}"#,
            normal(&[2, 3, 2], 10),
            true,
            true,
            3e-3,
        );
    }

    fn states_of(
        layer: &mut Box<dyn Layer>,
        x: &Tensor,
        initial: &[Tensor],
    ) -> (Tensor, Vec<Tensor>) {
        let refs: Vec<&Tensor> = initial.iter().collect();
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let mut f: Vec<Tensor> = layer
            .state_names()
            .iter()
            .map(|_| Tensor::zeros(Shape::new(vec![])))
            .collect();
        layer
            .forward_with_state(x, &refs, &mut y, &mut f, false)
            .unwrap();
        (y, f)
    }

    /// Steps `[from, to)` of `x` `[batch, time, f]`.
    fn steps(x: &Tensor, from: usize, to: usize) -> Tensor {
        let (batch, time, f) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let mut out = Vec::new();
        for b in 0..batch {
            out.extend_from_slice(&x.data()[(b * time + from) * f..(b * time + to) * f]);
        }
        tensor(out, &[batch, to - from, f])
    }

    /// Carrying the final states into the next call continues the sequence: two calls
    /// give what one call on the whole sequence gives (any length per call).
    #[test]
    fn states_chain_across_calls() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            for backwards in [false, true] {
                let x = with_masked(&[2, 6, 3], 3, &[(0, 1), (1, 5), (1, 4)]);
                let cfg = format!(
                    r#"{{"units":4,"returnSequences":true,"goBackwards":{backwards},"biasInitializer":{{"type":"randomNormal","stddev":0.3}}}}"#
                );
                let mut layer = make(kind, &cfg).unwrap();
                layer.build(&[6, 3], &mut Rng::new(1)).unwrap();
                let (y_all, f_all) = states_of(&mut layer, &x, &[]);
                // goBackwards processes the later steps first
                let (first, second) = if backwards {
                    (steps(&x, 2, 6), steps(&x, 0, 2))
                } else {
                    (steps(&x, 0, 4), steps(&x, 4, 6))
                };
                let (y1, f1) = states_of(&mut layer, &first, &[]);
                let (y2, f2) = states_of(&mut layer, &second, &f1);
                for (a, b) in f_all.iter().zip(&f2) {
                    for (u, v) in a.data().iter().zip(b.data()) {
                        assert!(
                            (u - v).abs() < 1e-6,
                            "{kind} backwards {backwards}: {u} vs {v}"
                        );
                    }
                }
                // outputs in processing order: the first call's steps, then the second's
                let (t1, t2) = (first.dims()[1], second.dims()[1]);
                for b in 0..2 {
                    let want = &y_all.data()[b * 6 * 4..][..24];
                    let got: Vec<f32> = y1.data()[b * t1 * 4..][..t1 * 4]
                        .iter()
                        .chain(&y2.data()[b * t2 * 4..][..t2 * 4])
                        .copied()
                        .collect();
                    for (u, v) in want.iter().zip(&got) {
                        assert!(
                            (u - v).abs() < 1e-6,
                            "{kind} backwards {backwards}: {u} vs {v}"
                        );
                    }
                }
                // an explicit zero state is the default one
                let zeros: Vec<Tensor> = f_all
                    .iter()
                    .map(|t| tensor(vec![0.0; t.numel()], t.dims()))
                    .collect();
                let (y0, _) = states_of(&mut layer, &x, &zeros);
                assert_eq!(y0.data(), y_all.data(), "{kind}");
            }
        }
    }

    #[test]
    fn state_errors() {
        let mut layer = make("lstm", r#"{"units":2}"#).unwrap();
        layer.build(&[4, 3], &mut Rng::new(1)).unwrap();
        let x = normal(&[2, 4, 3], 1);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let h = normal(&[2, 2], 2);
        let e = layer
            .forward_with_state(&x, &[&h], &mut y, &mut [], false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lstm: invalid `initialState`: expected 2 tensors (h, c) or none, received 1 tensors"
        );
        let c = normal(&[3, 2], 2);
        let e = layer
            .forward_with_state(&x, &[&h, &c], &mut y, &mut [], false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lstm: invalid `initialState[1]`: expected shape [2, 2] (c: [batch, units]), received shape [3, 2]"
        );
        assert_eq!(e.code(), "SHAPE_MISMATCH");
        // a failed call leaves the layer usable and its caches as they were
        layer
            .forward_with_state(&x, &[&h, &h], &mut y, &mut [], false)
            .unwrap();
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        let gy = normal(&[2, 2], 3);
        let e = layer
            .backward_with_state(&x, &y, &gy, &[&h], &mut gx, &mut [])
            .unwrap_err();
        assert_eq!(e.arg, "stateGradient");
        let mut gi = [Tensor::zeros(Shape::new(vec![]))];
        let e = layer
            .backward_with_state(&x, &y, &gy, &[], &mut gx, &mut gi)
            .unwrap_err();
        assert_eq!(e.arg, "initialStateGradient");
        // dense has no state
        let mut d = make("dense", r#"{"units":2}"#).unwrap();
        d.build(&[3], &mut Rng::new(1)).unwrap();
        let e = d
            .forward_with_state(&normal(&[2, 3], 1), &[&h], &mut y, &mut [], false)
            .unwrap_err();
        assert_eq!(
            (e.code(), e.arg.as_str()),
            ("INVALID_ARGUMENT", "initialState")
        );
    }

    #[test]
    fn masked_steps_carry_the_state_and_output_zeros() {
        for kind in ["simpleRnn", "lstm", "gru"] {
            let x = normal(&[1, 3, 3], 2);
            let mut padded = tensor(vec![0.0; 5 * 3], &[1, 5, 3]);
            // real steps at times 1, 2, 4; padding at 0 and 3
            for (src, dst) in [(0, 1), (1, 2), (2, 4)] {
                padded.data_mut()[dst * 3..][..3].copy_from_slice(&x.data()[src * 3..][..3]);
            }
            let cfg = r#"{"units":4,"returnSequences":true}"#;
            let (_, y) = run(kind, cfg, &x, false);
            let (_, yp) = run(kind, cfg, &padded, false);
            for (src, dst) in [(0, 1), (1, 2), (2, 4)] {
                for j in 0..4 {
                    assert!(
                        (y.data()[src * 4 + j] - yp.data()[dst * 4 + j]).abs() < 1e-6,
                        "{kind}"
                    );
                }
            }
            assert!(yp.data()[..4]
                .iter()
                .chain(&yp.data()[12..16])
                .all(|&v| v == 0.0));
            // last state through trailing padding
            let mut trailing = tensor(vec![0.0; 5 * 3], &[1, 5, 3]);
            trailing.data_mut()[..9].copy_from_slice(x.data());
            let (_, last) = run(kind, r#"{"units":4}"#, &trailing, false);
            assert_eq!(last.data(), &y.data()[8..12], "{kind}");
        }
    }

    #[test]
    fn known_values() {
        // zero weights: every gate at its midpoint, no cell input → zero output
        for kind in ["simpleRnn", "lstm", "gru"] {
            let cfg = r#"{"units":3,"kernelInitializer":"zeros","recurrentInitializer":"zeros","unitForgetBias":false,"returnSequences":true}"#;
            let cfg = if kind == "lstm" {
                cfg.to_string()
            } else {
                cfg.replace(r#","unitForgetBias":false"#, "")
            };
            let (_, y) = run(kind, &cfg, &normal(&[2, 4, 3], 1), false);
            assert_eq!(y.dims(), &[2, 4, 3]);
            assert!(y.data().iter().all(|&v| v == 0.0), "{kind}");
        }
        // LSTM with 1 unit: g = tanh(x), i ≈ o ≈ 1 (bias 30), forget bias b_f:
        // c_t = σ(b_f)·c_{t−1} + tanh(x_t), h_t = tanh(c_t).
        let x = tensor(vec![0.5, -1.0, 2.0], &[1, 3, 1]);
        for bf in [0.0f32, 1.0, -2.0] {
            let mut layer = make("lstm", r#"{"units":1,"returnSequences":true}"#).unwrap();
            layer.build(&[3, 1], &mut Rng::new(1)).unwrap();
            {
                let p = layer.params_mut();
                p[0].value.data_mut().copy_from_slice(&[0.0, 0.0, 1.0, 0.0]);
                p[1].value.data_mut().fill(0.0);
                p[2].value
                    .data_mut()
                    .copy_from_slice(&[30.0, bf, 0.0, 30.0]);
            }
            let mut y = Tensor::zeros(Shape::new(vec![]));
            layer.forward(&x, &mut y, false).unwrap();
            let mut c = 0.0f64;
            for (t, &xv) in [0.5f64, -1.0, 2.0].iter().enumerate() {
                c = sig(bf as f64) * c + xv.tanh();
                assert!(
                    (y.data()[t] as f64 - c.tanh()).abs() < 1e-5,
                    "b_f {bf} t {t}: {} vs {}",
                    y.data()[t],
                    c.tanh()
                );
            }
        }
        // unitForgetBias: the f block of the bias is 1, the rest from biasInitializer
        let (layer, _) = run("lstm", r#"{"units":2}"#, &normal(&[1, 2, 3], 1), false);
        assert_eq!(
            layer.params()[2].value.data(),
            &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
        );
        let (layer, _) = run(
            "lstm",
            r#"{"units":2,"unitForgetBias":false,"biasInitializer":"ones"}"#,
            &normal(&[1, 2, 3], 1),
            false,
        );
        assert!(layer.params()[2].value.data().iter().all(|&v| v == 1.0));
        // GRU, 1 unit, U = 0, b_h for n = 2: r = σ(0) = ½, n = tanh(x·w_n + ½·2)
        let mut layer = make("gru", r#"{"units":1}"#).unwrap();
        layer.build(&[1, 1], &mut Rng::new(1)).unwrap();
        {
            let p = layer.params_mut();
            p[0].value.data_mut().copy_from_slice(&[0.0, 0.0, 1.0]);
            p[1].value.data_mut().fill(0.0);
            p[2].value.data_mut().fill(0.0);
            p[3].value.data_mut().copy_from_slice(&[0.0, 0.0, 2.0]);
        }
        let mut y = Tensor::zeros(Shape::new(vec![]));
        layer
            .forward(&tensor(vec![0.3], &[1, 1, 1]), &mut y, false)
            .unwrap();
        assert!((y.data()[0] as f64 - 0.5 * (0.3f64 + 1.0).tanh()).abs() < 1e-6);
    }

    #[test]
    fn shapes_params_and_errors() {
        let (layer, y) = run("lstm", r#"{"units":5}"#, &normal(&[2, 4, 3], 1), false);
        assert_eq!(y.dims(), &[2, 5]);
        let shapes: Vec<(&str, Vec<usize>)> = layer
            .params()
            .iter()
            .map(|p| (p.name, p.value.dims().to_vec()))
            .collect();
        assert_eq!(
            shapes,
            vec![
                ("kernel", vec![3, 20]),
                ("recurrentKernel", vec![5, 20]),
                ("bias", vec![20])
            ]
        );
        let (layer, y) = run(
            "gru",
            r#"{"units":2,"returnSequences":true}"#,
            &normal(&[2, 4, 3], 1),
            false,
        );
        assert_eq!(y.dims(), &[2, 4, 2]);
        let names: Vec<&str> = layer.params().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            ["kernel", "recurrentKernel", "bias", "recurrentBias"]
        );
        let (layer, _) = run(
            "simpleRnn",
            r#"{"units":2,"useBias":false}"#,
            &normal(&[2, 4, 3], 1),
            false,
        );
        assert_eq!(layer.params().len(), 2);
        // the recurrent kernel is orthogonal by default: U·Uᵀ = I for simpleRnn
        let (layer, _) = run("simpleRnn", r#"{"units":4}"#, &normal(&[1, 2, 3], 1), false);
        let u = layer.params()[1].value.data();
        for a in 0..4 {
            for b in 0..4 {
                let dot: f32 = (0..4).map(|k| u[a * 4 + k] * u[b * 4 + k]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5);
            }
        }

        let err = |kind: &str, cfg: &str| make(kind, cfg).err().unwrap();
        assert_eq!(
            err("lstm", r#"{"units":0}"#).to_string(),
            "lstm: invalid `units`: expected a positive integer, received 0"
        );
        assert_eq!(err("gru", "{}").arg, "units");
        // returnState is the layer's own (nb.layer); Sequential refuses it (model tests)
        let l = make("lstm", r#"{"units":2,"returnState":true}"#).unwrap();
        assert!(l.returns_state());
        assert_eq!(l.config()["returnState"], true);
        assert_eq!(l.state_names(), ["h", "c"]);
        assert_eq!(make("gru", r#"{"units":2}"#).unwrap().state_names(), ["h"]);
        assert_eq!(
            err("lstm", r#"{"units":2,"returnState":1}"#).arg,
            "returnState"
        );
        assert_eq!(
            err("gru", r#"{"units":2,"returnSequences":"yes"}"#).arg,
            "returnSequences"
        );
        assert_eq!(
            err(
                "simpleRnn",
                r#"{"units":2,"recurrentActivation":"sigmoid"}"#
            )
            .arg,
            "config"
        );
        assert_eq!(
            err("gru", r#"{"units":2,"unitForgetBias":true}"#).arg,
            "config"
        );
        assert_eq!(
            err("lstm", r#"{"units":2,"activation":"nope"}"#).arg,
            "activation"
        );
        assert_eq!(
            err("lstm", r#"{"units":2,"recurrentInitializer":"nope"}"#).arg,
            "recurrentInitializer"
        );
        assert_eq!(
            err("lstm", r#"{"units":2,"kernelRegularizer":{"l2":-1}}"#).arg,
            "l2"
        );

        let mut layer = make("lstm", r#"{"units":2}"#).unwrap();
        for bad in [&[4usize][..], &[4, 3, 2], &[0, 3], &[4, 0]] {
            assert_eq!(
                layer.build(bad, &mut Rng::new(1)).unwrap_err().code(),
                "SHAPE_MISMATCH"
            );
        }
        let mut y = Tensor::zeros(Shape::new(vec![]));
        assert_eq!(
            layer
                .forward(&normal(&[2, 4, 3], 1), &mut y, false)
                .unwrap_err()
                .code(),
            "INVALID_STATE"
        );
        layer.build(&[4, 3], &mut Rng::new(1)).unwrap();
        let e = layer
            .forward(&normal(&[2, 4, 5], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "lstm: invalid `input`: expected shape [batch, time, 3] with time ≥ 1, received shape [2, 4, 5]"
        );
        let x = normal(&[2, 4, 3], 1);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        assert_eq!(
            layer
                .backward(&x, &y, &normal(&[2, 2], 1), &mut gx)
                .unwrap_err()
                .code(),
            "INVALID_STATE"
        );
        layer.forward(&x, &mut y, false).unwrap();
        assert_eq!(
            layer
                .backward(&x, &y, &normal(&[2, 3], 1), &mut gx)
                .unwrap_err()
                .code(),
            "SHAPE_MISMATCH"
        );
        assert_eq!(
            layer
                .backward(&normal(&[3, 4, 3], 1), &y, &normal(&[3, 2], 1), &mut gx)
                .unwrap_err()
                .code(),
            "INVALID_STATE"
        );
        layer
            .backward(&x, &y, &normal(&[2, 2], 1), &mut gx)
            .unwrap();
        let cfg = layer.config();
        assert_eq!(cfg["units"], 2);
        assert_eq!(cfg["activation"], "tanh");
        assert_eq!(cfg["recurrentActivation"], "sigmoid");
        assert_eq!(cfg["unitForgetBias"], true);
        assert_eq!(cfg["returnSequences"], false);
    }

    #[test]
    fn simd_and_scalar_kernels_agree() {
        use crate::kernels::{with_mode, Mode};
        for kind in ["lstm", "gru"] {
            let x = with_masked(&[3, 6, 5], 2, &[(1, 2)]);
            let simd = run(kind, r#"{"units":7,"returnSequences":true}"#, &x, false).1;
            let scalar = with_mode(Mode::Scalar, || {
                run(kind, r#"{"units":7,"returnSequences":true}"#, &x, false).1
            });
            for (a, b) in simd.data().iter().zip(scalar.data()) {
                assert!((a - b).abs() < 1e-5, "{kind}: {a} vs {b}");
            }
            // from given states, with the final states and their gradients
            let run_states = || {
                let mut l = make(kind, r#"{"units":7,"returnSequences":true}"#).unwrap();
                l.build(&[6, 5], &mut Rng::new(1)).unwrap();
                let init: Vec<Tensor> = (0..l.state_names().len())
                    .map(|i| normal(&[3, 7], 5 + i as u64))
                    .collect();
                let (y, finals) = states_of(&mut l, &x, &init);
                let mut gx = Tensor::zeros(Shape::new(vec![]));
                let mut gi: Vec<Tensor> = init
                    .iter()
                    .map(|_| Tensor::zeros(Shape::new(vec![])))
                    .collect();
                let refs: Vec<&Tensor> = finals.iter().collect();
                l.backward_with_state(&x, &y, &y, &refs, &mut gx, &mut gi)
                    .unwrap();
                let mut all = y.data().to_vec();
                for t in finals.iter().chain(&gi).chain([&gx]) {
                    all.extend_from_slice(t.data());
                }
                all
            };
            let simd = run_states();
            let scalar = with_mode(Mode::Scalar, run_states);
            for (a, b) in simd.iter().zip(&scalar) {
                assert!(
                    (a - b).abs() < 1e-4 * (1.0 + a.abs()),
                    "{kind} with states: {a} vs {b}"
                );
            }
        }
    }

    /// `cargo test --release -p nabla-core --lib lstm_timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn lstm_timing() {
        let x = normal(&[32, 32, 16], 1);
        let (mut layer, mut y) = run("lstm", r#"{"units":64,"returnSequences":true}"#, &x, true);
        let gy = normal(y.dims(), 2);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        for _ in 0..5 {
            layer.forward(&x, &mut y, true).unwrap();
            layer.backward(&x, &y, &gy, &mut gx).unwrap();
        }
        let reps = 50;
        let (mut tf, mut tb) = (0.0, 0.0);
        for _ in 0..reps {
            let t0 = std::time::Instant::now();
            layer.forward(&x, &mut y, true).unwrap();
            let t1 = std::time::Instant::now();
            layer.backward(&x, &y, &gy, &mut gx).unwrap();
            tf += (t1 - t0).as_secs_f64();
            tb += t1.elapsed().as_secs_f64();
        }
        println!(
            "lstm 32 steps × 16 features → 64 units, batch 32: forward {:.3} ms, backward {:.3} ms, total {:.3} ms",
            tf * 1e3 / reps as f64,
            tb * 1e3 / reps as f64,
            (tf + tb) * 1e3 / reps as f64
        );
    }
}
