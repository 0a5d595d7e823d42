//! Shared by the fixture tests: reading the committed JSON cases into tensors.

use nabla_core::json::Value;
use nabla_core::{Shape, Tensor};

/// The cases in `test/fixtures/{rel}`; the environment variable `env` overrides the path
/// (e.g. to try a deliberately damaged copy).
pub fn cases(env: &str, rel: &str) -> Vec<Value> {
    let path = std::env::var(env)
        .unwrap_or_else(|_| format!("{}/../../test/fixtures/{rel}", env!("CARGO_MANIFEST_DIR")));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match nabla_core::json::parse(&text) {
        Ok(Value::Array(cases)) => cases,
        Ok(_) => panic!("{path}: expected a list of cases"),
        Err(e) => panic!("{path}: {e}"),
    }
}

pub fn dims(v: &Value) -> Result<Vec<usize>, String> {
    v.as_array()
        .ok_or("shape is not a list")?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or(format!("bad dimension {d}"))
        })
        .collect()
}

pub fn floats(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("data is not a list")?
        .iter()
        .map(|x| x.as_f64().ok_or(format!("bad number {x}")))
        .collect()
}

pub fn tensor(v: &Value, dtype: &str) -> Result<Tensor, String> {
    let shape = Shape::new(dims(&v["shape"])?);
    let data = floats(&v["data"])?;
    let t = match dtype {
        "float32" => Tensor::from_vec("fixture", data.iter().map(|&x| x as f32).collect(), shape),
        "int32" => Tensor::from_i32("fixture", data.iter().map(|&x| x as i32).collect(), shape),
        other => return Err(format!("unknown dtype {other}")),
    };
    t.map_err(|e| format!("fixture tensor: {e}"))
}
