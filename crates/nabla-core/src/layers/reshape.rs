//! `flatten()`: `[batch, ...]` → `[batch, ∏...]`; `reshape({ targetShape })`: the
//! per-sample shape becomes `targetShape` (one entry may be −1). Backward moves the
//! gradient back to the input's shape.

use super::Layer;
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct Reshape {
    kind: &'static str,
    target: Option<Vec<i64>>,
    input: Vec<usize>,
    output: Vec<usize>,
}

pub fn build_flatten(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(Reshape {
        kind: "flatten",
        target: None,
        input: Vec::new(),
        output: Vec::new(),
    }))
}

pub fn build_reshape(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&["targetShape"])?;
    let bad = |v: String| {
        Error::invalid(
            "reshape",
            "targetShape",
            "a list of positive integers, one of which may be -1",
            v,
        )
    };
    let v = cfg
        .raw("targetShape")
        .ok_or_else(|| bad("nothing".into()))?;
    let dims: Vec<i64> = v
        .as_array()
        .ok_or_else(|| bad(v.to_string()))?
        .iter()
        .map(|d| {
            d.as_i64()
                .filter(|&d| d == -1 || d > 0)
                .ok_or_else(|| bad(v.to_string()))
        })
        .collect::<Result<_>>()?;
    if dims.iter().filter(|&&d| d == -1).count() > 1 {
        return Err(bad(v.to_string()));
    }
    Ok(Box::new(Reshape {
        kind: "reshape",
        target: Some(dims),
        input: Vec::new(),
        output: Vec::new(),
    }))
}

impl Layer for Reshape {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> Value {
        match &self.target {
            Some(t) => json!({ "targetShape": t }),
            None => json!({}),
        }
    }

    fn build(&mut self, input: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        let n: usize = input.iter().product();
        self.input = input.to_vec();
        self.output = match &self.target {
            None => vec![n],
            Some(t) => {
                let known: usize = t.iter().filter(|&&d| d > 0).map(|&d| d as usize).product();
                let fits = if t.contains(&-1) {
                    known > 0 && n % known == 0
                } else {
                    known == n
                };
                if !fits {
                    return Err(Error::shape(
                        "reshape",
                        "targetShape",
                        format!(
                            "{n} values per sample, as the input shape {} has",
                            Shape::new(input.to_vec())
                        ),
                        format!("{t:?}"),
                    ));
                }
                t.iter()
                    .map(|&d| if d == -1 { n / known } else { d as usize })
                    .collect()
            }
        };
        Ok(self.output.clone())
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        y.resize_batch(batch, &self.output);
        y.data_mut().copy_from_slice(x.data());
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        gx.resize(x.dims());
        gx.data_mut().copy_from_slice(gy.data());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn flatten_and_reshape() {
        let (_, y) = run("flatten", "{}", &normal(&[2, 3, 4, 5], 1), false);
        assert_eq!(y.dims(), &[2, 60]);
        let (_, y) = run(
            "reshape",
            r#"{"targetShape":[5,-1]}"#,
            &normal(&[2, 3, 4, 5], 1),
            false,
        );
        assert_eq!(y.dims(), &[2, 5, 12]);
        gradcheck(
            "reshape",
            r#"{"targetShape":[6]}"#,
            normal(&[2, 3, 2], 1),
            false,
            1e-3,
        );
        let mut l = super::super::make("reshape", r#"{"targetShape":[7]}"#).unwrap();
        assert_eq!(
            l.build(&[3, 2], &mut crate::rng::Rng::new(1))
                .unwrap_err()
                .arg,
            "targetShape"
        );
    }
}
