//! Every loss against reference values and gradients computed in float64 by PyTorch 1.13
//! (or an independent float64 implementation where torch has no such loss), stored in
//! test/fixtures/losses/cases.json by test/fixtures/losses/generate.py.
//!
//! Each case: the loss by name and JSON config, its inputs (float32 / int32), optional
//! sample weights; the reduced value (a number, or a tensor for "none") and the gradient
//! of the reduced loss (of the sum of the values for "none") for every prediction.
//! Tolerance per element: |got − want| ≤ 1e-6 + 1e-4·|want|.
//!
//! Every failing case is reported (id, loss, what differed) before the test fails.

use nabla_core::json::Value;
use nabla_core::losses::{LossOp, CATALOGUE};
use nabla_core::{Shape, Tensor};
mod common;

use common::{dims, floats, tensor};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

const RTOL: f64 = 1e-4;
const ATOL: f64 = 1e-6;

fn cases() -> Vec<Value> {
    common::cases("NABLA_LOSS_FIXTURES", "losses/cases.json")
}

/// The defaults the TypeScript API fills in for trailing inputs a call leaves out
/// (packages/nabla/src/losses.ts CATALOGUE): the Rust op takes every input.
fn default_input(name: &str, given: &[Tensor]) -> Result<Tensor, String> {
    let made = match name {
        "mask" => Ok(Tensor::full(given[0].shape().clone(), 1.0)),
        "inputLengths" => {
            let p = given[1].dims();
            Tensor::from_i32("fixture", vec![p[1] as i32; p[0]], Shape::new(vec![p[0]]))
        }
        "labelLengths" => {
            let b = given[0].dims()[0];
            Tensor::from_i32("fixture", vec![-1; b], Shape::new(vec![b]))
        }
        other => return Err(format!("input `{other}` missing and it has no default")),
    };
    made.map_err(|e| e.to_string())
}

/// The first elements that differ (and how many), or None when all are close.
fn compare(what: &str, got: &[f32], want: &[f64]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!(
            "{what}: {} values, expected {}",
            got.len(),
            want.len()
        ));
    }
    let bad: Vec<usize> = (0..want.len())
        .filter(|&i| {
            let (g, w) = (got[i] as f64, want[i]);
            // written so that NaN counts as a difference
            let close = (g - w).abs() <= ATOL + RTOL * w.abs();
            !close
        })
        .collect();
    if bad.is_empty() {
        return None;
    }
    let shown: Vec<String> = bad
        .iter()
        .take(4)
        .map(|&i| format!("[{i}] got {} want {}", got[i], want[i]))
        .collect();
    Some(format!(
        "{what}: {} of {} elements differ: {}",
        bad.len(),
        want.len(),
        shown.join(", ")
    ))
}

fn run(case: &Value) -> Result<(), String> {
    let name = case["loss"].as_str().ok_or("no loss name")?;
    let config = case["config"].to_string();
    let weighted = case.get("sampleWeight").is_some();
    let op = LossOp::new(name, &config, weighted).map_err(|e| format!("build: {e}"))?;
    let loss = op.loss();
    let names = loss.inputs();

    let given = case["inputs"].as_array().ok_or("no inputs")?;
    let mut inputs = Vec::new();
    for (i, x) in given.iter().enumerate() {
        let n = x["name"].as_str().ok_or("input without a name")?;
        if names.get(i) != Some(&n) {
            return Err(format!(
                "fixture input {i} is `{n}`, the loss's inputs are {names:?}"
            ));
        }
        inputs.push(tensor(x, x["dtype"].as_str().ok_or("no dtype")?)?);
    }
    for n in &names[given.len()..] {
        let t = default_input(n, &inputs)?;
        inputs.push(t);
    }
    if let Some(sw) = case.get("sampleWeight") {
        inputs.push(tensor(sw, "float32")?);
    }
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let (value, grads) = op.value_and_grad(&refs).map_err(|e| format!("run: {e}"))?;

    let mut problems = Vec::new();
    let expected = &case["expected"]["value"];
    if expected.as_object().is_some() {
        let shape = dims(&expected["shape"])?;
        if value.dims() != shape.as_slice() {
            problems.push(format!(
                "value shape {:?}, expected {shape:?}",
                value.dims()
            ));
        } else if let Some(p) = compare("value", value.data(), &floats(&expected["data"])?) {
            problems.push(p);
        }
    } else {
        let want = expected.as_f64().ok_or("expected value is not a number")?;
        if value.numel() != 1 {
            problems.push(format!(
                "value has shape {:?}, expected a scalar",
                value.dims()
            ));
        } else if let Some(p) = compare("value", value.data(), &[want]) {
            problems.push(p);
        }
    }

    let diff: Vec<&str> = loss.differentiable().iter().map(|&i| names[i]).collect();
    let want_grads = case["grads"].as_array().ok_or("no grads")?;
    let want_names: Vec<&str> = want_grads
        .iter()
        .map(|g| g["input"].as_str().unwrap_or("?"))
        .collect();
    if diff != want_names {
        problems.push(format!(
            "differentiable inputs {diff:?}, the reference has gradients for {want_names:?}"
        ));
    } else if grads.len() != diff.len() {
        problems.push(format!(
            "{} gradients returned for differentiable inputs {diff:?}",
            grads.len()
        ));
    } else {
        for (g, want) in grads.iter().zip(want_grads) {
            let what = format!("d/d{}", want["input"].as_str().unwrap_or("?"));
            let shape = dims(&want["shape"])?;
            if g.dims() != shape.as_slice() {
                problems.push(format!("{what} shape {:?}, expected {shape:?}", g.dims()));
            } else if let Some(p) = compare(&what, g.data(), &floats(&want["data"])?) {
                problems.push(p);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn fixtures_cover_every_loss() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &cases {
        *per.entry(c["loss"].as_str().unwrap_or("?")).or_default() += 1;
    }
    for (name, _) in CATALOGUE {
        let n = per.get(name).copied().unwrap_or(0);
        assert!(n >= 3, "{name}: {n} fixture cases (at least 3 wanted)");
    }
    for name in per.keys() {
        assert!(
            CATALOGUE.iter().any(|(n, _)| n == name),
            "fixtures for `{name}`, which is not in the catalogue"
        );
    }
}

#[test]
fn losses_match_reference_fixtures() {
    let cases = cases();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let loss = case["loss"].as_str().unwrap_or("?").to_string();
        let result = catch_unwind(AssertUnwindSafe(|| run(case))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
        let entry = per.entry(loss.clone()).or_default();
        match result {
            Ok(()) => entry.0 += 1,
            Err(e) => {
                entry.1 += 1;
                failures.push(format!("FAIL {id} [{loss}]: {e}"));
            }
        }
    }
    std::panic::set_hook(quiet);
    println!("loss fixtures: per loss (passed / failed)");
    for (loss, (ok, bad)) in &per {
        println!("  {loss:<22} {ok:>3} passed {bad:>3} failed");
    }
    for f in &failures {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} loss fixture cases failed (listed above)",
        failures.len(),
        cases.len()
    );
}
