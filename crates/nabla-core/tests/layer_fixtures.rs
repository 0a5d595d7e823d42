//! Every layer against reference values and gradients computed in float64 by PyTorch 1.13,
//! stored in test/fixtures/layers/cases.json by test/fixtures/layers/generate.py.
//!
//! Each case: the layer kind and its JSON config, the training flag, an input (float32 or
//! int32, channels-last), the parameters by name in nabla's layout (converted from torch
//! by the generator as each layer's header documents), and a fixed upstream gradient gy.
//! The layer is made, built for the input's shape without the batch axis, given the
//! fixture's parameters (every parameter, by name: an unknown or a missing name fails the
//! case), run forward and backward; then compared with torch: the output, dL/dx (for
//! float inputs), dL/dparam for every trainable parameter with L = Σ gy·y, and for
//! batchNorm in training the running statistics after the step.
//! Recurrent-state cases also give initial states (`initialState`) and, for layers made
//! with `returnState`, upstream gradients of the final states (`gyStates`): the layer
//! runs `forward_with_state` / `backward_with_state` with L = Σ gy·y + Σ gyStates·finals,
//! and the final states and dL/d(initial states) are compared too.
//! Tolerance per element: |got − want| ≤ 1e-5 + 1e-4·|want|.
//!
//! Every failing case is reported (id, kind, what differed, the largest error) before the
//! test fails.

use nabla_core::json::Value;
use nabla_core::layers::{make, CATALOGUE};
use nabla_core::{Rng, Shape, Tensor};
mod common;

use common::{dims, floats, tensor};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

const RTOL: f64 = 1e-4;
const ATOL: f64 = 1e-5;

fn cases() -> Vec<Value> {
    common::cases("NABLA_LAYER_FIXTURES", "layers/cases.json")
}

/// The largest |got − want| / (atol + rtol·|want|) over the elements (≤ 1 passes), for
/// the report of how much headroom the closest cases have.
fn worst_ratio(got: &[f32], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(&g, &w)| (g as f64 - w).abs() / (ATOL + RTOL * w.abs()))
        .fold(0.0, f64::max)
}

/// None when every element is close; otherwise how many differ, the first few, and the
/// largest absolute error.
fn compare(what: &str, got: &[f32], want: &[f64]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!(
            "{what}: {} values, expected {}",
            got.len(),
            want.len()
        ));
    }
    let mut max_err = 0.0f64;
    let mut worst = 0usize;
    let mut bad = Vec::new();
    for i in 0..want.len() {
        let (g, w) = (got[i] as f64, want[i]);
        let err = (g - w).abs();
        // written so that NaN counts as a difference
        let close = err <= ATOL + RTOL * w.abs();
        if !close {
            bad.push(i);
            // a NaN error is the worst and stays so
            if !max_err.is_nan() && (err.is_nan() || err > max_err) {
                max_err = err;
                worst = i;
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    let shown: Vec<String> = bad
        .iter()
        .take(4)
        .map(|&i| format!("[{i}] got {} want {}", got[i], want[i]))
        .collect();
    Some(format!(
        "{what}: {} of {} elements differ (max |err| {max_err:.3e} at [{worst}]: got {} want {}): {}",
        bad.len(),
        want.len(),
        got[worst],
        want[worst],
        shown.join(", ")
    ))
}

/// Ok(the worst tolerance ratio of the case) or what differed.
fn run(case: &Value) -> Result<f64, String> {
    let kind = case["kind"].as_str().ok_or("no kind")?;
    let config = case["config"].to_string();
    let training = case["training"].as_bool().ok_or("no training flag")?;
    let input = &case["input"];
    let x = tensor(input, input["dtype"].as_str().ok_or("no input dtype")?)?;
    let gy = tensor(&case["gy"], "float32")?;

    let mut layer = make(kind, &config).map_err(|e| format!("make: {e}"))?;
    layer
        .build(&x.dims()[1..], &mut Rng::new(1))
        .map_err(|e| format!("build: {e}"))?;

    // the fixture's parameters, by name, replace every parameter of the layer
    let given = case["params"].as_array().ok_or("no params")?;
    let mut layer_names: Vec<&'static str> = layer.params().iter().map(|p| p.name).collect();
    for p in given {
        let name = p["name"].as_str().ok_or("param without a name")?;
        let Some(pos) = layer_names.iter().position(|n| *n == name) else {
            return Err(format!(
                "fixture param `{name}` is not a parameter of the layer (it has {:?})",
                layer.params().iter().map(|p| p.name).collect::<Vec<_>>()
            ));
        };
        layer_names.remove(pos);
        let value = tensor(p, "float32")?;
        let params = layer.params_mut();
        let target = params
            .iter_mut()
            .find(|q| q.name == name)
            .expect("listed above");
        if target.value.dims() != value.dims() {
            return Err(format!(
                "param `{name}`: the layer's shape is {:?}, the fixture's {:?}",
                target.value.dims(),
                value.dims()
            ));
        }
        target.value.data_mut().copy_from_slice(value.data());
    }
    if !layer_names.is_empty() {
        return Err(format!(
            "layer params {layer_names:?} are missing from the fixture"
        ));
    }
    for p in layer.params_mut() {
        p.grad.iter_mut().for_each(|g| *g = 0.0);
    }

    let list = |key: &str| -> Result<Vec<Tensor>, String> {
        match case.get(key).and_then(Value::as_array) {
            None => Ok(Vec::new()),
            Some(l) => l.iter().map(|t| tensor(t, "float32")).collect(),
        }
    };
    let initial = list("initialState")?;
    let gy_states = list("gyStates")?;
    if layer.returns_state() == gy_states.is_empty() {
        return Err(format!(
            "returnState {} but {} upstream state gradients",
            layer.returns_state(),
            gy_states.len()
        ));
    }
    let empty = || Tensor::zeros(Shape::new(vec![]));
    let mut finals: Vec<Tensor> = gy_states.iter().map(|_| empty()).collect();
    let mut g_initial: Vec<Tensor> = initial.iter().map(|_| empty()).collect();
    let initial_refs: Vec<&Tensor> = initial.iter().collect();
    let gy_state_refs: Vec<&Tensor> = gy_states.iter().collect();

    let mut y = empty();
    layer
        .forward_with_state(&x, &initial_refs, &mut y, &mut finals, training)
        .map_err(|e| format!("forward: {e}"))?;
    let mut gx = empty();
    layer
        .backward_with_state(&x, &y, &gy, &gy_state_refs, &mut gx, &mut g_initial)
        .map_err(|e| format!("backward: {e}"))?;

    let mut problems = Vec::new();
    let mut ratio = 0.0f64;
    let mut check = |what: &str, got: &[f32], want: &[f64]| {
        if got.len() == want.len() {
            ratio = ratio.max(worst_ratio(got, want));
        }
        compare(what, got, want)
    };
    let expected = &case["expected"];
    let want_y = &expected["output"];
    let y_shape = dims(&want_y["shape"])?;
    if y.dims() != y_shape.as_slice() {
        problems.push(format!("output shape {:?}, expected {y_shape:?}", y.dims()));
    } else if let Some(p) = check("output", y.data(), &floats(&want_y["data"])?) {
        problems.push(p);
    }
    if let Some(want_gx) = expected.get("gx") {
        let shape = dims(&want_gx["shape"])?;
        if gx.dims() != shape.as_slice() {
            problems.push(format!("dL/dx shape {:?}, expected {shape:?}", gx.dims()));
        } else if let Some(p) = check("dL/dx", gx.data(), &floats(&want_gx["data"])?) {
            problems.push(p);
        }
    }

    let want_grads = expected["grads"].as_array().ok_or("no expected grads")?;
    let params = layer.params();
    for p in params.iter().filter(|p| p.trainable) {
        match want_grads.iter().find(|g| g["name"] == p.name) {
            None => problems.push(format!(
                "no reference gradient for trainable param `{}`",
                p.name
            )),
            Some(g) => {
                if let Some(d) = check(&format!("dL/d{}", p.name), &p.grad, &floats(&g["data"])?) {
                    problems.push(d);
                }
            }
        }
    }
    for g in want_grads {
        if !params.iter().any(|p| p.trainable && g["name"] == p.name) {
            problems.push(format!(
                "reference gradient for `{}`, which is not a trainable param of the layer",
                g["name"]
            ));
        }
    }
    let names = layer.state_names();
    for (key, got, what) in [
        ("finalStates", &finals, "final state"),
        ("initialStateGrads", &g_initial, "dL/d(initial state)"),
    ] {
        let want = expected.get(key).and_then(Value::as_array);
        let want = want.map_or(&[][..], |w| w.as_slice());
        if want.len() != got.len() {
            problems.push(format!("{} {what}s, expected {}", got.len(), want.len()));
            continue;
        }
        for ((w, g), name) in want.iter().zip(got).zip(&names) {
            if w["name"] != *name {
                problems.push(format!("{what} `{name}` vs the fixture's {}", w["name"]));
            } else if g.dims() != dims(&w["shape"])?.as_slice() {
                problems.push(format!("{what} `{name}` shape {:?}", g.dims()));
            } else if let Some(p) = check(&format!("{what} {name}"), g.data(), &floats(&w["data"])?)
            {
                problems.push(p);
            }
        }
    }
    if let Some(state) = expected.get("state").and_then(Value::as_array) {
        for s in state {
            let name = s["name"].as_str().ok_or("state without a name")?;
            match params.iter().find(|p| p.name == name) {
                None => problems.push(format!("state `{name}` is not a parameter of the layer")),
                Some(p) => {
                    if let Some(d) = check(
                        &format!("{name} after the step"),
                        p.value.data(),
                        &floats(&s["data"])?,
                    ) {
                        problems.push(d);
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(ratio)
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn fixtures_cover_every_layer() {
    let cases = cases();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &cases {
        *per.entry(c["kind"].as_str().unwrap_or("?")).or_default() += 1;
    }
    let mut missing = Vec::new();
    for (kind, _) in CATALOGUE {
        let n = per.get(kind).copied().unwrap_or(0);
        if n < 2 {
            missing.push(format!("{kind}: {n} fixture cases (at least 2 wanted)"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for kind in per.keys() {
        assert!(
            CATALOGUE.iter().any(|(n, _)| n == kind),
            "fixtures for `{kind}`, which is not in the catalogue"
        );
    }
    let mut ids: Vec<&str> = cases
        .iter()
        .map(|c| c["id"].as_str().unwrap_or("?"))
        .collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "case ids are not unique");
}

#[test]
fn layers_match_reference_fixtures() {
    let cases = cases();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut closest: Vec<(f64, String)> = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let kind = case["kind"].as_str().unwrap_or("?").to_string();
        let result = catch_unwind(AssertUnwindSafe(|| run(case))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {msg}"))
        });
        let entry = per.entry(kind.clone()).or_default();
        match result {
            Ok(ratio) => {
                entry.0 += 1;
                closest.push((ratio, id.to_string()));
            }
            Err(e) => {
                entry.1 += 1;
                failures.push(format!("FAIL {id} [{kind}]: {e}"));
            }
        }
    }
    std::panic::set_hook(quiet);
    println!("layer fixtures: per kind (passed / failed)");
    for (kind, (ok, bad)) in &per {
        println!("  {kind:<16} {ok:>3} passed {bad:>3} failed");
    }
    closest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let shown: Vec<String> = closest
        .iter()
        .take(5)
        .map(|(r, id)| format!("{id} {r:.3}"))
        .collect();
    println!(
        "closest passing cases (largest |err| / (atol + rtol·|want|)): {}",
        shown.join(", ")
    );
    for f in &failures {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} layer fixture cases failed (listed above)",
        failures.len(),
        cases.len()
    );
}
