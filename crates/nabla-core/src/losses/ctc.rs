//! Connectionist temporal classification: l_b = −log P(labels_b | p_b), summed over
//! every alignment of the labels to the first inputLength_b frames (blanks between and
//! around labels, repeats collapsed). Per sample, in f64 and in log space, over the
//! extended sequence z = (blank, y1, blank, y2, …, yL, blank) of length 2L+1:
//!   α_0(0) = lp_0(blank), α_0(1) = lp_0(y1)
//!   α_t(s) = lse(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2) if z_s ≠ blank and z_s ≠ z_{s−2})
//!            + lp_t(z_s)
//!   log P  = lse(α_{T−1}(2L), α_{T−1}(2L−1))
//! and β symmetrically from the end. The posterior of class c at frame t is
//!   γ_t(c) = Σ_{s : z_s = c} exp(α_t(s) + β_t(s) − lp_t(z_s) − log P)
//! so dl/dlp_t(c) = −γ_t(c) for log-probability inputs and, through the log-softmax,
//! dl/dx_t(c) = softmax_t(c) − γ_t(c) for logits (fromLogits, the default). Frames at or
//! after inputLength get no gradient. Labels that cannot fit in the frames (length plus
//! repeats > inputLength) have P = 0: l = +∞ with zero gradient, or l = 0 with zero
//! gradient under zeroInfinity. See: torch.nn.CTCLoss, keras.losses.CTC.
//!
//! Units are the B samples' l_b; "mean" scales each by 1/max(L_b, 1) (L_b the label
//! length, `mean_scale`) and divides by B: torch's CTCLoss(reduction="mean"). "sum" and
//! "none" are torch's too (raw −log P).
//!
//! NOTE: where torch returns NaN
//! gradients for an impossible sample without zero_infinity, we return 0. With
//! fromLogits: false the gradient is the true derivative −γ w.r.t. the given
//! log-probabilities (torch's CTC backward returns exp(lp) − γ, which equals ours only
//! once it flows back through a log_softmax).
//! labelLengths of −1 count the row's labels up to its first padding (an entry < 0 or
//! equal to the blank); inputLengths and labelLengths may be int32 or integer-valued
//! float32.

use super::{Config, Loss, Units};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

pub struct Ctc {
    blank: i64,
    zero_infinity: bool,
    from_logits: bool,
}

pub fn build(cfg: &Config) -> Result<Box<dyn Loss>> {
    cfg.check_keys(&["blank", "zeroInfinity", "fromLogits"])?;
    let blank = cfg.int("blank", 0)?;
    if blank < 0 {
        return Err(Error::invalid(
            cfg.op,
            "blank",
            "a class index ≥ 0",
            format!("{blank}"),
        ));
    }
    Ok(Box::new(Ctc {
        blank,
        zero_infinity: cfg.bool("zeroInfinity", false)?,
        from_logits: cfg.bool("fromLogits", true)?,
    }))
}

/// log(e^a + e^b), exact when either is −∞.
fn lse(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// One length per sample: int32, or float32 holding integers (plain JS arrays).
fn lengths(op: &'static str, arg: &str, t: &Tensor, b: usize) -> Result<Vec<i64>> {
    if t.dims() != [b] {
        return Err(Error::shape(
            op,
            arg,
            format!("one length per sample, shape [{b}]"),
            format!("shape {}", t.shape()),
        ));
    }
    match t.dtype() {
        DType::I32 => Ok(t.i32s(op, arg)?.iter().map(|&v| v as i64).collect()),
        DType::F32 => t
            .f32s(op, arg)?
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 2f32.powi(31) {
                    Ok(v as i64)
                } else {
                    Err(Error::invalid(
                        op,
                        arg,
                        "integer lengths",
                        format!("{v} at index {i}"),
                    ))
                }
            })
            .collect(),
    }
}

/// A validated batch: sizes, and each sample's input length and labels.
struct Batch<'a> {
    t: usize,
    c: usize,
    blank: usize,
    input_len: Vec<usize>,
    labels: Vec<&'a [i32]>,
}

impl Ctc {
    fn check<'a>(&self, x: &[&'a Tensor]) -> Result<Batch<'a>> {
        let op = self.name();
        x[1].f32s(op, "yPred")?;
        let pd = x[1].dims();
        if pd.len() != 3 || pd[2] == 0 {
            return Err(Error::shape(
                op,
                "yPred",
                "scores of shape [batch, time, classes] with at least one class",
                format!("shape {}", x[1].shape()),
            ));
        }
        let (b, t, c) = (pd[0], pd[1], pd[2]);
        let y = x[0].i32s(op, "yTrue")?;
        let yd = x[0].dims();
        if yd.len() != 2 || yd[0] != b {
            return Err(Error::shape(
                op,
                "yTrue",
                format!("padded label rows of shape [{b}, maxLabelLength]"),
                format!("shape {}", x[0].shape()),
            ));
        }
        let s = yd[1];
        if self.blank >= c as i64 {
            return Err(Error::invalid(
                op,
                "blank",
                format!("a class index in [0, {c}) (yPred has {c} classes)"),
                format!("{}", self.blank),
            ));
        }
        let blank = self.blank as usize;
        let input_len = lengths(op, "inputLengths", x[2], b)?;
        if let Some((i, v)) = input_len
            .iter()
            .enumerate()
            .find(|(_, &v)| v < 1 || v > t as i64)
        {
            return Err(Error::invalid(
                op,
                "inputLengths",
                format!("lengths in [1, {t}] (yPred's time axis)"),
                format!("{v} at index {i}"),
            ));
        }
        let label_len = lengths(op, "labelLengths", x[3], b)?;
        let mut labels = Vec::with_capacity(b);
        for (i, &len) in label_len.iter().enumerate() {
            let row = &y[i * s..(i + 1) * s];
            let len = match len {
                -1 => row
                    .iter()
                    .position(|&v| v < 0 || v as i64 == self.blank)
                    .unwrap_or(s),
                l if (0..=s as i64).contains(&l) => l as usize,
                l => {
                    return Err(Error::invalid(
                        op,
                        "labelLengths",
                        format!("lengths in [0, {s}] (yTrue's label axis), or -1 to count"),
                        format!("{l} at index {i}"),
                    ))
                }
            };
            if let Some((k, &v)) = row[..len]
                .iter()
                .enumerate()
                .find(|(_, &v)| v < 0 || v as i64 >= c as i64 || v as i64 == self.blank)
            {
                return Err(Error::invalid(
                    op,
                    "yTrue",
                    format!("labels in [0, {c}) other than the blank ({blank}), for the first labelLengths entries of each row"),
                    format!("{v} at row {i}, position {k}"),
                ));
            }
            labels.push(&row[..len]);
        }
        Ok(Batch {
            t,
            c,
            blank,
            input_len: input_len.iter().map(|&v| v as usize).collect(),
            labels,
        })
    }

    /// Log-probabilities of the first `frames` frames of one sample, f64 [frames, C].
    fn log_probs(&self, x: &[f32], frames: usize, c: usize, sample: usize) -> Result<Vec<f64>> {
        let mut lp = vec![0f64; frames * c];
        for t in 0..frames {
            let row = &x[t * c..(t + 1) * c];
            if self.from_logits {
                if let Some((k, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::invalid(
                        self.name(),
                        "yPred",
                        "finite logits",
                        format!("{v} at sample {sample}, frame {t}, class {k}"),
                    ));
                }
                let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
                let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
                for k in 0..c {
                    lp[t * c + k] = row[k] as f64 - lse;
                }
            } else {
                if let Some((k, v)) = row
                    .iter()
                    .enumerate()
                    .find(|(_, v)| v.is_nan() || **v == f32::INFINITY)
                {
                    return Err(Error::invalid(
                        self.name(),
                        "yPred",
                        "log-probabilities (finite or -Infinity); pass fromLogits: true for raw scores",
                        format!("{v} at sample {sample}, frame {t}, class {k}"),
                    ));
                }
                for k in 0..c {
                    lp[t * c + k] = row[k] as f64;
                }
            }
        }
        Ok(lp)
    }

    /// −log P and d(−log P)/d(input) for one sample's frames (None when P = 0).
    fn sample(
        &self,
        lp: &[f64],
        frames: usize,
        c: usize,
        blank: usize,
        y: &[i32],
    ) -> (f64, Option<Vec<f64>>) {
        let u = 2 * y.len() + 1;
        let z: Vec<usize> = (0..u)
            .map(|s| if s % 2 == 0 { blank } else { y[s / 2] as usize })
            .collect();
        // A skip over the blank between two labels, allowed unless they are equal.
        let skip = |s: usize| s >= 2 && z[s] != blank && z[s] != z[s - 2];
        let ninf = f64::NEG_INFINITY;
        let mut alpha = vec![ninf; frames * u];
        alpha[0] = lp[blank];
        if u > 1 {
            alpha[1] = lp[z[1]];
        }
        for t in 1..frames {
            for s in 0..u {
                let prev = &alpha[(t - 1) * u..t * u];
                let mut a = prev[s];
                if s >= 1 {
                    a = lse(a, prev[s - 1]);
                }
                if skip(s) {
                    a = lse(a, prev[s - 2]);
                }
                alpha[t * u + s] = if a == ninf {
                    ninf
                } else {
                    a + lp[t * c + z[s]]
                };
            }
        }
        let last = &alpha[(frames - 1) * u..];
        let log_p = if u > 1 {
            lse(last[u - 1], last[u - 2])
        } else {
            last[0]
        };
        if log_p == ninf {
            return (f64::INFINITY, None);
        }
        let mut beta = vec![ninf; frames * u];
        let end = (frames - 1) * u;
        beta[end + u - 1] = lp[(frames - 1) * c + blank];
        if u > 1 {
            beta[end + u - 2] = lp[(frames - 1) * c + z[u - 2]];
        }
        for t in (0..frames - 1).rev() {
            for s in 0..u {
                let next = &beta[(t + 1) * u..(t + 2) * u];
                let mut b = next[s];
                if s + 1 < u {
                    b = lse(b, next[s + 1]);
                }
                if s + 2 < u && skip(s + 2) {
                    b = lse(b, next[s + 2]);
                }
                beta[t * u + s] = if b == ninf {
                    ninf
                } else {
                    b + lp[t * c + z[s]]
                };
            }
        }
        let mut grad = vec![0f64; frames * c];
        for t in 0..frames {
            let g = &mut grad[t * c..(t + 1) * c];
            for s in 0..u {
                let (a, b) = (alpha[t * u + s], beta[t * u + s]);
                if a != ninf && b != ninf {
                    g[z[s]] -= (a + b - lp[t * c + z[s]] - log_p).exp();
                }
            }
            if self.from_logits {
                for k in 0..c {
                    g[k] += lp[t * c + k].exp();
                }
            }
        }
        (-log_p, Some(grad))
    }
}

impl Loss for Ctc {
    fn name(&self) -> &'static str {
        "ctc"
    }

    fn inputs(&self) -> &'static [&'static str] {
        &["yTrue", "yPred", "inputLengths", "labelLengths"]
    }

    /// Log-probabilities (fromLogits: false) may be −∞: a class that cannot occur.
    fn allows_infinity(&self, i: usize) -> bool {
        i == 1 && !self.from_logits
    }

    fn forward(&self, x: &[&Tensor]) -> Result<Units> {
        let batch = self.check(x)?;
        let (t, c) = (batch.t, batch.c);
        let pred = x[1].data();
        let n = batch.labels.len();
        let (mut values, mut grads) = (vec![0f32; n], vec![0f32; pred.len()]);
        let scale: Vec<f32> = batch
            .labels
            .iter()
            .map(|y| (1.0 / y.len().max(1) as f64) as f32)
            .collect();
        for (i, y) in batch.labels.iter().enumerate() {
            let frames = batch.input_len[i];
            let lp = self.log_probs(&pred[i * t * c..], frames, c, i)?;
            match self.sample(&lp, frames, c, batch.blank, y) {
                (loss, Some(g)) => {
                    values[i] = loss as f32;
                    for (dst, &v) in grads[i * t * c..].iter_mut().zip(&g) {
                        *dst = v as f32;
                    }
                }
                (_, None) => {
                    values[i] = if self.zero_infinity {
                        0.0
                    } else {
                        f32::INFINITY
                    };
                }
            }
        }
        Ok(Units {
            values: Tensor::new(Shape::new(vec![n]), values),
            denom: n as f64,
            batch: n,
            saved: vec![
                Tensor::new(x[1].shape().clone(), grads),
                Tensor::new(Shape::new(vec![n]), scale),
            ],
        })
    }

    /// torch's mean: each sample's loss over its label length (at least 1).
    fn mean_scale(&self, units: &Units) -> Option<Vec<f32>> {
        units.saved.get(1).map(|s| s.data().to_vec())
    }

    fn backward(&self, x: &[&Tensor], units: &Units, up: &[f32]) -> Result<Vec<Option<Tensor>>> {
        let per_unit = units
            .saved
            .first()
            .ok_or_else(|| Error::state(self.name(), "a forward pass before backward", "none"))?
            .data();
        let row = per_unit.len() / up.len().max(1);
        let g = per_unit
            .iter()
            .enumerate()
            .map(|(i, &v)| v * up[i / row])
            .collect();
        Ok(vec![
            None,
            Some(Tensor::new(x[1].shape().clone(), g)),
            None,
            None,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{build, LossOp};
    use crate::autograd::Op;
    use crate::tensor::Tensor;

    const NAME: &str = "ctc";

    fn lens(v: &[i32]) -> Tensor {
        labels(v, &[v.len()])
    }

    fn run(cfg: &str, x: &[&Tensor]) -> Vec<f32> {
        let cfg = cfg.trim_end_matches('}').to_string()
            + if cfg.is_empty() {
                r#"{"reduction":"none"}"#
            } else {
                r#","reduction":"none"}"#
            };
        LossOp::new(NAME, &cfg, false)
            .unwrap()
            .forward(x)
            .unwrap()
            .into_vec()
    }

    fn fails(cfg: &str, x: &[&Tensor]) -> String {
        error(NAME, cfg, x)
    }

    /// −log P by enumerating every path of `frames` frames (C^frames of them).
    fn brute(logits: &[f32], frames: usize, c: usize, blank: usize, y: &[i32]) -> f64 {
        let lp: Vec<f64> = (0..frames)
            .flat_map(|t| {
                let row = &logits[t * c..(t + 1) * c];
                let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
                row.iter().map(move |&v| v as f64 - lse)
            })
            .collect();
        let mut total = 0.0f64;
        for code in 0..c.pow(frames as u32) {
            let path: Vec<usize> = (0..frames).map(|t| code / c.pow(t as u32) % c).collect();
            let mut out = Vec::new();
            for (t, &k) in path.iter().enumerate() {
                if k != blank && (t == 0 || path[t - 1] != k) {
                    out.push(k as i32);
                }
            }
            if out == y {
                total += path
                    .iter()
                    .enumerate()
                    .map(|(t, &k)| lp[t * c + k])
                    .sum::<f64>()
                    .exp();
            }
        }
        -total.ln()
    }

    #[test]
    fn matches_brute_force_enumeration() {
        // [batch 6, T 4, C 3]: labels with repeats, empty, impossible, short inputs.
        let p = normal(&[6, 4, 3], 11);
        let y = labels(
            &[1, 2, 0, 1, 1, 0, 2, -1, -1, 0, 0, 0, 1, 1, 2, 2, 2, 1],
            &[6, 3],
        );
        let input = lens(&[4, 4, 2, 4, 4, 3]);
        let label = lens(&[2, -1, -1, 0, 3, 2]);
        let rows: [&[i32]; 6] = [&[1, 2], &[1, 1], &[2], &[], &[1, 1, 2], &[2, 2]];
        let got = run("", &[&y, &p, &input, &label]);
        for (i, row) in rows.iter().enumerate() {
            let frames = [4, 4, 2, 4, 4, 3][i];
            let want = brute(&p.data()[i * 12..], frames, 3, 0, row);
            assert!(want.is_finite(), "sample {i}");
            assert!(
                (got[i] as f64 - want).abs() < 1e-5 * (1.0 + want),
                "sample {i}: {} vs {want}",
                got[i]
            );
        }
        // "mean" is torch's: per-sample loss over its length, averaged over the batch.
        let mean = value(NAME, "", &[&y, &p, &input, &label]);
        let torch_mean: f32 = (0..6)
            .map(|i| got[i] / rows[i].len().max(1) as f32)
            .sum::<f32>()
            / 6.0;
        assert!((mean - torch_mean).abs() < 1e-5);
        let sum = value(NAME, r#"{"reduction":"sum"}"#, &[&y, &p, &input, &label]);
        assert!((sum - got.iter().sum::<f32>()).abs() < 1e-4);
        // Another blank index, and log-probability inputs.
        let y2 = labels(&[0, 1, 1, 0, 2, 2], &[2, 3]);
        let p = t(&p.data()[..24], &[2, 4, 3]);
        let got = run(
            r#"{"blank":2}"#,
            &[&y2, &p, &lens(&[4, 3]), &lens(&[-1, -1])],
        );
        let want0 = brute(&p.data()[..12], 4, 3, 2, &[0, 1, 1]);
        let want1 = brute(&p.data()[12..], 3, 3, 2, &[0]);
        assert!(
            (got[0] as f64 - want0).abs() < 1e-5 * (1.0 + want0),
            "{got:?} {want0}"
        );
        assert!(
            (got[1] as f64 - want1).abs() < 1e-5 * (1.0 + want1),
            "{got:?} {want1}"
        );
        let logp: Vec<f32> = (0..8)
            .flat_map(|r| {
                let row = &p.data()[r * 3..r * 3 + 3];
                let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
                row.iter().map(move |&v| (v as f64 - lse) as f32)
            })
            .collect();
        let got_lp = run(
            r#"{"blank":2,"fromLogits":false}"#,
            &[&y2, &t(&logp, &[2, 4, 3]), &lens(&[4, 3]), &lens(&[-1, -1])],
        );
        assert!((got_lp[0] - got[0]).abs() < 1e-5 && (got_lp[1] - got[1]).abs() < 1e-5);
    }

    #[test]
    fn known_value_by_hand() {
        // T = 2, C = 2 (blank 0), label [1], uniform frames: paths 11, 01, 10 → P = 3/4.
        let p = t(&[0.0; 4], &[1, 2, 2]);
        let v = value(
            NAME,
            "",
            &[&labels(&[1], &[1, 1]), &p, &lens(&[2]), &lens(&[1])],
        );
        assert!((v as f64 - (4.0f64 / 3.0).ln()).abs() < 1e-6);
        // Empty label: only the all-blank path, P = 1/4.
        let v = value(
            NAME,
            "",
            &[&labels(&[1], &[1, 1]), &p, &lens(&[2]), &lens(&[0])],
        );
        assert!((v as f64 - 4f64.ln()).abs() < 1e-6);
    }

    #[test]
    fn impossible_alignments() {
        // [1, 1] needs three frames (1, blank, 1); two are given.
        let p = normal(&[2, 3, 3], 5);
        let y = labels(&[1, 1, 2, 0], &[2, 2]);
        let x = [&y, &p, &lens(&[2, 3]), &lens(&[2, 1])];
        let l = run("", &x);
        assert_eq!(l[0], f32::INFINITY);
        assert!(l[1].is_finite());
        assert_eq!(value(NAME, "", &x), f32::INFINITY);
        let z = run(r#"{"zeroInfinity":true}"#, &x);
        assert_eq!(z[0], 0.0);
        assert_eq!(z[1], l[1]);
        for cfg in ["", r#"{"zeroInfinity":true}"#] {
            let op = LossOp::new(
                NAME,
                &(cfg.to_string()
                    + if cfg.is_empty() {
                        r#"{"reduction":"sum"}"#
                    } else {
                        ""
                    }),
                false,
            )
            .unwrap();
            let (_, g) = op.value_and_grad(&x).unwrap();
            assert!(g[0].data()[..9].iter().all(|&v| v == 0.0));
            assert!(g[0].data()[9..].iter().any(|&v| v != 0.0));
            assert!(g[0].data().iter().all(|v| v.is_finite()));
        }
        // Log-probabilities of −∞ make a path impossible without producing NaN.
        let ninf = f32::NEG_INFINITY;
        let lp = t(&[0.0, ninf, 0.0, ninf], &[1, 2, 2]);
        let x = [&labels(&[1], &[1, 1]), &lp, &lens(&[2]), &lens(&[1])];
        assert_eq!(run(r#"{"fromLogits":false}"#, &x)[0], f32::INFINITY);
        let lp = t(&[ninf, 0.0, -1.0, -0.5], &[1, 2, 2]);
        let x = [&labels(&[1], &[1, 1]), &lp, &lens(&[2]), &lens(&[1])];
        let op = LossOp::new(NAME, r#"{"fromLogits":false}"#, false).unwrap();
        let (v, g) = op.value_and_grad(&x).unwrap();
        assert!(v.data()[0].is_finite());
        assert!(
            g[0].data().iter().all(|v| v.is_finite()),
            "{:?}",
            g[0].data()
        );
    }

    #[test]
    fn logits_of_1e4_are_exact() {
        // The only likely path is "1 1 blank" → label [1] with probability 1.
        let p = t(&[-1e4, 1e4, -1e4, 1e4, 1e4, -1e4], &[1, 3, 2]);
        let v = value(
            NAME,
            "",
            &[&labels(&[1], &[1, 1]), &p, &lens(&[3]), &lens(&[1])],
        );
        assert_eq!(v, 0.0);
        // Label [1, 1] needs "1 blank 1": 2e4 at each of the last two frames; mean ÷ L = 2.
        let v = value(
            NAME,
            "",
            &[&labels(&[1, 1], &[1, 2]), &p, &lens(&[3]), &lens(&[2])],
        );
        assert_eq!(v, 2e4);
        let op = LossOp::new(NAME, "", false).unwrap();
        let (_, g) = op
            .value_and_grad(&[&labels(&[1], &[1, 1]), &p, &lens(&[3]), &lens(&[1])])
            .unwrap();
        assert!(g[0].data().iter().all(|v| v.is_finite() && v.abs() < 1e-6));
    }

    #[test]
    fn gradients() {
        let y = labels(&[1, 2, 2, 1, -1, -1, 2, 1, 1], &[3, 3]);
        for cfg in [
            "",
            r#"{"zeroInfinity":true}"#,
            r#"{"fromLogits":false}"#,
            r#"{"blank":3}"#,
        ] {
            let yb = if cfg.contains("blank") {
                labels(&[1, 2, 0, 1, -1, -1, 2, 1, 1], &[3, 3])
            } else {
                y.clone()
            };
            gradcheck(
                NAME,
                cfg,
                vec![
                    yb.clone(),
                    normal(&[3, 5, 4], 1),
                    lens(&[5, 3, 5]),
                    lens(&[3, -1, 2]),
                ],
                1e-3,
                2e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![
                    labels(&[2, 2], &[1, 2]),
                    normal(&[1, 7, 4], 2),
                    lens(&[7]),
                    lens(&[2]),
                ],
                1e-3,
                2e-3,
            );
            gradcheck(
                NAME,
                cfg,
                vec![
                    labels(&[3], &[1, 1]),
                    normal(&[1, 1, 5], 3),
                    lens(&[1]),
                    lens(&[-1]),
                ],
                1e-3,
                2e-3,
            );
        }
        // zeroInfinity with an impossible sample in the batch.
        gradcheck(
            NAME,
            r#"{"zeroInfinity":true}"#,
            vec![
                labels(&[1, 1, 2, 0], &[2, 2]),
                normal(&[2, 3, 3], 4),
                lens(&[2, 3]),
                lens(&[2, 1]),
            ],
            1e-3,
            2e-3,
        );
    }

    #[test]
    fn float_lengths_are_accepted() {
        let p = normal(&[2, 4, 3], 9);
        let y = labels(&[1, 2, 2, 0], &[2, 2]);
        let a = value(NAME, "", &[&y, &p, &lens(&[4, 3]), &lens(&[2, 1])]);
        let b = value(
            NAME,
            "",
            &[&y, &p, &t(&[4.0, 3.0], &[2]), &t(&[2.0, -1.0], &[2])],
        );
        assert_eq!(a, b);
    }

    #[test]
    fn errors() {
        let p = normal(&[2, 4, 3], 1);
        let y = labels(&[1, 2, 2, -1], &[2, 2]);
        let (il, ll) = (lens(&[4, 4]), lens(&[-1, -1]));
        assert_eq!(
            fails("", &[&y, &normal(&[2, 4], 1), &il, &ll]),
            "ctc: invalid `yPred`: expected scores of shape [batch, time, classes] with at least one class, received shape [2, 4]"
        );
        assert_eq!(
            fails("", &[&labels(&[1, 2], &[2]), &p, &il, &ll]),
            "ctc: invalid `yTrue`: expected padded label rows of shape [2, maxLabelLength], received shape [2]"
        );
        assert!(fails("", &[&t(&[1.0; 4], &[2, 2]), &p, &il, &ll])
            .contains("invalid `yTrue`: expected an int32 tensor"));
        assert_eq!(
            fails("", &[&y, &p, &lens(&[4, 5]), &ll]),
            "ctc: invalid `inputLengths`: expected lengths in [1, 4] (yPred's time axis), received 5 at index 1"
        );
        assert!(fails("", &[&y, &p, &lens(&[0, 4]), &ll]).contains("received 0 at index 0"));
        assert_eq!(
            fails("", &[&y, &p, &lens(&[4]), &ll]),
            "ctc: invalid `inputLengths`: expected one length per sample, shape [2], received shape [1]"
        );
        assert_eq!(
            fails("", &[&y, &p, &il, &lens(&[3, 1])]),
            "ctc: invalid `labelLengths`: expected lengths in [0, 2] (yTrue's label axis), or -1 to count, received 3 at index 0"
        );
        assert!(fails("", &[&y, &p, &il, &t(&[1.5, 1.0], &[2])])
            .contains("invalid `labelLengths`: expected integer lengths, received 1.5 at index 0"));
        assert_eq!(
            fails("", &[&y, &p, &il, &lens(&[2, 2])]),
            "ctc: invalid `yTrue`: expected labels in [0, 3) other than the blank (0), for the first labelLengths entries of each row, received -1 at row 1, position 1"
        );
        assert!(fails("", &[&labels(&[1, 3, 0, 0], &[2, 2]), &p, &il, &ll])
            .contains("received 3 at row 0, position 1"));
        assert!(fails(
            "",
            &[&labels(&[0, 1, 2, 2], &[2, 2]), &p, &il, &lens(&[2, 2])]
        )
        .contains("received 0 at row 0, position 0"));
        assert_eq!(
            fails(r#"{"blank":3}"#, &[&y, &p, &il, &ll]),
            "ctc: invalid `blank`: expected a class index in [0, 3) (yPred has 3 classes), received 3"
        );
        assert!(
            fails(r#"{"blank":-1}"#, &[]).contains("invalid `blank`: expected a class index ≥ 0")
        );
        assert!(fails(r#"{"blank":0.5}"#, &[]).contains("invalid `blank`: expected an integer"));
        assert!(fails(r#"{"zeroInfinity":"yes"}"#, &[]).contains("invalid `zeroInfinity`"));
        assert!(fails(r#"{"reduction":"batchmean"}"#, &[]).contains("invalid `reduction`"));
        let mut bad = p.clone();
        bad.data_mut()[5] = f32::NAN;
        // LossOp refuses NaN before the loss runs; the loss's own check names the frame.
        assert_eq!(
            fails("", &[&y, &bad, &il, &ll]),
            "ctc: invalid `yPred`: expected finite values, received NaN at index 5"
        );
        let direct = |cfg: &str, p: &Tensor| {
            build(NAME, cfg)
                .unwrap()
                .0
                .forward(&[&y, p, &il, &ll])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            direct("", &bad),
            "ctc: invalid `yPred`: expected finite logits, received NaN at sample 0, frame 1, class 2"
        );
        // Log-probabilities may be −∞ but not +∞.
        let mut inf = p.clone();
        inf.data_mut()[5] = f32::INFINITY;
        assert_eq!(
            fails(r#"{"fromLogits":false}"#, &[&y, &inf, &il, &ll]),
            "ctc: invalid `yPred`: expected log-probabilities (finite or -Infinity); pass fromLogits: true for raw scores, received inf at sample 0, frame 1, class 2"
        );
        inf.data_mut()[5] = f32::NEG_INFINITY;
        assert!(fails(r#"{"fromLogits":false}"#, &[&y, &inf, &il, &ll]).is_empty());
        assert!(fails("", &[&y, &inf, &il, &ll]).contains("expected finite values"));
    }
}
