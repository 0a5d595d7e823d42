//! `bidirectional({ layer: { kind: "lstm" | "gru" | "simpleRnn", config }, mergeMode })`:
//! a forward copy of the recurrent layer and a backward one (the same config with
//! `goBackwards` flipped, as Keras), merged along the last axis.
//!
//! mergeMode: "concat" (default: `[..., 2·units]`, forward first), "sum", "mul", "ave".
//! With `returnSequences` the backward copy's outputs (in its processing order, last
//! step first) are reversed back so both copies' outputs at index t belong to input
//! step t, as Keras does; without it, each copy's last state is merged.
//!
//! Parameters: the inner layer's, prefixed "forward_" then "backward_": e.g. lstm
//! `forward_kernel [in, 4H]`, `forward_recurrentKernel [H, 4H]`, `forward_bias [4H]`,
//! `backward_kernel`, ... with the inner layouts of recurrent.rs. Torch
//! (`bidirectional=True`): forward_* ↔ `*_l0`, backward_* ↔ `*_l0_reverse`, and with
//! concat torch's output `[..., 2H]` has the same order (forward, then backward).
//!
//! States (as Keras): the forward copy's then the backward copy's, `forward_h`,
//! (`forward_c`,) `backward_h`, (`backward_c`), each `[batch, units]`. With the inner
//! `returnState: true` the layer's outputs are `[output, ...those final states]` (used on
//! its own, `nb.layer`; not in a Sequential), and `initialState` takes them in that
//! order. Torch's `h_n[0]`/`h_n[1]` are forward_h/backward_h.
//!
//! Both copies' parameters live in one list here (so `params()` is a slice); each copy
//! gets its own half lent back (swapped in, then out: no copy, no allocation) for the
//! length of its forward or backward.
//! See: keras.layers.Bidirectional, torch.nn.LSTM(bidirectional=True).
//! NOTE: Keras's `mergeMode: null` (two outputs) is not supported: a layer has one output.

use super::recurrent::{check_sequence, check_states};
use super::{Layer, Param};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    Concat,
    Sum,
    Mul,
    Ave,
}

pub struct Bidirectional {
    kind: &'static str,
    merge: Merge,
    fwd: Box<dyn Layer>,
    bwd: Box<dyn Layer>,
    /// The forward copy's parameters, then the backward copy's (renamed with their
    /// prefix); the copies hold placeholders except while `lend` swaps these in.
    params: Vec<Param>,
    input: Vec<usize>,
    /// Whether the inner layers return sequences, and their units.
    seq: bool,
    units: usize,
    yf: Tensor,
    yb: Tensor,
    gyf: Tensor,
    gyb: Tensor,
    gxf: Tensor,
    gxb: Tensor,
}

const KINDS: [&str; 3] = ["lstm", "gru", "simpleRnn"];

pub fn build(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&["layer", "mergeMode"])?;
    let bad = |received: String| {
        Error::invalid(
            "bidirectional",
            "layer",
            r#"{ kind: "lstm" | "gru" | "simpleRnn", config: { units, ... } }"#,
            received,
        )
    };
    let layer = cfg.raw("layer").ok_or_else(|| bad("nothing".into()))?;
    let obj = layer.as_object().ok_or_else(|| bad(layer.to_string()))?;
    if let Some(k) = obj.keys().find(|k| *k != "kind" && *k != "config") {
        return Err(bad(format!("unknown option `{k}`")));
    }
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| KINDS.iter().find(|&&n| n == k))
        .copied();
    let kind = kind.ok_or_else(|| {
        bad(obj
            .get("kind")
            .map_or("no kind".into(), |k| format!("kind {k}")))
    })?;
    let mut inner = obj.get("config").cloned().unwrap_or_else(|| json!({}));
    let Some(m) = inner.as_object_mut() else {
        return Err(bad(format!("config {inner}")));
    };
    let backwards = match m.get("goBackwards") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(Error::invalid(
                kind,
                "goBackwards",
                "true or false",
                v.to_string(),
            ))
        }
    };
    let fwd = super::make(kind, &inner.to_string())?;
    inner["goBackwards"] = json!(!backwards);
    let bwd = super::make(kind, &inner.to_string())?;
    let merge = match cfg.choice("mergeMode", "concat", &["concat", "sum", "mul", "ave"])? {
        "sum" => Merge::Sum,
        "mul" => Merge::Mul,
        "ave" => Merge::Ave,
        _ => Merge::Concat,
    };
    let t = || Tensor::zeros(Shape::new(vec![]));
    Ok(Box::new(Bidirectional {
        kind,
        merge,
        fwd,
        bwd,
        params: Vec::new(),
        input: Vec::new(),
        seq: false,
        units: 0,
        yf: t(),
        yb: t(),
        gyf: t(),
        gyb: t(),
        gxf: t(),
        gxb: t(),
    }))
}

/// The prefixed name of an inner parameter (names are `&'static str`).
fn prefixed(forward: bool, name: &'static str) -> &'static str {
    match (forward, name) {
        (true, "kernel") => "forward_kernel",
        (true, "recurrentKernel") => "forward_recurrentKernel",
        (true, "bias") => "forward_bias",
        (true, "recurrentBias") => "forward_recurrentBias",
        (false, "kernel") => "backward_kernel",
        (false, "recurrentKernel") => "backward_recurrentKernel",
        (false, "bias") => "backward_bias",
        (false, "recurrentBias") => "backward_recurrentBias",
        (_, other) => other,
    }
}

impl Bidirectional {
    /// Checks x (any length, as the inner layers) and returns (batch, time).
    fn check(&self, op_phase: &'static str, x: &Tensor) -> Result<(usize, usize)> {
        if self.input.is_empty() {
            return Err(Error::state("bidirectional", op_phase, "an unbuilt layer"));
        }
        check_sequence("bidirectional", x, self.input[1])
    }

    fn width(&self) -> usize {
        if self.merge == Merge::Concat {
            2 * self.units
        } else {
            self.units
        }
    }

    /// The output's dims: `[batch, time, width]` with `returnSequences`, else
    /// `[batch, width]` (on the stack: the training step allocates nothing).
    fn output_dims(&self, batch: usize, time: usize) -> ([usize; 3], usize) {
        if self.seq {
            ([batch, time, self.width()], 3)
        } else {
            ([batch, self.width(), 0], 2)
        }
    }

    /// The states' names (a static list per inner kind, so a step allocates nothing):
    /// the forward copy's, then the backward copy's.
    fn names(&self) -> &'static [&'static str] {
        if self.kind == "lstm" {
            &["forward_h", "forward_c", "backward_h", "backward_c"]
        } else {
            &["forward_h", "backward_h"]
        }
    }

    /// Splits a list of states (none, or forward's then backward's) in halves.
    fn halves<'a, T>(&self, list: &'a [T]) -> (&'a [T], &'a [T]) {
        list.split_at(list.len() / 2)
    }

    fn merge_name(&self) -> &'static str {
        match self.merge {
            Merge::Concat => "concat",
            Merge::Sum => "sum",
            Merge::Mul => "mul",
            Merge::Ave => "ave",
        }
    }
}

/// Runs `f` on an inner copy with `params` (its half of the list) swapped in, and
/// swaps them back out afterwards, whatever `f` returned.
fn lend<R>(params: &mut [Param], inner: &mut dyn Layer, f: impl FnOnce(&mut dyn Layer) -> R) -> R {
    inner.params_mut().swap_with_slice(params);
    let r = f(&mut *inner);
    inner.params_mut().swap_with_slice(params);
    r
}

/// `(sample, step)` pairs as `(row of the merged output, row of the forward copy, row of
/// the backward copy)`, rows `units` long; `time` is 1 without `returnSequences`.
fn rows(batch: usize, time: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..batch).flat_map(move |b| {
        (0..time).map(move |t| (b * time + t, b * time + t, b * time + time - 1 - t))
    })
}

impl Layer for Bidirectional {
    fn kind(&self) -> &'static str {
        "bidirectional"
    }

    fn config(&self) -> Value {
        json!({ "layer": { "kind": self.kind, "config": self.fwd.config() }, "mergeMode": self.merge_name() })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let out = self.fwd.build(input, rng)?;
        self.bwd.build(input, rng)?;
        self.params.clear();
        for (forward, inner) in [(true, &mut self.fwd), (false, &mut self.bwd)] {
            for p in inner.params_mut() {
                let empty = Param::new(p.name, Tensor::zeros(Shape::new(vec![0])), p.trainable);
                let mut p = std::mem::replace(p, empty);
                p.name = prefixed(forward, p.name);
                self.params.push(p);
            }
        }
        self.input = input.to_vec();
        self.seq = out.len() == 2;
        self.units = *out.last().expect("recurrent output has rank ≥ 1");
        let mut out = out;
        if self.merge == Merge::Concat {
            *out.last_mut().expect("rank ≥ 1") *= 2;
        }
        Ok(out)
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
        self.fwd.returns_state()
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
        training: bool,
    ) -> Result<()> {
        let (batch, time) = self.check("a built layer (build before forward)", x)?;
        let names = self.names();
        // Checked here, so the inner layers' errors cannot misnumber the states.
        check_states(
            "bidirectional",
            "initialState",
            initial,
            names,
            batch,
            self.units,
        )?;
        if !finals.is_empty() && finals.len() != names.len() {
            return Err(Error::shape(
                "bidirectional",
                "finalState",
                format!("{} tensors or none", names.len()),
                format!("{} tensors", finals.len()),
            ));
        }
        let (fi, bi) = self.halves(initial);
        let half = finals.len() / 2;
        let (ff, bf) = finals.split_at_mut(half);
        let half_params = self.params.len() / 2;
        let (pf, pb) = self.params.split_at_mut(half_params);
        lend(pf, self.fwd.as_mut(), |l| {
            l.forward_with_state(x, fi, &mut self.yf, ff, training)
        })?;
        lend(pb, self.bwd.as_mut(), |l| {
            l.forward_with_state(x, bi, &mut self.yb, bf, training)
        })?;
        let h = self.units;
        let width = self.width();
        let (dims, rank) = self.output_dims(batch, time);
        y.resize(&dims[..rank]);
        let (yf, yb, merge) = (self.yf.data(), self.yb.data(), self.merge);
        let yd = y.data_mut();
        for (r, rf, rb) in rows(batch, if self.seq { time } else { 1 }) {
            let (f, b) = (&yf[rf * h..][..h], &yb[rb * h..][..h]);
            let out = &mut yd[r * width..][..width];
            match merge {
                Merge::Concat => {
                    out[..h].copy_from_slice(f);
                    out[h..].copy_from_slice(b);
                }
                Merge::Sum => out
                    .iter_mut()
                    .zip(f.iter().zip(b))
                    .for_each(|(o, (a, c))| *o = a + c),
                Merge::Mul => out
                    .iter_mut()
                    .zip(f.iter().zip(b))
                    .for_each(|(o, (a, c))| *o = a * c),
                Merge::Ave => out
                    .iter_mut()
                    .zip(f.iter().zip(b))
                    .for_each(|(o, (a, c))| *o = 0.5 * (a + c)),
            }
        }
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
        let (batch, time) = self.check("a built layer (build before backward)", x)?;
        if self.yf.dims().first() != Some(&batch) {
            return Err(Error::state(
                "bidirectional",
                "backward after a forward on the same batch",
                "no matching forward",
            ));
        }
        let h = self.units;
        let width = self.width();
        let (dims, rank) = self.output_dims(batch, time);
        let dims = &dims[..rank];
        if gy.dims() != dims {
            return Err(Error::shape(
                "bidirectional",
                "outputGradient",
                format!("shape {}", Shape::new(dims.to_vec())),
                format!("shape {}", gy.shape()),
            ));
        }
        let names = self.names();
        check_states("bidirectional", "stateGradient", g_finals, names, batch, h)?;
        if !g_initial.is_empty() && g_initial.len() != names.len() {
            return Err(Error::shape(
                "bidirectional",
                "initialStateGradient",
                format!("{} tensors or none", names.len()),
                format!("{} tensors", g_initial.len()),
            ));
        }
        self.gyf.resize(self.yf.dims());
        self.gyb.resize(self.yb.dims());
        let (yf, yb, merge) = (self.yf.data(), self.yb.data(), self.merge);
        let (gyf, gyb, gyd) = (self.gyf.data_mut(), self.gyb.data_mut(), gy.data());
        for (r, rf, rb) in rows(batch, if self.seq { time } else { 1 }) {
            let g = &gyd[r * width..][..width];
            let (gf, gb) = (&mut gyf[rf * h..][..h], &mut gyb[rb * h..][..h]);
            match merge {
                Merge::Concat => {
                    gf.copy_from_slice(&g[..h]);
                    gb.copy_from_slice(&g[h..]);
                }
                Merge::Sum => {
                    gf.copy_from_slice(g);
                    gb.copy_from_slice(g);
                }
                Merge::Ave => {
                    gf.iter_mut().zip(g).for_each(|(o, v)| *o = 0.5 * v);
                    gb.iter_mut().zip(g).for_each(|(o, v)| *o = 0.5 * v);
                }
                Merge::Mul => {
                    let (f, bk) = (&yf[rf * h..][..h], &yb[rb * h..][..h]);
                    for j in 0..h {
                        gf[j] = g[j] * bk[j];
                        gb[j] = g[j] * f[j];
                    }
                }
            }
        }
        let (gf, gb) = self.halves(g_finals);
        let half = g_initial.len() / 2;
        let (gif, gib) = g_initial.split_at_mut(half);
        let half_params = self.params.len() / 2;
        let (pf, pb) = self.params.split_at_mut(half_params);
        lend(pf, self.fwd.as_mut(), |l| {
            l.backward_with_state(x, &self.yf, &self.gyf, gf, &mut self.gxf, gif)
        })?;
        lend(pb, self.bwd.as_mut(), |l| {
            l.backward_with_state(x, &self.yb, &self.gyb, gb, &mut self.gxb, gib)
        })?;
        gx.resize(x.dims());
        for ((o, a), b) in gx
            .data_mut()
            .iter_mut()
            .zip(self.gxf.data())
            .zip(self.gxb.data())
        {
            *o = a + b;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::make;
    use super::super::recurrent::tests::{gradcheck_masked, with_masked};
    use super::super::testing::*;
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    #[test]
    fn gradients_for_every_kind_and_merge_mode() {
        for kind in ["lstm", "gru", "simpleRnn"] {
            for merge in ["concat", "sum", "mul", "ave"] {
                for seq in [false, true] {
                    let cfg = format!(
                        r#"{{"layer":{{"kind":"{kind}","config":{{"units":4,"returnSequences":{seq}}}}},"mergeMode":"{merge}"}}"#
                    );
                    gradcheck("bidirectional", &cfg, normal(&[3, 5, 3], 2), false, 3e-3);
                }
            }
            let cfg = format!(
                r#"{{"layer":{{"kind":"{kind}","config":{{"units":4,"returnSequences":true}}}}}}"#
            );
            gradcheck("bidirectional", &cfg, normal(&[1, 1, 3], 3), false, 3e-3);
            gradcheck_masked(
                "bidirectional",
                &cfg,
                with_masked(&[3, 5, 3], 4, &[(0, 0), (1, 2), (2, 4), (2, 3)]),
                3e-3,
            );
        }
    }

    #[test]
    fn gradients_with_states() {
        for kind in ["lstm", "gru", "simpleRnn"] {
            for (merge, seq) in [("concat", true), ("sum", false), ("mul", true)] {
                let cfg = format!(
                    r#"{{"layer":{{"kind":"{kind}","config":{{"units":3,"returnSequences":{seq},"returnState":true}}}},"mergeMode":"{merge}"}}"#
                );
                let x = with_masked(&[2, 4, 3], 2, &[(1, 0), (0, 3)]);
                gradcheck_states("bidirectional", &cfg, x.clone(), true, true, 3e-3);
                gradcheck_states("bidirectional", &cfg, x, false, true, 3e-3);
            }
        }
    }

    /// The states go forward copy's first, backward copy's second (Keras's order): each
    /// copy alone from its half gives the same output and final states.
    #[test]
    fn states_split_between_the_copies() {
        let x = with_masked(&[2, 4, 3], 5, &[(1, 3)]);
        let inner = r#"{"units":3,"returnSequences":true,"returnState":true}"#;
        let mut bi = make(
            "bidirectional",
            &format!(r#"{{"layer":{{"kind":"lstm","config":{inner}}}}}"#),
        )
        .unwrap();
        bi.build(&[4, 3], &mut Rng::new(3)).unwrap();
        let init: Vec<Tensor> = (0..4).map(|i| normal(&[2, 3], 10 + i)).collect();
        let refs: Vec<&Tensor> = init.iter().collect();
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let mut finals: Vec<Tensor> = (0..4).map(|_| Tensor::zeros(Shape::new(vec![]))).collect();
        bi.forward_with_state(&x, &refs, &mut y, &mut finals, false)
            .unwrap();
        let params = bi.params();
        for (copy, backwards) in [(0usize, false), (1, true)] {
            let cfg = inner.replace("}", &format!(r#","goBackwards":{backwards}}}"#));
            let mut l = make("lstm", &cfg).unwrap();
            l.build(&[4, 3], &mut Rng::new(9)).unwrap();
            for (p, src) in l.params_mut().into_iter().zip(&params[copy * 3..]) {
                p.value.data_mut().copy_from_slice(src.value.data());
            }
            let mut o = Tensor::zeros(Shape::new(vec![]));
            let mut f = vec![
                Tensor::zeros(Shape::new(vec![])),
                Tensor::zeros(Shape::new(vec![])),
            ];
            l.forward_with_state(&x, &refs[copy * 2..copy * 2 + 2], &mut o, &mut f, false)
                .unwrap();
            assert_eq!(f[0].data(), finals[copy * 2].data());
            assert_eq!(f[1].data(), finals[copy * 2 + 1].data());
            for b in 0..2 {
                for t in 0..4 {
                    let src = if backwards { 3 - t } else { t };
                    assert_eq!(
                        &y.data()[(b * 4 + t) * 6 + copy * 3..][..3],
                        &o.data()[(b * 4 + src) * 3..][..3]
                    );
                }
            }
        }
        let e = bi
            .forward_with_state(&x, &refs[..2], &mut y, &mut [], false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "bidirectional: invalid `initialState`: expected 4 tensors (forward_h, forward_c, backward_h, backward_c) or none, received 2 tensors"
        );
    }

    /// The merged output equals the inner layer run on the sequence and on the reversed
    /// sequence (reversed back), with the same weights.
    #[test]
    fn matches_two_inner_layers() {
        let x = with_masked(&[2, 4, 3], 5, &[(1, 3)]);
        let inner = r#"{"units":3,"returnSequences":true}"#;
        let (bi, y) = run(
            "bidirectional",
            &format!(r#"{{"layer":{{"kind":"gru","config":{inner}}}}}"#),
            &x,
            false,
        );
        assert_eq!(y.dims(), &[2, 4, 6]);
        let names: Vec<&str> = bi.params().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "forward_kernel",
                "forward_recurrentKernel",
                "forward_bias",
                "forward_recurrentBias",
                "backward_kernel",
                "backward_recurrentKernel",
                "backward_bias",
                "backward_recurrentBias"
            ]
        );
        let mut rev = x.clone();
        for b in 0..2 {
            for t in 0..4 {
                rev.data_mut()[(b * 4 + t) * 3..][..3]
                    .copy_from_slice(&x.data()[(b * 4 + 3 - t) * 3..][..3]);
            }
        }
        let params = bi.params();
        let mut outs = Vec::new();
        for (copy, input) in [(0, &x), (1, &rev)] {
            let mut l = make("gru", inner).unwrap();
            l.build(&[4, 3], &mut Rng::new(9)).unwrap();
            for (p, src) in l.params_mut().into_iter().zip(&params[copy * 4..]) {
                p.value.data_mut().copy_from_slice(src.value.data());
            }
            let mut o = Tensor::zeros(Shape::new(vec![]));
            l.forward(input, &mut o, false).unwrap();
            outs.push(o);
        }
        for b in 0..2 {
            for t in 0..4 {
                let row = &y.data()[(b * 4 + t) * 6..][..6];
                assert_eq!(&row[..3], &outs[0].data()[(b * 4 + t) * 3..][..3]);
                assert_eq!(&row[3..], &outs[1].data()[(b * 4 + 3 - t) * 3..][..3]);
            }
        }
        // masked step (1, 3) is zero in both directions
        assert!(y.data()[(4 + 3) * 6..][..6].iter().all(|&v| v == 0.0));
        let (_, y) = run(
            "bidirectional",
            r#"{"layer":{"kind":"lstm","config":{"units":5}},"mergeMode":"sum"}"#,
            &x,
            false,
        );
        assert_eq!(y.dims(), &[2, 5]);
    }

    #[test]
    fn errors() {
        let err = |cfg: &str| make("bidirectional", cfg).err().unwrap();
        assert_eq!(err("{}").arg, "layer");
        assert_eq!(
            err(r#"{"layer":{"kind":"dense","config":{"units":2}}}"#).arg,
            "layer"
        );
        assert_eq!(
            err(r#"{"layer":{"kind":"lstm","config":{"units":2}},"mergeMode":"max"}"#).arg,
            "mergeMode"
        );
        assert_eq!(
            err(r#"{"layer":{"kind":"lstm","config":{"units":2}},"mergeMode":null,"x":1}"#).arg,
            "config"
        );
        assert_eq!(
            err(r#"{"layer":{"kind":"lstm","config":{"units":0}}}"#).arg,
            "units"
        );
        let with_state = make(
            "bidirectional",
            r#"{"layer":{"kind":"lstm","config":{"units":2,"returnState":true}}}"#,
        )
        .unwrap();
        assert!(with_state.returns_state());
        assert_eq!(
            with_state.state_names(),
            ["forward_h", "forward_c", "backward_h", "backward_c"]
        );
        assert_eq!(err(r#"{"layer":{"kind":"lstm","config":[]}}"#).arg, "layer");
        let mut l = make(
            "bidirectional",
            r#"{"layer":{"kind":"lstm","config":{"units":2}}}"#,
        )
        .unwrap();
        assert_eq!(
            l.build(&[3], &mut Rng::new(1)).unwrap_err().code(),
            "SHAPE_MISMATCH"
        );
        l.build(&[4, 3], &mut Rng::new(1)).unwrap();
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = l
            .forward(&normal(&[2, 5, 2], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(e.to_string(), "bidirectional: invalid `input`: expected shape [batch, time, 3] with time ≥ 1, received shape [2, 5, 2]");
        // any length: the weights do not depend on it
        l.forward(&normal(&[2, 5, 3], 1), &mut y, false).unwrap();
        assert_eq!(y.dims(), &[2, 4]);
        let cfg = l.config();
        assert_eq!(cfg["layer"]["kind"], "lstm");
        assert_eq!(cfg["layer"]["config"]["goBackwards"], false);
        assert_eq!(cfg["mergeMode"], "concat");
    }
}
