//! Initializers (Keras semantics), seeded from the model's portable Rng. Fans: a dense
//! kernel `[in, out]` has fanIn = in, fanOut = out; a conv filter `[kh, kw, in, out]`
//! multiplies both by kh·kw; recurrent kernels `[in, gates·units]` use in and units·gates.
//!
//!   glorotUniform  U(±√(6/(fanIn+fanOut)))       glorotNormal  N(0, 2/(fanIn+fanOut)), truncated at 2σ
//!   heUniform      U(±√(6/fanIn))                 heNormal      N(0, 2/fanIn), truncated
//!   lecunUniform   U(±√(3/fanIn))                 lecunNormal   N(0, 1/fanIn), truncated
//!   orthogonal     Q of a QR of a normal matrix [∏dims[..-1], dims[-1]] (gain 1)
//!   zeros, ones, constant {value}, randomNormal {mean, stddev}, randomUniform {min, max}
//! Truncated normals redraw values beyond 2σ and rescale by 0.8796 as Keras does, so
//! the standard deviation is the stated one.

use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::losses::Config;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
    Constant(f32),
    RandomNormal { mean: f32, stddev: f32 },
    RandomUniform { min: f32, max: f32 },
}

const NAMES: &[&str] = &[
    "glorotUniform",
    "glorotNormal",
    "heUniform",
    "heNormal",
    "lecunUniform",
    "lecunNormal",
    "orthogonal",
    "zeros",
    "ones",
    "constant",
    "randomNormal",
    "randomUniform",
];

impl Init {
    /// Reads the initializer at `key` (a name, or `{ type, ...options }`).
    pub fn from_config(cfg: &Config, key: &str, default: Init) -> Result<Init> {
        let op = cfg.op;
        let bad = |v: &Value| {
            Error::invalid(
                op,
                key,
                format!("one of {}", NAMES.join(", ")),
                v.to_string(),
            )
        };
        let Some(v) = cfg.raw(key) else {
            return Ok(default);
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
        let num = |k: &str, d: f64| {
            opts.f64_where(k, d, "a finite number", f64::is_finite)
                .map(|x| x as f32)
        };
        Ok(match name {
            "glorotUniform" => Init::GlorotUniform,
            "glorotNormal" => Init::GlorotNormal,
            "heUniform" => Init::HeUniform,
            "heNormal" => Init::HeNormal,
            "lecunUniform" => Init::LecunUniform,
            "lecunNormal" => Init::LecunNormal,
            "orthogonal" => Init::Orthogonal,
            "zeros" => Init::Constant(0.0),
            "ones" => Init::Constant(1.0),
            "constant" => Init::Constant(num("value", 0.0)?),
            "randomNormal" => Init::RandomNormal {
                mean: num("mean", 0.0)?,
                stddev: num("stddev", 0.05)?,
            },
            "randomUniform" => {
                let (min, max) = (num("min", -0.05)?, num("max", 0.05)?);
                if min >= max {
                    return Err(Error::invalid(
                        op,
                        key,
                        "min < max",
                        format!("min {min}, max {max}"),
                    ));
                }
                Init::RandomUniform { min, max }
            }
            _ => return Err(bad(v)),
        })
    }

    /// Values for a parameter of shape `dims` with the given fans.
    pub fn values(&self, dims: &[usize], fan_in: usize, fan_out: usize, rng: &mut Rng) -> Vec<f32> {
        let n: usize = dims.iter().product();
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |rng: &mut Rng, limit: f64| {
            (0..n)
                .map(|_| ((rng.uniform() as f64 * 2.0 - 1.0) * limit) as f32)
                .collect()
        };
        let truncated = |rng: &mut Rng, std: f64| {
            let s = std / 0.879_625_661_034_239_8;
            (0..n)
                .map(|_| loop {
                    let z = rng.normal() as f64;
                    if z.abs() <= 2.0 {
                        break (z * s) as f32;
                    }
                })
                .collect()
        };
        match self {
            Init::GlorotUniform => uniform(rng, (6.0 / (fi + fo)).sqrt()),
            Init::GlorotNormal => truncated(rng, (2.0 / (fi + fo)).sqrt()),
            Init::HeUniform => uniform(rng, (6.0 / fi).sqrt()),
            Init::HeNormal => truncated(rng, (2.0 / fi).sqrt()),
            Init::LecunUniform => uniform(rng, (3.0 / fi).sqrt()),
            Init::LecunNormal => truncated(rng, (1.0 / fi).sqrt()),
            Init::Constant(v) => vec![*v; n],
            Init::RandomNormal { mean, stddev } => {
                (0..n).map(|_| mean + stddev * rng.normal()).collect()
            }
            Init::RandomUniform { min, max } => {
                (0..n).map(|_| min + (max - min) * rng.uniform()).collect()
            }
            Init::Orthogonal => orthogonal(dims, rng),
        }
    }
}

/// Rows × cols with orthonormal rows or columns: modified Gram–Schmidt on a normal
/// matrix (the Q of its QR, signs fixed by R's diagonal as Keras does).
fn orthogonal(dims: &[usize], rng: &mut Rng) -> Vec<f32> {
    let cols = *dims.last().unwrap_or(&1);
    let rows: usize = dims[..dims.len().saturating_sub(1)].iter().product();
    if rows == 0 || cols == 0 {
        return vec![0.0; rows * cols];
    }
    // Orthonormalize the longer side's vectors: work on a tall matrix, transpose if wide.
    let (r, c) = if rows >= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut a: Vec<f64> = (0..r * c).map(|_| rng.normal() as f64).collect();
    for j in 0..c {
        for k in 0..j {
            let dot: f64 = (0..r).map(|i| a[i * c + j] * a[i * c + k]).sum();
            for i in 0..r {
                a[i * c + j] -= dot * a[i * c + k];
            }
        }
        let norm = (0..r)
            .map(|i| a[i * c + j] * a[i * c + j])
            .sum::<f64>()
            .sqrt()
            .max(1e-12);
        for i in 0..r {
            a[i * c + j] /= norm;
        }
    }
    if rows >= cols {
        a.iter().map(|&v| v as f32).collect()
    } else {
        (0..rows)
            .flat_map(|i| (0..cols).map(move |j| (i, j)))
            .map(|(i, j)| a[j * c + i] as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_orthogonality() {
        let mut r = Rng::new(3);
        let w = Init::GlorotUniform.values(&[300, 200], 300, 200, &mut r);
        let limit = (6.0f64 / 500.0).sqrt() as f32;
        assert!(w.iter().all(|v| v.abs() <= limit));
        let var = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 500.0).abs() < 2e-4, "{var}");
        let h = Init::HeNormal.values(&[400, 300], 400, 300, &mut r);
        let var = h.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / h.len() as f64;
        assert!((var / (2.0 / 400.0) - 1.0).abs() < 0.05, "{var}");
        for dims in [[6usize, 4], [4, 6]] {
            let q = Init::Orthogonal.values(&dims, 0, 0, &mut r);
            let (rows, cols) = (dims[0], dims[1]);
            let k = rows.min(cols);
            // the k shorter-side vectors are orthonormal
            for a in 0..k {
                for b in 0..k {
                    let dot: f64 = if rows >= cols {
                        (0..rows)
                            .map(|i| q[i * cols + a] as f64 * q[i * cols + b] as f64)
                            .sum()
                    } else {
                        (0..cols)
                            .map(|j| q[a * cols + j] as f64 * q[b * cols + j] as f64)
                            .sum()
                    };
                    assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn names_and_options() {
        let cfg = Config::parse(
            "dense",
            r#"{"k":{"type":"randomNormal","stddev":0.1},"bad":"nope"}"#,
        )
        .unwrap();
        assert_eq!(
            Init::from_config(&cfg, "k", Init::HeNormal).unwrap(),
            Init::RandomNormal {
                mean: 0.0,
                stddev: 0.1
            }
        );
        assert_eq!(
            Init::from_config(&cfg, "missing", Init::HeNormal).unwrap(),
            Init::HeNormal
        );
        assert_eq!(
            Init::from_config(&cfg, "bad", Init::HeNormal)
                .unwrap_err()
                .arg,
            "bad"
        );
    }
}
