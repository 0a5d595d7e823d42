//! Saving and loading a `Sequential` in the safetensors format
//! (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N,
//! N bytes of JSON header (padded with spaces to a multiple of 8), then the raw
//! little-endian tensor bytes, offsets relative to the data section.
//!
//! Tensors, all F32:
//! - `layers.{i}.{param}`: every parameter of layer i (kernel, bias, movingMean, ...),
//!   in nabla's (Keras) layouts, e.g. dense kernel `[in, out]`.
//! - `optimizer.{p}.{b}`: buffer b of the optimizer state of the p-th *trainable*
//!   parameter (model order), shaped as that parameter. Absent before the first step.
//!
//! `__metadata__`: `{"format": "nabla", "version": VERSION, "config": "<JSON>"}`, the
//! config being `{inputShape, seed, layers: [{kind, config}], loss: {name, config} | null,
//! optimizer: {name, config, steps} | null}`. Each `config` is the JSON object given;
//! files written with serde_json hold some as JSON strings (those whose numbers it could
//! not read back bit for bit), which load too.
//!
//! A loaded model is rebuilt from its config (same seed), then takes the saved values:
//! it predicts identically and resumes training bit for bit.
//!
//! `SaveOptions { optimizer: false }` (Keras's `include_optimizer=False`) leaves out what
//! only training needs: the `optimizer.*` tensors (Adam's two moments triple the file),
//! the step count (written as 0) and the generators' positions ("rng"). What inference
//! needs stays, batchNorm's moving statistics included. Loaded, the model predicts
//! identically and, if it was compiled, is compiled again with the same loss and a fresh
//! optimizer (as Keras): it trains on as the same weights in a newly built model would.

use super::Sequential;
use crate::error::{Error, Result};
use crate::json::{self, json, Map, Value};

const FORMAT: &str = "nabla";
/// safetensors' own limit on the header size.
const MAX_HEADER: u64 = 100_000_000;

/// A file that is not a model nabla can load.
fn bad(what: impl Into<String>) -> Error {
    Error::invalid(
        "loadModel",
        "bytes",
        "a nabla model in the safetensors format",
        what,
    )
}

/// A JSON config string as it goes in the saved config: the object itself (numbers read
/// and written back bit for bit), or the string should it not be JSON.
fn config_value(s: &str) -> Value {
    if s.trim().is_empty() {
        return Value::Object(Map::new());
    }
    json::parse(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

fn config_string(v: Option<&Value>, at: &str) -> Result<String> {
    match v {
        Some(o @ Value::Object(_)) => Ok(o.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(bad(format!(
            "a config whose {at}.config is not a JSON object"
        ))),
    }
}

fn string_at(v: &Map, key: &str, at: &str) -> Result<String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(bad(format!("a config whose {at}.{key} is not a string"))),
    }
}

fn object<'a>(v: &'a Value, at: &str, keys: &[&str]) -> Result<&'a Map> {
    let Value::Object(m) = v else {
        return Err(bad(format!("a config whose {at} is not an object")));
    };
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(bad(format!("a config with an unknown key \"{k}\" in {at}")));
    }
    Ok(m)
}

/// What `save_with` writes.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    /// The optimizer's state, its step count and the random generators' positions, so
    /// training resumes exactly (default true). False: weights and config only.
    pub optimizer: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions { optimizer: true }
    }
}

/// Serializes `model`: parameters, config, and the optimizer's state and step count.
pub fn save(model: &Sequential) -> Vec<u8> {
    save_with(model, SaveOptions::default())
}

/// `save`, leaving out the training state when `options.optimizer` is false.
pub fn save_with(model: &Sequential, options: SaveOptions) -> Vec<u8> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let bytes = |d: &[f32]| d.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut trainable = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        for p in layer.params() {
            tensors.push((
                format!("layers.{i}.{}", p.name),
                p.value.dims().to_vec(),
                bytes(p.value.data()),
            ));
            if p.trainable {
                trainable.push(p.value.dims().to_vec());
            }
        }
    }
    let (loss, optimizer) = match (&model.compiled, &model.optimizer) {
        (Some(((ln, lc), (on, oc))), Some(opt)) => {
            let (steps, state) = if options.optimizer {
                opt.export_state()
            } else {
                (0, Vec::new())
            };
            for (pi, buffers) in state.iter().enumerate() {
                for (bi, b) in buffers.iter().enumerate() {
                    let shape = match trainable.get(pi) {
                        Some(d) if d.iter().product::<usize>() == b.len() => d.clone(),
                        _ => vec![b.len()],
                    };
                    tensors.push((format!("optimizer.{pi}.{bi}"), shape, bytes(b)));
                }
            }
            (
                json!({ "name": ln, "config": config_value(lc) }),
                json!({ "name": on, "config": config_value(oc), "steps": steps }),
            )
        }
        _ => (Value::Null, Value::Null),
    };
    let layers: Vec<Value> = model
        .specs
        .iter()
        .map(|(k, c)| json!({ "kind": k, "config": config_value(c) }))
        .collect();
    // Random generators mid-stream: the shuffle order's and each dropout layer's.
    let layer_rngs: Vec<Value> = model
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.rng_state().map(|s| json!([i, s])))
        .collect();
    let mut config = json!({
        "inputShape": &model.input_shape,
        "seed": model.seed,
        "layers": layers,
        "loss": loss,
        "optimizer": optimizer,
    });
    if options.optimizer {
        config["rng"] = json!({ "shuffle": model.shuffle_rng.state(), "layers": layer_rngs });
    }
    let mut header = Map::new();
    header.insert(
        "__metadata__".into(),
        json!({ "format": FORMAT, "version": crate::VERSION, "config": config.to_string() }),
    );
    let mut data = Vec::with_capacity(tensors.iter().map(|t| t.2.len()).sum());
    for (name, shape, b) in &tensors {
        let begin = data.len();
        data.extend_from_slice(b);
        header.insert(
            name.clone(),
            json!({ "dtype": "F32", "shape": shape, "data_offsets": [begin, data.len()] }),
        );
    }
    let mut head = Value::Object(header).to_string().into_bytes();
    while head.len() % 8 != 0 {
        head.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + head.len() + data.len());
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&data);
    out
}

/// One tensor of the header, checked against the data section.
struct Entry {
    shape: Vec<usize>,
    begin: usize,
    end: usize,
}

fn entry(name: &str, v: &Value, data_len: usize) -> Result<Entry> {
    let m = object(
        v,
        &format!("tensor `{name}`"),
        &["dtype", "shape", "data_offsets"],
    )
    .map_err(|_| {
        bad(format!(
            "a header whose tensor `{name}` is not {{dtype, shape, data_offsets}}"
        ))
    })?;
    match m.get("dtype") {
        Some(Value::String(d)) if d == "F32" => {}
        Some(Value::String(d)) => {
            return Err(bad(format!(
                "tensor `{name}` of dtype {d} (nabla models are F32)"
            )))
        }
        _ => return Err(bad(format!("a header whose tensor `{name}` has no dtype"))),
    }
    let ints = |key: &str| -> Result<Vec<usize>> {
        let Some(Value::Array(a)) = m.get(key) else {
            return Err(bad(format!(
                "a header whose tensor `{name}` has no {key} array"
            )));
        };
        a.iter()
            .map(|x| x.as_u64().and_then(|u| usize::try_from(u).ok()))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                bad(format!(
                    "a header whose tensor `{name}` has a {key} of non-integers"
                ))
            })
    };
    let shape = ints("shape")?;
    let offsets = ints("data_offsets")?;
    let [begin, end] = offsets[..] else {
        return Err(bad(format!(
            "a header whose tensor `{name}` has {} data_offsets, not 2",
            offsets.len()
        )));
    };
    let size = shape.iter().try_fold(4usize, |n, &d| n.checked_mul(d));
    if begin > end || end > data_len {
        return Err(bad(format!("tensor `{name}` at bytes {begin}..{end} of a {data_len}-byte data section (truncated?)")));
    }
    if size != Some(end - begin) {
        return Err(bad(format!(
            "tensor `{name}` of shape {shape:?} in {} bytes",
            end - begin
        )));
    }
    Ok(Entry { shape, begin, end })
}

fn floats(data: &[u8], e: &Entry) -> Vec<f32> {
    data[e.begin..e.end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Reads a model written by `save`. Everything is checked; any problem is an
/// `INVALID_ARGUMENT` error of `loadModel` saying what was wrong.
pub fn load(bytes: &[u8]) -> Result<Sequential> {
    let Some(len) = bytes.get(..8) else {
        return Err(bad(format!(
            "{} bytes, fewer than the 8 of the header length",
            bytes.len()
        )));
    };
    let n = u64::from_le_bytes(len.try_into().expect("8 bytes"));
    let rest = (bytes.len() - 8) as u64;
    if n > MAX_HEADER || n > rest {
        return Err(bad(format!("a header length of {n} bytes with {rest} bytes after it (truncated, or not safetensors)")));
    }
    let (head, data) = bytes[8..].split_at(n as usize);
    let head = std::str::from_utf8(head).map_err(|_| bad("a header that is not UTF-8"))?;
    let header =
        json::parse(head).map_err(|e| bad(format!("a header that is not valid JSON ({e})")))?;
    let Value::Object(mut header) = header else {
        return Err(bad("a header that is not a JSON object"));
    };

    // Metadata: format, version, config.
    let meta = header
        .remove("__metadata__")
        .ok_or_else(|| bad("a header without __metadata__ (not saved by nabla)"))?;
    let meta = object(&meta, "__metadata__", &["format", "version", "config"])
        .map_err(|_| bad("__metadata__ other than {format, version, config}"))?;
    match meta.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => return Err(bad(format!("format \"{f}\", not \"{FORMAT}\""))),
        _ => return Err(bad("__metadata__ without a format")),
    }
    match meta.get("version") {
        Some(Value::String(v)) if v == crate::VERSION => {}
        Some(Value::String(v)) => {
            return Err(bad(format!(
                "a model saved by nabla {v} (this is {})",
                crate::VERSION
            )))
        }
        _ => return Err(bad("__metadata__ without a version")),
    }
    let Some(Value::String(config)) = meta.get("config") else {
        return Err(bad("__metadata__ without a config string"));
    };
    let config =
        json::parse(config).map_err(|e| bad(format!("a config that is not valid JSON ({e})")))?;
    let config = object(
        &config,
        "the config",
        &["inputShape", "seed", "layers", "loss", "optimizer", "rng"],
    )?;
    let input_shape = match config.get("inputShape") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_u64().and_then(|u| usize::try_from(u).ok()))
            .collect::<Option<Vec<usize>>>(),
        _ => None,
    }
    .ok_or_else(|| bad("a config whose inputShape is not an array of sizes"))?;
    let seed = config
        .get("seed")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("a config whose seed is not an integer ≥ 0"))?;
    let Some(Value::Array(layer_list)) = config.get("layers") else {
        return Err(bad("a config whose layers is not an array"));
    };
    let mut specs = Vec::with_capacity(layer_list.len());
    for (i, l) in layer_list.iter().enumerate() {
        let at = format!("layers[{i}]");
        let l = object(l, &at, &["kind", "config"])?;
        specs.push((
            string_at(l, "kind", &at)?,
            config_string(l.get("config"), &at)?,
        ));
    }
    let loss = match config.get("loss") {
        Some(Value::Null) => None,
        Some(v) => {
            let m = object(v, "loss", &["name", "config"])?;
            Some((
                string_at(m, "name", "loss")?,
                config_string(m.get("config"), "loss")?,
            ))
        }
        None => return Err(bad("a config without loss")),
    };
    let optimizer = match config.get("optimizer") {
        Some(Value::Null) => None,
        Some(v) => {
            let m = object(v, "optimizer", &["name", "config", "steps"])?;
            let steps = m
                .get("steps")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("a config whose optimizer.steps is not an integer ≥ 0"))?;
            Some((
                string_at(m, "name", "optimizer")?,
                config_string(m.get("config"), "optimizer")?,
                steps,
            ))
        }
        None => return Err(bad("a config without optimizer")),
    };

    // The model, rebuilt as it was made and compiled.
    let rebuilt = |e: Error| bad(format!("a config nabla cannot make a model from ({e})"));
    let mut model = Sequential::new(&specs, &input_shape, seed).map_err(rebuilt)?;
    let steps = match (loss, optimizer) {
        (Some((ln, lc)), Some((on, oc, steps))) => {
            model.compile((&ln, &lc), (&on, &oc)).map_err(rebuilt)?;
            Some(steps)
        }
        (None, None) => None,
        _ => {
            return Err(bad(
                "a config with a loss but no optimizer, or an optimizer but no loss",
            ))
        }
    };

    // Tensors: each well-formed, together covering the data section exactly.
    let mut entries = header
        .iter()
        .map(|(name, v)| Ok((name.as_str(), entry(name, v, data.len())?)))
        .collect::<Result<Vec<_>>>()?;
    let mut spans: Vec<(usize, usize, &str)> =
        entries.iter().map(|(n, e)| (e.begin, e.end, *n)).collect();
    spans.sort();
    let mut at = 0;
    for (begin, end, name) in spans {
        if begin != at {
            let what = if begin < at {
                "overlapping another"
            } else {
                "after a gap"
            };
            return Err(bad(format!(
                "tensor `{name}` at bytes {begin}..{end}, {what}"
            )));
        }
        at = end;
    }
    if at != data.len() {
        return Err(bad(format!(
            "{} bytes of data after the last tensor",
            data.len() - at
        )));
    }
    fn take(
        entries: &mut Vec<(&str, Entry)>,
        data: &[u8],
        name: &str,
        dims: &[usize],
    ) -> Result<Vec<f32>> {
        let i = entries
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or_else(|| bad(format!("no tensor `{name}`")))?;
        let (_, e) = entries.remove(i);
        if e.shape != dims {
            return Err(bad(format!(
                "tensor `{name}` of shape {:?} where the model has {dims:?}",
                e.shape
            )));
        }
        Ok(floats(data, &e))
    }

    // Parameters.
    let mut trainable = Vec::new();
    for (i, layer) in model.layers.iter_mut().enumerate() {
        for p in layer.params_mut() {
            let values = take(
                &mut entries,
                data,
                &format!("layers.{i}.{}", p.name),
                p.value.dims(),
            )?;
            p.value.data_mut().copy_from_slice(&values);
            if p.trainable {
                trainable.push(p.value.dims().to_vec());
            }
        }
    }

    // Optimizer state: buffers 0..k of each trainable parameter, k read off the first.
    if let Some(steps) = steps {
        let k = if trainable.is_empty() {
            0
        } else {
            (0..)
                .take_while(|b| {
                    entries
                        .iter()
                        .any(|(n, _)| *n == format!("optimizer.0.{b}"))
                })
                .count()
        };
        let mut state = Vec::new();
        if steps > 0 {
            for (pi, dims) in trainable.iter().enumerate() {
                state.push(
                    (0..k)
                        .map(|b| take(&mut entries, data, &format!("optimizer.{pi}.{b}"), dims))
                        .collect::<Result<Vec<_>>>()?,
                );
            }
        }
        let optimizer = model.optimizer.as_mut().expect("compiled above");
        optimizer.import_state(steps, state).map_err(|e| {
            bad(format!(
                "optimizer state that does not fit the optimizer ({e})"
            ))
        })?;
    }
    if let Some((name, _)) = entries.first() {
        return Err(bad(format!("a tensor `{name}` the model does not have")));
    }
    if let Some(rng) = config.get("rng") {
        restore_rngs(&mut model, rng)?;
    }
    Ok(model)
}

/// Restores the generators saved under "rng" (the shuffle order's and the layers').
fn restore_rngs(model: &mut Sequential, rng: &Value) -> Result<()> {
    let state = |v: &Value, what: &str| -> Result<[u32; 6]> {
        let words: Option<Vec<u32>> = v.as_array().map(|a| {
            a.iter()
                .filter_map(|w| w.as_u64().and_then(|w| u32::try_from(w).ok()))
                .collect()
        });
        match words {
            Some(w) if w.len() == 6 => Ok([w[0], w[1], w[2], w[3], w[4], w[5]]),
            _ => Err(bad(format!(
                "a config whose {what} generator state is not 6 words"
            ))),
        }
    };
    let m = object(rng, "rng", &["shuffle", "layers"])?;
    if let Some(s) = m.get("shuffle") {
        model.shuffle_rng = crate::rng::Rng::from_state(state(s, "rng.shuffle")?)
            .ok_or_else(|| bad("an invalid rng.shuffle state"))?;
    }
    for entry in m
        .get("layers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let pair = entry
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| bad("rng.layers entries that are not [index, state]"))?;
        let i = pair[0]
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < model.layers.len())
            .ok_or_else(|| bad("an rng.layers index outside the model"))?;
        let s = state(&pair[1], "rng.layers")?;
        model.layers[i]
            .set_rng_state(s)
            .map_err(|e| bad(format!("a layer generator state the layer refuses ({e})")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    fn specs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, c)| (k.to_string(), c.to_string()))
            .collect()
    }

    fn normal(dims: &[usize], seed: u64) -> Tensor {
        let mut r = Rng::new(seed);
        let n: usize = dims.iter().product();
        Tensor::from_vec(
            "test",
            (0..n).map(|_| r.normal()).collect(),
            Shape::new(dims.to_vec()),
        )
        .unwrap()
    }

    fn bits(t: &Tensor) -> Vec<u32> {
        t.data().iter().map(|x| x.to_bits()).collect()
    }

    /// Every parameter of the model, by bits.
    fn param_bits(m: &Sequential) -> Vec<(String, Vec<u32>)> {
        let mut out = Vec::new();
        for (i, l) in m.layers().iter().enumerate() {
            for p in l.params() {
                out.push((format!("{i}.{}", p.name), bits(&p.value)));
            }
        }
        out
    }

    const MLP: &[(&str, &str)] = &[
        (
            "dense",
            r#"{"units":16,"activation":"relu","kernelRegularizer":{"l2":0.001}}"#,
        ),
        ("batchNorm", ""),
        ("dropout", r#"{"rate":0.0}"#),
        ("dense", r#"{"units":3}"#),
    ];
    const CNN: &[(&str, &str)] = &[
        (
            "conv2d",
            r#"{"filters":4,"kernelSize":3,"activation":"relu"}"#,
        ),
        ("batchNorm", "{}"),
        ("maxPool2d", r#"{"poolSize":2}"#),
        ("flatten", ""),
        ("dense", r#"{"units":3}"#),
    ];
    const LSTM: &[(&str, &str)] = &[("lstm", r#"{"units":8}"#), ("dense", r#"{"units":2}"#)];

    /// Makes a model, trains it a little so nothing is at its initial value, and checks
    /// that save → load predicts bit for bit the same.
    fn check_predictions(layers: &[(&str, &str)], input: &[usize], loss: (&str, &str), y: Tensor) {
        let mut dims = vec![6];
        dims.extend_from_slice(input);
        let x = normal(&dims, 5);
        let mut m = Sequential::new(&specs(layers), input, 7).unwrap();
        m.compile(loss, ("adam", r#"{"learningRate":0.01}"#))
            .unwrap();
        for _ in 0..2 {
            m.train_step(&x, &y).unwrap();
        }
        let bytes = save(&m);
        let mut back = load(&bytes).unwrap();
        assert_eq!(param_bits(&back), param_bits(&m));
        assert_eq!(
            bits(back.forward(&x, false).unwrap()),
            bits(m.forward(&x, false).unwrap())
        );
        assert_eq!(
            save(&back),
            bytes,
            "saving a loaded model gives the same bytes"
        );
        // Uncompiled models save too.
        let fresh = Sequential::new(&specs(layers), input, 7).unwrap();
        let mut back = load(&save(&fresh)).unwrap();
        assert!(back.compiled().is_none());
        let mut fresh = fresh;
        assert_eq!(
            bits(back.forward(&x, false).unwrap()),
            bits(fresh.forward(&x, false).unwrap())
        );
    }

    fn labels(n: usize, classes: i32) -> Tensor {
        Tensor::from_i32(
            "y",
            (0..n as i32).map(|i| i % classes).collect(),
            Shape::new(vec![n]),
        )
        .unwrap()
    }

    #[test]
    fn loaded_models_predict_bit_for_bit() {
        let ce = ("crossEntropy", r#"{"fromLogits":true}"#);
        check_predictions(MLP, &[4], ce, labels(6, 3));
        check_predictions(CNN, &[6, 6, 2], ce, labels(6, 3));
        check_predictions(LSTM, &[5, 3], ("mse", ""), normal(&[6, 2], 9));
    }

    /// 3 steps, save, load, 3 steps == 6 steps, params and losses compared by bits.
    fn check_resume(
        layers: &[(&str, &str)],
        input: &[usize],
        classes: i32,
        optimizer: (&str, &str),
    ) {
        let mut dims = vec![8];
        dims.extend_from_slice(input);
        let batches: Vec<Tensor> = (0..6).map(|s| normal(&dims, 100 + s)).collect();
        let y = labels(8, classes);
        let loss = ("crossEntropy", r#"{"fromLogits":true}"#);
        let mut a = Sequential::new(&specs(layers), input, 3).unwrap();
        a.compile(loss, optimizer).unwrap();
        let mut b = Sequential::new(&specs(layers), input, 3).unwrap();
        b.compile(loss, optimizer).unwrap();
        let mut la = Vec::new();
        for x in &batches {
            la.push(a.train_step(x, &y).unwrap().to_bits());
        }
        let mut lb = Vec::new();
        for x in &batches[..3] {
            lb.push(b.train_step(x, &y).unwrap().to_bits());
        }
        let mut b = load(&save(&b)).unwrap();
        assert_eq!(b.optimizer().unwrap().iterations(), 3);
        for x in &batches[3..] {
            lb.push(b.train_step(x, &y).unwrap().to_bits());
        }
        assert_eq!(lb, la, "{optimizer:?}: losses");
        assert_eq!(param_bits(&b), param_bits(&a), "{optimizer:?}: params");
        assert_eq!(save(&b), save(&a), "{optimizer:?}: saved bytes");
    }

    #[test]
    fn training_resumes_bit_for_bit() {
        for opt in [
            ("sgd", r#"{"learningRate":0.1,"momentum":0.9}"#),
            (
                "sgd",
                r#"{"learningRate":0.1,"momentum":0.9,"nesterov":true}"#,
            ),
            ("sgd", r#"{"learningRate":0.1}"#),
            ("adam", r#"{"learningRate":0.01}"#),
            (
                "adam",
                r#"{"learningRate":0.01,"amsgrad":true,"clipNorm":0.5}"#,
            ),
            ("adamW", ""),
            ("rmsprop", r#"{"momentum":0.5,"centered":true}"#),
            (
                "adagrad",
                r#"{"lrDecay":0.1,"initialAccumulatorValue":0.1}"#,
            ),
        ] {
            check_resume(MLP, &[4], 3, opt);
        }
        check_resume(CNN, &[6, 6, 2], 3, ("adam", r#"{"learningRate":0.01}"#));
        check_resume(
            LSTM,
            &[5, 3],
            2,
            ("sgd", r#"{"learningRate":0.1,"momentum":0.9}"#),
        );
    }

    #[test]
    fn the_file_is_safetensors_with_nabla_metadata() {
        let mut m = Sequential::new(&specs(&[("dense", r#"{"units":2}"#)]), &[3], 11).unwrap();
        m.compile(("mse", ""), ("sgd", r#"{"momentum":0.9}"#))
            .unwrap();
        // Compiled, not trained: no optimizer tensors, steps 0.
        let untrained = save(&m);
        assert_eq!(
            load(&untrained).unwrap().optimizer().unwrap().iterations(),
            0
        );
        assert_eq!(save(&load(&untrained).unwrap()), untrained);
        m.train_step(&normal(&[4, 3], 1), &normal(&[4, 2], 2))
            .unwrap();
        let bytes = save(&m);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(n % 8, 0);
        let header = json::parse(std::str::from_utf8(&bytes[8..8 + n]).unwrap()).unwrap();
        assert_eq!(
            header["layers.0.kernel"],
            json!({"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]})
        );
        assert_eq!(
            header["layers.0.bias"],
            json!({"dtype": "F32", "shape": [2], "data_offsets": [24, 32]})
        );
        assert_eq!(
            header["optimizer.0.0"],
            json!({"dtype": "F32", "shape": [3, 2], "data_offsets": [32, 56]})
        );
        assert_eq!(
            header["optimizer.1.0"],
            json!({"dtype": "F32", "shape": [2], "data_offsets": [56, 64]})
        );
        assert_eq!(bytes.len(), 8 + n + 64);
        let meta = &header["__metadata__"];
        assert_eq!(meta["format"], "nabla");
        assert_eq!(meta["version"], crate::VERSION);
        let mut config = json::parse(meta["config"].as_str().unwrap()).unwrap();
        // The generators' states: the shuffle order's (6 words), no dropout layer here.
        let rng = config.as_object_mut().unwrap().remove("rng").unwrap();
        assert_eq!(rng["shuffle"].as_array().unwrap().len(), 6);
        assert_eq!(rng["layers"], json!([]));
        assert_eq!(
            config,
            json!({
                "inputShape": [3],
                "seed": 11,
                "layers": [{"kind": "dense", "config": {"units": 2}}],
                "loss": {"name": "mse", "config": {}},
                "optimizer": {"name": "sgd", "config": {"momentum": 0.9}, "steps": 1},
            })
        );
        let kernel: Vec<u8> = m.layers()[0].params()[0]
            .value
            .data()
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(&bytes[8 + n..8 + n + 24], &kernel[..]);
    }

    /// The data section's length and the header, of a saved file.
    fn split(bytes: &[u8]) -> (usize, Value) {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = json::parse(std::str::from_utf8(&bytes[8..8 + n]).unwrap()).unwrap();
        (bytes.len() - 8 - n, header)
    }

    #[test]
    fn without_the_optimizer_predicts_the_same_and_trains_from_a_fresh_state() {
        let ce = ("crossEntropy", r#"{"fromLogits":true}"#);
        let adam = ("adam", r#"{"learningRate":0.01}"#);
        let x = normal(&[8, 4], 21);
        let y = labels(8, 3);
        let mut m = Sequential::new(&specs(MLP), &[4], 5).unwrap();
        m.compile(ce, adam).unwrap();
        for _ in 0..3 {
            m.train_step(&x, &y).unwrap();
        }
        let full = save(&m);
        let light = save_with(&m, SaveOptions { optimizer: false });

        // Smaller by exactly the optimizer state: Adam's 2 buffers per trainable value.
        let state: usize = m
            .optimizer()
            .unwrap()
            .export_state()
            .1
            .iter()
            .flatten()
            .map(|b| b.len() * 4)
            .sum();
        let trainable: usize = m
            .layers()
            .iter()
            .flat_map(|l| l.params())
            .filter(|p| p.trainable)
            .map(|p| p.value.data().len() * 4)
            .sum();
        assert_eq!(state, 2 * trainable);
        let ((full_data, _), (light_data, header)) = (split(&full), split(&light));
        assert_eq!(full_data - light_data, state);
        assert!(full.len() - light.len() >= state);
        let mut keys = header.as_object().unwrap().keys();
        assert!(keys.all(|k| !k.starts_with("optimizer.")));
        let config = json::parse(header["__metadata__"]["config"].as_str().unwrap()).unwrap();
        assert_eq!(config["optimizer"]["steps"], 0);
        assert!(config.get("rng").is_none());

        // Identical predictions, batchNorm's moving statistics included.
        let mut back = load(&light).unwrap();
        assert_eq!(param_bits(&back), param_bits(&m));
        assert_eq!(
            bits(back.forward(&x, false).unwrap()),
            bits(m.forward(&x, false).unwrap())
        );
        assert_eq!(save_with(&back, SaveOptions { optimizer: false }), light);

        // Compiled again with a fresh optimizer: it trains as a newly built model given the
        // same weights does, not as the original goes on.
        assert_eq!(back.compiled(), m.compiled());
        assert_eq!(back.optimizer().unwrap().iterations(), 0);
        let mut fresh = Sequential::new(&specs(MLP), &[4], 5).unwrap();
        fresh.compile(ce, adam).unwrap();
        for (to, from) in fresh.layers_mut().iter_mut().zip(m.layers()) {
            for (p, q) in to.params_mut().into_iter().zip(from.params()) {
                p.value.data_mut().copy_from_slice(q.value.data());
            }
        }
        let (mut lb, mut lf) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            lb.push(back.train_step(&x, &y).unwrap().to_bits());
            lf.push(fresh.train_step(&x, &y).unwrap().to_bits());
        }
        assert_eq!(lb, lf);
        assert_eq!(param_bits(&back), param_bits(&fresh));
        assert_ne!(
            back.train_step(&x, &y).unwrap().to_bits(),
            m.train_step(&x, &y).unwrap().to_bits()
        );

        // Uncompiled: nothing to leave out.
        let plain = Sequential::new(&specs(MLP), &[4], 5).unwrap();
        assert_eq!(
            split(&save_with(&plain, SaveOptions { optimizer: false })).0,
            split(&save(&plain)).0
        );
    }

    /// Rewrites a saved file: `edit` changes the header (metadata config decoded into
    /// "__config__" for convenience), `data` the data section.
    fn rewrite(
        bytes: &[u8],
        edit: impl FnOnce(&mut Map),
        data: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header = json::parse(std::str::from_utf8(&bytes[8..8 + n]).unwrap()).unwrap();
        let mut header = header.as_object().unwrap().clone();
        let config = json::parse(header["__metadata__"]["config"].as_str().unwrap()).unwrap();
        header.insert("__config__".into(), config);
        edit(&mut header);
        if let Some(c) = header.remove("__config__") {
            header.get_mut("__metadata__").unwrap()["config"] = Value::String(c.to_string());
        }
        let mut d = bytes[8 + n..].to_vec();
        data(&mut d);
        let head = Value::Object(header).to_string();
        let mut out = (head.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(&d);
        out
    }

    fn trained_mlp() -> Vec<u8> {
        let mut m = Sequential::new(&specs(MLP), &[4], 1).unwrap();
        m.compile(("crossEntropy", r#"{"fromLogits":true}"#), ("adam", ""))
            .unwrap();
        m.train_step(&normal(&[6, 4], 1), &labels(6, 3)).unwrap();
        save(&m)
    }

    fn load_err(bytes: &[u8]) -> String {
        let e = load(bytes).err().expect("an error");
        assert_eq!(
            (e.code, e.op, e.arg.as_str()),
            (Code::InvalidArgument, "loadModel", "bytes"),
            "{e}"
        );
        e.received
    }

    #[test]
    fn every_kind_of_damage_is_an_error() {
        let good = trained_mlp();
        assert!(load(&good).is_ok());
        // Unchanged through `rewrite` (header re-serialized without padding): still loads.
        assert!(load(&rewrite(&good, |_| {}, |_| {})).is_ok());
        // A config given as a JSON string (how save writes configs it cannot round-trip).
        let as_string = rewrite(
            &good,
            |h| {
                h["__config__"]["layers"][0]["config"] =
                    json!(r#"{"units":16,"activation":"relu","kernelRegularizer":{"l2":0.001}}"#)
            },
            |_| {},
        );
        assert_eq!(save(&load(&as_string).unwrap()), good);

        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty", vec![], "0 bytes, fewer than the 8"),
            (
                "huge header",
                [u64::MAX.to_le_bytes().to_vec(), good[8..].to_vec()].concat(),
                "header length of",
            ),
            (
                "not utf-8",
                rewrite(&good, |_| {}, |_| {})
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| if i == 9 { 0xff } else { b })
                    .collect(),
                "not UTF-8",
            ),
            (
                "not json",
                [8u64.to_le_bytes().to_vec(), b"{\"a\":   ".to_vec()].concat(),
                "not valid JSON",
            ),
            (
                "array header",
                [8u64.to_le_bytes().to_vec(), b"[]      ".to_vec()].concat(),
                "not a JSON object",
            ),
            (
                "no metadata",
                rewrite(
                    &good,
                    |h| {
                        h.remove("__config__");
                        h.remove("__metadata__");
                    },
                    |_| {},
                ),
                "without __metadata__",
            ),
            (
                "other format",
                rewrite(&good, |h| h["__metadata__"]["format"] = json!("pt"), |_| {}),
                "format \"pt\"",
            ),
            (
                "other version",
                rewrite(
                    &good,
                    |h| h["__metadata__"]["version"] = json!("0.0.1"),
                    |_| {},
                ),
                "saved by nabla 0.0.1",
            ),
            (
                "config not json",
                rewrite(
                    &good,
                    |h| {
                        h.remove("__config__");
                        h["__metadata__"]["config"] = json!("{");
                    },
                    |_| {},
                ),
                "config that is not valid JSON",
            ),
            (
                "unknown kind",
                rewrite(
                    &good,
                    |h| h["__config__"]["layers"][0]["kind"] = json!("dense3d"),
                    |_| {},
                ),
                "\"dense3d\"",
            ),
            (
                "bad layer config",
                rewrite(
                    &good,
                    |h| h["__config__"]["layers"][0]["config"]["units"] = json!(-1),
                    |_| {},
                ),
                "cannot make a model",
            ),
            (
                "no layers",
                rewrite(&good, |h| h["__config__"]["layers"] = json!([]), |_| {}),
                "cannot make a model",
            ),
            (
                "unknown config key",
                rewrite(&good, |h| h["__config__"]["extra"] = json!(1), |_| {}),
                "unknown key \"extra\"",
            ),
            (
                "bad seed",
                rewrite(&good, |h| h["__config__"]["seed"] = json!(-1), |_| {}),
                "seed",
            ),
            (
                "bad input shape",
                rewrite(
                    &good,
                    |h| h["__config__"]["inputShape"] = json!([5]),
                    |_| {},
                ),
                "shape",
            ),
            (
                "loss without optimizer",
                rewrite(
                    &good,
                    |h| h["__config__"]["optimizer"] = Value::Null,
                    |_| {},
                ),
                "a loss but no optimizer",
            ),
            (
                "unknown optimizer",
                rewrite(
                    &good,
                    |h| h["__config__"]["optimizer"]["name"] = json!("lion"),
                    |_| {},
                ),
                "\"lion\"",
            ),
            (
                "other optimizer",
                rewrite(
                    &good,
                    |h| h["__config__"]["optimizer"]["name"] = json!("rmsprop"),
                    |_| {},
                ),
                "does not fit the optimizer",
            ),
            (
                "missing tensor",
                rewrite(
                    &good,
                    |h| {
                        h.remove("optimizer.3.1");
                    },
                    |_| {},
                ),
                "gap",
            ),
            (
                "missing last tensor",
                {
                    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
                    let len = good.len() - 8 - n;
                    rewrite(
                        &good,
                        |h| {
                            let last = h
                                .iter()
                                .find(|(_, v)| v["data_offsets"][1] == json!(len))
                                .map(|(k, _)| k.clone())
                                .unwrap();
                            h.remove(&last);
                        },
                        |d| d.truncate(d.len() - 12),
                    )
                },
                "no tensor",
            ),
            (
                "extra tensor",
                rewrite(
                    &good,
                    |h| {
                        h.insert(
                            "layers.9.kernel".into(),
                            json!({"dtype":"F32","shape":[1],"data_offsets":[0,0]}),
                        );
                    },
                    |_| {},
                ),
                "shape [1] in 0 bytes",
            ),
            (
                "extra optimizer buffer",
                {
                    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
                    let len = good.len() - 8 - n;
                    rewrite(
                        &good,
                        |h| {
                            h.insert("optimizer.0.2".into(), json!({"dtype":"F32","shape":[4,16],"data_offsets":[len, len + 256]}));
                        },
                        |d| d.extend(vec![0; 256]),
                    )
                },
                "no tensor `optimizer.1.2`",
            ),
            (
                "stray tensor",
                {
                    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
                    let len = good.len() - 8 - n;
                    rewrite(
                        &good,
                        |h| {
                            h.insert(
                                "extra".into(),
                                json!({"dtype":"F32","shape":[],"data_offsets":[len, len + 4]}),
                            );
                        },
                        |d| d.extend([0; 4]),
                    )
                },
                "a tensor `extra` the model does not have",
            ),
            (
                "wrong shape",
                rewrite(
                    &good,
                    |h| h["layers.0.kernel"]["shape"] = json!([16, 4]),
                    |_| {},
                ),
                "shape [16, 4] where the model has [4, 16]",
            ),
            (
                "wrong dtype",
                rewrite(
                    &good,
                    |h| h["layers.0.bias"]["dtype"] = json!("F16"),
                    |_| {},
                ),
                "dtype F16",
            ),
            (
                "bad offsets",
                rewrite(
                    &good,
                    |h| h["layers.0.bias"]["data_offsets"] = json!([1, 65]),
                    |_| {},
                ),
                "overlapping",
            ),
            (
                "offsets past the end",
                rewrite(
                    &good,
                    |h| h["layers.0.bias"]["data_offsets"] = json!([1_000_000, 1_000_064]),
                    |_| {},
                ),
                "truncated",
            ),
            (
                "huge shape",
                rewrite(
                    &good,
                    // Integers exact in f64 whose byte count overflows.
                    |h| h["layers.0.bias"]["shape"] = json!([1u64 << 52, 1u64 << 52]),
                    |_| {},
                ),
                "in 64 bytes",
            ),
            (
                "trailing data",
                rewrite(&good, |_| {}, |d| d.extend([0; 4])),
                "4 bytes of data after",
            ),
        ];
        for (what, bytes, expect) in cases {
            let received = load_err(&bytes);
            assert!(received.contains(expect), "{what}: {received}");
        }
    }

    #[test]
    fn truncated_or_flipped_bytes_never_panic() {
        let good = trained_mlp();
        // Truncated anywhere: always an error.
        for cut in 0..good.len() {
            load_err(&good[..cut]);
        }
        // Header bytes changed: an error or (e.g. a digit of a config) another valid model,
        // never a panic.
        let n = 8 + u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
        let mut errors = 0;
        let mut total = 0;
        for i in 0..n {
            for mask in [0x01u8, 0x02, 0x08, 0x20, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= mask;
                total += 1;
                match std::panic::catch_unwind(|| load(&b)) {
                    Ok(Err(e)) => {
                        assert_eq!((e.code, e.op), (Code::InvalidArgument, "loadModel"), "{e}");
                        errors += 1;
                    }
                    Ok(Ok(_)) => {}
                    Err(_) => panic!("load panicked with byte {i} ^ {mask:#x}"),
                }
            }
        }
        assert!(errors * 10 > total * 9, "{errors} errors in {total}");
    }
}
