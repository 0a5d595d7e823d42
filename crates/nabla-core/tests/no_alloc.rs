//! "No allocation per training step": after two warm-up steps (which may size buffers),
//! a training step with the same batch size allocates nothing — counted by a global
//! allocator wrapping the system one, on the measuring thread only (the test harness's
//! other threads allocate as they like). Models are built through the public core API
//! the bindings use: `Sequential::new` / `compile` / `train_step_weighted`, and the fit
//! loop's `Fit::epoch` / `Fit::train_batch` with metrics.

use nabla_core::losses::LossOp;
use nabla_core::metrics;
use nabla_core::model::fit::Fit;
use nabla_core::model::Sequential;
use nabla_core::{Rng, Shape, Tensor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn counting() -> bool {
    COUNTING.try_with(|c| c.get()).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counting() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread. The counter is global but only this
/// thread counts, and only one test thread measures at a time (the lock).
fn allocations(f: impl FnOnce()) -> usize {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let before = ALLOCS.load(Ordering::SeqCst);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Ordering::SeqCst) - before
}

const BATCH: usize = 8;
const STEPS: usize = 5;

fn specs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, c)| (k.to_string(), c.to_string()))
        .collect()
}

/// (name, layers, per-sample input shape).
type Model = (&'static str, Vec<(String, String)>, Vec<usize>);

/// The models, with `out` outputs (probabilities through a softmax with `softmax`).
fn models(out: usize, softmax: bool) -> Vec<Model> {
    let dense_out = if softmax {
        format!(r#"{{"units":{out},"activation":"softmax"}}"#)
    } else {
        format!(r#"{{"units":{out}}}"#)
    };
    vec![
        (
            "mlp",
            specs(&[
                (
                    "dense",
                    r#"{"units":16,"kernelRegularizer":{"l1":0.001,"l2":0.01}}"#,
                ),
                ("activation", r#"{"activation":"relu"}"#),
                ("dropout", r#"{"rate":0.25}"#),
                ("batchNorm", "{}"),
                ("dense", &dense_out),
            ]),
            vec![6],
        ),
        (
            "cnn",
            specs(&[
                (
                    "conv2d",
                    r#"{"filters":4,"kernelSize":3,"activation":"relu"}"#,
                ),
                ("maxPool2d", "{}"),
                ("flatten", "{}"),
                ("dense", &dense_out),
            ]),
            vec![8, 8, 2],
        ),
        (
            "lstm",
            specs(&[("lstm", r#"{"units":8}"#), ("dense", &dense_out)]),
            vec![5, 3],
        ),
        (
            "gru",
            specs(&[
                ("gru", r#"{"units":8,"returnSequences":true}"#),
                ("flatten", "{}"),
                ("dense", &dense_out),
            ]),
            vec![5, 3],
        ),
        (
            "bidirectional(lstm)",
            specs(&[
                (
                    "bidirectional",
                    r#"{"layer":{"kind":"lstm","config":{"units":4}}}"#,
                ),
                ("dense", &dense_out),
            ]),
            vec![5, 3],
        ),
        (
            "bidirectional(gru)",
            specs(&[
                (
                    "bidirectional",
                    r#"{"layer":{"kind":"gru","config":{"units":4,"returnSequences":true}},"mergeMode":"sum"}"#,
                ),
                ("flatten", "{}"),
                ("dense", &dense_out),
            ]),
            vec![5, 3],
        ),
    ]
}

/// (loss name, config, outputs, targets maker).
type Targets = fn(&mut Rng, usize, usize) -> Tensor;

fn int_labels(r: &mut Rng, n: usize, classes: usize) -> Tensor {
    let y = (0..n)
        .map(|_| (r.next_u32() as usize % classes) as i32)
        .collect();
    Tensor::from_i32("y", y, Shape::new(vec![n])).unwrap()
}

fn reals(r: &mut Rng, n: usize, out: usize) -> Tensor {
    let y = (0..n * out).map(|_| r.normal()).collect();
    Tensor::from_vec("y", y, Shape::new(vec![n, out])).unwrap()
}

fn bits(r: &mut Rng, n: usize, out: usize) -> Tensor {
    let y = (0..n * out).map(|_| (r.next_u32() % 2) as f32).collect();
    Tensor::from_vec("y", y, Shape::new(vec![n, out])).unwrap()
}

/// Losses taking probabilities (`"fromLogits":false`) get models ending in a softmax.
fn losses() -> Vec<(&'static str, &'static str, usize, Targets)> {
    vec![
        ("crossEntropy", r#"{"fromLogits":true}"#, 3, int_labels),
        ("crossEntropy", r#"{"fromLogits":false}"#, 3, int_labels),
        (
            "crossEntropy",
            r#"{"fromLogits":false,"labelSmoothing":0.1}"#,
            3,
            int_labels,
        ),
        ("mse", "", 2, reals),
        ("huber", r#"{"delta":0.5}"#, 2, reals),
        ("binaryCrossEntropy", r#"{"fromLogits":true}"#, 2, bits),
        ("focal", r#"{"fromLogits":true}"#, 2, bits),
        ("focal", r#"{"fromLogits":true}"#, 3, int_labels),
    ]
}

const OPTIMIZERS: [(&str, &str); 2] = [
    ("adam", r#"{"learningRate":0.001}"#),
    ("sgd", r#"{"learningRate":0.01,"momentum":0.9}"#),
];

fn inputs(r: &mut Rng, n: usize, shape: &[usize]) -> Tensor {
    let mut dims = vec![n];
    dims.extend_from_slice(shape);
    let len: usize = dims.iter().product();
    Tensor::from_vec(
        "x",
        (0..len).map(|_| r.normal()).collect(),
        Shape::new(dims),
    )
    .unwrap()
}

/// Every (model, loss, optimizer, weighted) case: the allocations of `STEPS` training
/// steps after two warm-up steps, as "case: count" for the cases that allocate.
fn step_allocations() -> Vec<String> {
    let mut failures = Vec::new();
    for (loss, config, out, targets) in losses() {
        let softmax = config.contains(r#""fromLogits":false"#);
        for (model, layers, shape) in models(out, softmax) {
            for (opt, opt_config) in OPTIMIZERS {
                for weighted in [false, true] {
                    let mut r = Rng::new(3);
                    let x = inputs(&mut r, BATCH, &shape);
                    let y = targets(&mut r, BATCH, out);
                    let w = Tensor::from_vec(
                        "w",
                        (0..BATCH).map(|i| 0.5 + i as f32 / 4.0).collect(),
                        Shape::new(vec![BATCH]),
                    )
                    .unwrap();
                    let w = weighted.then_some(&w);
                    let mut m = Sequential::new(&layers, &shape, 1).unwrap();
                    m.compile((loss, config), (opt, opt_config)).unwrap();
                    for _ in 0..2 {
                        m.train_step_weighted(&x, &y, w).unwrap();
                    }
                    let mut last = 0.0;
                    let n = allocations(|| {
                        for _ in 0..STEPS {
                            last = m.train_step_weighted(&x, &y, w).unwrap();
                        }
                    });
                    assert!(last.is_finite());
                    if n > 0 {
                        failures.push(format!(
                            "{model} {loss}({out}) {opt} weighted={weighted}: {n} allocations in {STEPS} steps"
                        ));
                    }
                }
            }
        }
    }
    failures
}

/// The loss part of a training step (`LossOp::train_forward` + `train_grad`, what
/// `Sequential::train_step_weighted` calls) for the losses that fill their buffers in
/// place: per-unit losses, weights, upstream and dL/d(prediction) allocate nothing
/// after the first call.
#[test]
fn the_training_loss_does_not_allocate_after_warm_up() {
    let mut failures = Vec::new();
    // (loss, config, whether yPred must be in (0, 1): probabilities, rates, log1p inputs)
    for (loss, config, unit) in [
        ("mse", "{}", false),
        ("mae", "{}", false),
        ("huber", r#"{"delta":0.5}"#, false),
        ("smoothL1", r#"{"beta":0.5}"#, false),
        ("logCosh", "{}", false),
        ("msle", "{}", true),
        ("mape", "{}", false),
        ("quantile", r#"{"q":0.3}"#, false),
        ("poissonNll", r#"{"logInput":false}"#, true),
        ("hinge", "{}", false),
        ("squaredHinge", "{}", false),
        ("binaryCrossEntropy", r#"{"fromLogits":true}"#, false),
        ("binaryCrossEntropy", r#"{"fromLogits":false}"#, true),
        // Probability targets (the 0/1 rows of `bits`) against unnormalized probabilities.
        ("crossEntropy", r#"{"fromLogits":false}"#, true),
        (
            "crossEntropy",
            r#"{"fromLogits":false,"labelSmoothing":0.1,"classWeights":[1,2,0.5]}"#,
            true,
        ),
    ] {
        for reduction in ["mean", "sum", "none"] {
            for weighted in [false, true] {
                let mut r = Rng::new(5);
                let y = bits(&mut r, BATCH, 3);
                let p = if unit {
                    let v = (0..BATCH * 3)
                        .map(|i| 0.1 + 0.8 * (i % 7) as f32 / 7.0)
                        .collect();
                    Tensor::from_vec("p", v, Shape::new(vec![BATCH, 3])).unwrap()
                } else {
                    reals(&mut r, BATCH, 3)
                };
                let w = Tensor::from_vec("w", vec![0.5; BATCH], Shape::new(vec![BATCH])).unwrap();
                let cfg = config.replacen('{', &format!(r#"{{"reduction":"{reduction}","#), 1);
                let cfg = cfg.replace(",}", "}");
                let mut op = LossOp::new(loss, &cfg, weighted).unwrap();
                let all = [&y, &p, &w];
                let inputs = &all[..2 + usize::from(weighted)];
                let mut g = Tensor::zeros(Shape::new(vec![]));
                let mut step = |g: &mut Tensor| {
                    op.train_forward(inputs).unwrap();
                    op.train_grad(inputs, 1, g).unwrap();
                };
                step(&mut g);
                let n = allocations(|| {
                    for _ in 0..STEPS {
                        step(&mut g);
                    }
                });
                if n > 0 {
                    failures.push(format!("{loss} {cfg} weighted={weighted}: {n} allocations"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Whole training steps (`Sequential::train_step_weighted`): forward, loss, backward,
/// the gradient checks and the optimizer's update, for every model, loss, optimizer,
/// with and without sample weights.
#[test]
fn training_steps_do_not_allocate_after_warm_up() {
    let failures = step_allocations();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The fit loop's batches (`Fit::epoch`'s shuffle, `Fit::train_batch`'s gather of x, y
/// and the weights, the step, and the metric's update: accuracy or mae).
#[test]
fn fit_batches_do_not_allocate_after_warm_up() {
    let mut failures = Vec::new();
    for (loss, config, out, targets) in losses() {
        let softmax = config.contains(r#""fromLogits":false"#);
        for (model, layers, shape) in models(out, softmax) {
            for weighted in [false, true] {
                let n = 4 * BATCH;
                let mut r = Rng::new(4);
                let x = Rc::new(inputs(&mut r, n, &shape));
                let y = Rc::new(targets(&mut r, n, out));
                let w = weighted.then(|| {
                    let w = (0..n).map(|i| 0.5 + (i % 5) as f32 / 4.0).collect();
                    Rc::new(Tensor::from_vec("w", w, Shape::new(vec![n])).unwrap())
                });
                let mut m = Sequential::new(&layers, &shape, 1).unwrap();
                m.compile((loss, config), OPTIMIZERS[0]).unwrap();
                let metric = if loss == "crossEntropy" || (loss == "focal" && out == 3) {
                    "accuracy"
                } else {
                    "mae"
                };
                let mut metrics = vec![metrics::make(metric, "").unwrap()];
                let mut fit = Fit::new(x, y, None, 0.0, true, w, None).unwrap();
                // Warm-up: the first epoch sizes every buffer.
                fit.epoch(&mut m);
                for s in (0..n).step_by(BATCH) {
                    fit.train_batch(&mut m, s, s + BATCH, &mut metrics).unwrap();
                }
                let count = allocations(|| {
                    for _ in 0..2 {
                        fit.epoch(&mut m);
                        for s in (0..n).step_by(BATCH) {
                            fit.train_batch(&mut m, s, s + BATCH, &mut metrics).unwrap();
                        }
                    }
                });
                if count > 0 {
                    failures.push(format!(
                        "fit {model} {loss}({out}) weighted={weighted}: {count} allocations in 2 epochs"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
