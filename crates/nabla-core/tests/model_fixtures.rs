//! End to end against torch: a small MLP trained 10 steps (SGD with momentum, Adam) —
//! the loss at every step and the final weights, from test/fixtures/model/mlp.json.

use nabla_core::json::Value;
use nabla_core::model::Sequential;
use nabla_core::{Shape, Tensor};

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn close(got: f32, want: f32, what: &str) {
    assert!(
        (got - want).abs() <= 1e-5 + 1e-3 * want.abs(),
        "{what}: {got} vs torch {want}"
    );
}

#[test]
fn mlp_training_matches_torch() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test/fixtures/model/mlp.json"
    );
    let f: Value =
        nabla_core::json::parse(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let x = Tensor::from_vec("x", floats(&f["x"]), Shape::new(vec![8, 5])).unwrap();
    let labels: Vec<i32> = f["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() as i32)
        .collect();
    let y = Tensor::from_i32("y", labels, Shape::new(vec![8])).unwrap();
    for case in f["cases"].as_array().unwrap() {
        let name = case["optimizer"].as_str().unwrap();
        let layers = vec![
            (
                "dense".to_string(),
                r#"{"units":7,"activation":"tanh"}"#.to_string(),
            ),
            ("dense".to_string(), r#"{"units":3}"#.to_string()),
        ];
        let mut m = Sequential::new(&layers, &[5], 0).unwrap();
        m.compile(
            ("crossEntropy", r#"{"fromLogits":true}"#),
            (name, &case["config"].to_string()),
        )
        .unwrap();
        for (i, key) in ["l1", "l2"].iter().enumerate() {
            for (p, values) in m.layers_mut()[i]
                .params_mut()
                .into_iter()
                .zip(case["initial"][*key].as_array().unwrap())
            {
                p.value.data_mut().copy_from_slice(&floats(values));
            }
        }
        for (step, want) in case["losses"].as_array().unwrap().iter().enumerate() {
            let got = m.train_step(&x, &y).unwrap();
            close(
                got,
                want.as_f64().unwrap() as f32,
                &format!("{name} loss at step {}", step + 1),
            );
        }
        for (i, key) in ["l1", "l2"].iter().enumerate() {
            for (p, values) in m.layers()[i]
                .params()
                .into_iter()
                .zip(case["final"][*key].as_array().unwrap())
            {
                for (j, (&g, w)) in p.value.data().iter().zip(floats(values)).enumerate() {
                    close(g, w, &format!("{name} final {key}.{}[{j}]", p.name));
                }
            }
        }
    }
}
