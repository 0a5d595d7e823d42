//! Training metrics: streaming values that `fit` and `evaluate` report next to the loss.
//! A metric accumulates counts and sums in f64 over the batches it is given (`update`)
//! and reports the value over everything since the last `reset` (0 before any data).
//!
//! One file per family: `accuracy`, `binary_accuracy`, `sparse_top_k`, `mean_error`
//! (mse, mae) and `confusion` (precision, recall, f1). This file is the catalogue and
//! the input checks they share. Arguments are `(yTrue, yPred)`, as for losses.
//!
//! Every update validates its inputs before it counts anything: a shape, dtype or value
//! a user got wrong (NaN and ±∞ included) is an error naming the metric and `yTrue` or
//! `yPred`, and leaves the metric as it was.

mod accuracy;
mod binary_accuracy;
mod confusion;
mod mean_error;
mod sparse_top_k;

use crate::error::{Error, Result};
use crate::losses::Config;
use crate::shape::Shape;
use crate::tensor::{DType, Tensor};

pub trait Metric {
    /// The public name (`sparseTopK`), as given to `make`.
    fn name(&self) -> &'static str;

    /// Forgets everything seen so far.
    fn reset(&mut self);

    /// Adds one batch. On error nothing is added.
    fn update(&mut self, y_true: &Tensor, y_pred: &Tensor) -> Result<()>;

    /// The value over every batch since the last reset; 0 if there were none.
    fn result(&self) -> f64;
}

/// Every metric's public name, in catalogue order.
pub const NAMES: &[&str] = &[
    "accuracy",
    "binaryAccuracy",
    "sparseTopK",
    "mse",
    "mae",
    "precision",
    "recall",
    "f1",
];

type Builder = fn(&Config) -> Result<Box<dyn Metric>>;

/// Every metric by public name; a test holds it to `NAMES`.
const CATALOGUE: &[(&str, Builder)] = &[
    ("accuracy", accuracy::build),
    ("binaryAccuracy", binary_accuracy::build),
    ("sparseTopK", sparse_top_k::build),
    ("mse", mean_error::build_mse),
    ("mae", mean_error::build_mae),
    ("precision", confusion::build_precision),
    ("recall", confusion::build_recall),
    ("f1", confusion::build_f1),
];

/// Builds the metric `name` from its JSON config (an object of options, or empty for
/// the defaults).
pub fn make(name: &str, config_json: &str) -> Result<Box<dyn Metric>> {
    let (op, builder) = CATALOGUE.iter().find(|(n, _)| *n == name).ok_or_else(|| {
        Error::invalid(
            "metrics",
            "name",
            format!("one of {}", NAMES.join(", ")),
            format!("\"{name}\""),
        )
    })?;
    builder(&Config::parse(op, config_json)?)
}

// --- shared by the metric files -------------------------------------------------------

/// For metrics without options: any key is an error.
fn no_options(cfg: &Config) -> Result<()> {
    cfg.check_keys(&[]).map_err(|mut e| {
        e.expected = "no options".into();
        e
    })
}

/// `a / b`, or 0 when nothing was counted.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// A tensor's values whatever its dtype: labels and targets may be int32 or float.
#[derive(Clone, Copy)]
enum Values<'a> {
    F32(&'a [f32]),
    I32(&'a [i32]),
}

impl Values<'_> {
    fn len(self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::I32(v) => v.len(),
        }
    }

    fn get(self, i: usize) -> f64 {
        match self {
            Values::F32(v) => v[i] as f64,
            Values::I32(v) => v[i] as f64,
        }
    }

    /// The index (within the row) of the largest of the `c` values from `start`; the
    /// first one on ties, as numpy, TensorFlow and torch do.
    fn argmax(self, start: usize, c: usize) -> usize {
        let mut best = 0;
        for k in 1..c {
            if self.get(start + k) > self.get(start + best) {
                best = k;
            }
        }
        best
    }
}

/// The float values of `t`, which must all be finite: NaN or ±∞ would count as a miss
/// (or poison a sum) without saying why.
fn finite<'a>(op: &'static str, arg: &str, t: &'a Tensor) -> Result<&'a [f32]> {
    let v = t.f32s(op, arg)?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(
            op,
            arg,
            "finite values",
            format!("{} at index {i}", v[i]),
        ));
    }
    Ok(v)
}

/// The values of `t`, int32 or finite float.
fn values<'a>(op: &'static str, arg: &str, t: &'a Tensor) -> Result<Values<'a>> {
    Ok(match t.dtype() {
        DType::I32 => Values::I32(t.i32s(op, arg)?),
        DType::F32 => Values::F32(finite(op, arg, t)?),
    })
}

/// Class scores `yPred` [..., C]: finite floats with a class axis of at least one
/// class. Returns the values and C.
fn scores<'a>(op: &'static str, y_pred: &'a Tensor) -> Result<(&'a [f32], usize)> {
    y_pred.f32s(op, "yPred")?;
    let c = match y_pred.dims().last() {
        None => {
            return Err(Error::shape(
                op,
                "yPred",
                "class scores of shape [..., classes]",
                "a scalar (shape [])",
            ))
        }
        Some(0) => {
            return Err(Error::shape(
                op,
                "yPred",
                "at least one class on the last axis",
                format!("shape {}", y_pred.shape()),
            ))
        }
        Some(&c) => c,
    };
    Ok((finite(op, "yPred", y_pred)?, c))
}

/// `yTrue` and `yPred` pair up element by element: the same shape, or shapes that
/// differ only by a trailing axis of 1 (`[N]` with `[N, 1]`), which Keras squeezes.
fn paired(op: &'static str, y_true: &Tensor, y_pred: &Tensor) -> Result<()> {
    let (t, p) = (y_true.dims(), y_pred.dims());
    let squeezed =
        |a: &[usize], b: &[usize]| a.len() == b.len() + 1 && a[b.len()] == 1 && a[..b.len()] == *b;
    if t == p || squeezed(t, p) || squeezed(p, t) {
        return Ok(());
    }
    Err(Error::shape(
        op,
        "yTrue",
        format!("the shape of `yPred`, {}", y_pred.shape()),
        format!("shape {}", y_true.shape()),
    ))
}

/// For each element pair of a binary metric: (yTrue > 0.5, yPred > threshold). yTrue may
/// be float or int32 (0/1); the threshold is compared in f32, as Keras does.
fn binary<'a>(
    op: &'static str,
    y_true: &'a Tensor,
    y_pred: &'a Tensor,
    threshold: f64,
) -> Result<impl Iterator<Item = (bool, bool)> + 'a> {
    y_pred.f32s(op, "yPred")?;
    paired(op, y_true, y_pred)?;
    let p = finite(op, "yPred", y_pred)?;
    let t = values(op, "yTrue", y_true)?;
    let threshold = threshold as f32;
    Ok(p.iter()
        .enumerate()
        .map(move |(i, &p)| (t.get(i) > 0.5, p > threshold)))
}

/// The true class of each row of `yPred` [..., C] (validated by `scores`), from class
/// indices of shape [...] or [..., 1] (int32, or integer-valued floats) in [0, C); or,
/// if `targets`, from the argmax of one-hot or probability targets of yPred's shape.
fn true_classes(
    op: &'static str,
    y_true: &Tensor,
    y_pred: &Tensor,
    c: usize,
    targets: bool,
) -> Result<Vec<usize>> {
    let mut classes = Vec::new();
    true_classes_into(op, y_true, y_pred, c, targets, &mut classes)?;
    Ok(classes)
}

/// `true_classes` into `out` (cleared; its capacity reused, for a metric updated every
/// training step).
fn true_classes_into(
    op: &'static str,
    y_true: &Tensor,
    y_pred: &Tensor,
    c: usize,
    targets: bool,
    out: &mut Vec<usize>,
) -> Result<()> {
    out.clear();
    let (pd, td) = (y_pred.dims(), y_true.dims());
    let lead = &pd[..pd.len() - 1];
    // [..., 1] is a column of labels unless it is yPred's own shape and may be targets.
    let column = td.len() == pd.len() && td[..lead.len()] == *lead && td[lead.len()] == 1;
    if td == lead || (column && !(targets && td == pd)) {
        let v = values(op, "yTrue", y_true)?;
        for i in 0..v.len() {
            let y = v.get(i);
            if !(y.fract() == 0.0 && y >= 0.0 && y < c as f64) {
                out.clear();
                return Err(Error::invalid(
                    op,
                    "yTrue",
                    format!("class indices in [0, {c})"),
                    format!("{y} at index {i}"),
                ));
            }
            out.push(y as usize);
        }
        return Ok(());
    }
    if targets && td == pd {
        let v = values(op, "yTrue", y_true)?;
        out.extend((0..v.len() / c).map(|r| v.argmax(r * c, c)));
        return Ok(());
    }
    let labels = Shape::new(lead.to_vec());
    let also = if targets {
        format!(", or targets of yPred's shape {}", y_pred.shape())
    } else {
        String::new()
    };
    Err(Error::shape(
        op,
        "yTrue",
        format!("class indices of shape {labels} (yPred's shape without its class axis){also}"),
        format!("shape {}", y_true.shape()),
    ))
}

/// Shared by the metric files' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn t(data: &[f32], dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    pub fn labels(data: &[i32], dims: &[usize]) -> Tensor {
        Tensor::from_i32("test", data.to_vec(), Shape::new(dims.to_vec())).unwrap()
    }

    /// The result of `name` with `config` after one update on (y_true, y_pred).
    pub fn value(name: &str, config: &str, y_true: &Tensor, y_pred: &Tensor) -> f64 {
        let mut m = make(name, config).unwrap();
        m.update(y_true, y_pred).unwrap();
        m.result()
    }

    /// The message of the error that building or updating gives ("" if none).
    pub fn error(name: &str, config: &str, y_true: &Tensor, y_pred: &Tensor) -> String {
        match make(name, config) {
            Err(e) => e.to_string(),
            Ok(mut m) => m
                .update(y_true, y_pred)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        }
    }

    pub fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn the_catalogue_is_the_list_of_names() {
        let names: Vec<&str> = CATALOGUE.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, NAMES);
        for name in NAMES {
            let m = make(name, "").unwrap();
            assert_eq!(m.name(), *name);
            assert_eq!(m.result(), 0.0, "{name}: result of nothing");
        }
    }

    #[test]
    fn make_names_what_is_wrong() {
        let err = |n: &str, c: &str| make(n, c).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            err("acc", ""),
            "metrics: invalid `name`: expected one of accuracy, binaryAccuracy, sparseTopK, \
             mse, mae, precision, recall, f1, received \"acc\""
        );
        assert_eq!(make("acc", "").err().unwrap().code(), "INVALID_ARGUMENT");
        assert_eq!(
            err("mse", r#"{"threshold":0.5}"#),
            "mse: invalid `config`: expected no options, received unknown option `threshold`"
        );
        assert_eq!(
            err("f1", r#"{"k":3}"#),
            "f1: invalid `config`: expected options among threshold, classId, received unknown option `k`"
        );
        assert_eq!(
            err("precision", "[1]"),
            "precision: invalid `config`: expected an object of options, received [1]"
        );
        assert_eq!(
            err("binaryAccuracy", r#"{"threshold":"high"}"#),
            "binaryAccuracy: invalid `threshold`: expected a number, received \"high\""
        );
        assert_eq!(err("accuracy", "{}"), "");
    }

    /// Rows `from..to` (first axis) of a tensor of either dtype.
    fn rows(x: &Tensor, from: usize, to: usize) -> Tensor {
        let d = x.dims();
        let per: usize = d[1..].iter().product();
        let mut dims = d.to_vec();
        dims[0] = to - from;
        match x.dtype() {
            DType::F32 => t(&x.data()[from * per..to * per], &dims),
            DType::I32 => labels(&x.i32s("test", "x").unwrap()[from * per..to * per], &dims),
        }
    }

    /// (yTrue, yPred) of 20 rows that suit metric `name` (and `config`).
    fn batch(name: &str, config: &str, r: &mut Rng) -> (Tensor, Tensor) {
        let n = 20;
        let normal = |r: &mut Rng, k: usize| (0..k).map(|_| r.normal()).collect::<Vec<f32>>();
        let classes = |r: &mut Rng| {
            (0..n)
                .map(|_| (r.next_u32() % 4) as i32)
                .collect::<Vec<i32>>()
        };
        let bits = |r: &mut Rng, k: usize| {
            (0..k)
                .map(|_| (r.normal() > 0.0) as i32 as f32)
                .collect::<Vec<f32>>()
        };
        match name {
            "accuracy" | "sparseTopK" => (labels(&classes(r), &[n]), t(&normal(r, n * 4), &[n, 4])),
            _ if config.contains("classId") => {
                (labels(&classes(r), &[n]), t(&normal(r, n * 4), &[n, 4]))
            }
            "mse" | "mae" => (t(&normal(r, n * 3), &[n, 3]), t(&normal(r, n * 3), &[n, 3])),
            _ => (t(&bits(r, n * 3), &[n, 3]), t(&normal(r, n * 3), &[n, 3])),
        }
    }

    #[test]
    fn streaming_over_batches_equals_one_big_batch_and_reset_forgets() {
        let mut r = Rng::new(7);
        let cases: Vec<(&str, &str)> = NAMES
            .iter()
            .map(|n| (*n, ""))
            .chain([
                ("sparseTopK", r#"{"k":2}"#),
                ("binaryAccuracy", r#"{"threshold":0.3}"#),
                ("precision", r#"{"classId":1}"#),
                ("recall", r#"{"classId":2}"#),
                ("f1", r#"{"classId":0}"#),
                ("f1", r#"{"threshold":0}"#),
            ])
            .collect();
        for (name, config) in cases {
            let (y, p) = batch(name, config, &mut r);
            let whole = value(name, config, &y, &p);
            let mut m = make(name, config).unwrap();
            for (a, b) in [(0, 3), (3, 3), (3, 11), (11, 20)] {
                m.update(&rows(&y, a, b), &rows(&p, a, b)).unwrap();
            }
            assert!(
                close(m.result(), whole),
                "{name} {config}: {} vs {whole}",
                m.result()
            );
            assert!(whole > 0.0, "{name} {config}: a test that cannot tell");
            m.reset();
            assert_eq!(m.result(), 0.0, "{name} {config}: after reset");
            m.update(&rows(&y, 0, 11), &rows(&p, 0, 11)).unwrap();
            assert!(close(
                m.result(),
                value(name, config, &rows(&y, 0, 11), &rows(&p, 0, 11))
            ));
        }
    }

    #[test]
    fn a_failed_update_changes_nothing() {
        let mut r = Rng::new(8);
        for name in NAMES {
            let (y, p) = batch(name, "", &mut r);
            let mut m = make(name, "").unwrap();
            m.update(&y, &p).unwrap();
            let before = m.result();
            let mut bad = p.clone();
            let last = bad.numel() - 1;
            bad.data_mut()[last] = f32::NAN;
            let e = m.update(&y, &bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{name}: invalid `yPred`: expected finite values, received NaN at index {last}"
                )
            );
            assert!(m.update(&y, &t(&[0.5], &[1, 1])).is_err(), "{name}");
            assert_eq!(m.result(), before, "{name}");
        }
    }

    #[test]
    fn values_read_labels_of_either_dtype() {
        let p = t(&[0.1, 0.9, 0.8, 0.2], &[2, 2]);
        assert_eq!(
            true_classes("x", &labels(&[1, 0], &[2]), &p, 2, false).unwrap(),
            [1, 0]
        );
        assert_eq!(
            true_classes("x", &t(&[1.0, 0.0], &[2, 1]), &p, 2, false).unwrap(),
            [1, 0]
        );
        assert_eq!(
            true_classes("x", &t(&[0.0, 1.0, 0.7, 0.3], &[2, 2]), &p, 2, true).unwrap(),
            [1, 0]
        );
        assert_eq!(
            true_classes("x", &t(&[0.0, 1.0, 0.7, 0.3], &[2, 2]), &p, 2, false)
                .unwrap_err()
                .to_string(),
            "x: invalid `yTrue`: expected class indices of shape [2] (yPred's shape without its \
             class axis), received shape [2, 2]"
        );
        assert_eq!(
            true_classes(
                "x",
                &t(&[1.0, -0.0, 0.5], &[3]),
                &t(&[0.0; 6], &[3, 2]),
                2,
                false
            )
            .unwrap_err()
            .to_string(),
            "x: invalid `yTrue`: expected class indices in [0, 2), received 0.5 at index 2"
        );
    }
}
