//! Finite-difference gradient checks for every differentiable op in `CATALOGUE`, and the
//! meta-test that fails when an op has no check (or claims no gradient but has one).
//!
//! For random weights w, L(x) = Σ w·op(x) is evaluated in f32 and accumulated in f64;
//! central differences (L(x+h) - L(x-h)) / 2h are compared with `backward(w)`.

use super::*;
use crate::autograd::Op;
use crate::kernels::unary::Unary;
use crate::rng::Rng;

fn tensor(dims: &[usize], f: impl Fn(usize, f32) -> f32, seed: u64) -> Tensor {
    let mut r = Rng::new(seed);
    let n: usize = dims.iter().product();
    let data = (0..n).map(|i| f(i, r.normal())).collect();
    Tensor::new(Shape::new(dims.to_vec()), data)
}

fn normal(dims: &[usize], seed: u64) -> Tensor {
    tensor(dims, |_, z| z, seed)
}

/// Values away from 0 (for abs, relu, clip kinks), in ±[0.3, 2.3].
fn away_from_zero(dims: &[usize], seed: u64) -> Tensor {
    tensor(
        dims,
        |i, z| (0.3 + z.abs()).min(2.3) * if i % 2 == 0 { 1.0 } else { -1.0 },
        seed,
    )
}

fn positive(dims: &[usize], seed: u64) -> Tensor {
    tensor(dims, |_, z| 0.5 + z.abs(), seed)
}

fn loss(op: &dyn Op, inputs: &[&Tensor], w: &Tensor) -> f64 {
    let y = op.forward(inputs).expect("forward");
    y.data()
        .iter()
        .zip(w.data())
        .map(|(&a, &b)| a as f64 * b as f64)
        .sum()
}

/// Checks d(Σ w·op(x))/dx for the inputs listed in `check`.
fn gradcheck(name: &str, op: &dyn Op, inputs: Vec<Tensor>, check: &[usize]) {
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let y = op
        .forward(&refs)
        .unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    let w = normal(y.dims(), 99);
    let grads = op
        .backward(&refs, &y, &w)
        .unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));
    for &i in check {
        let g = grads[i]
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no gradient for input {i}"));
        assert_eq!(g.dims(), inputs[i].dims(), "{name}: gradient {i} shape");
        for j in 0..inputs[i].numel() {
            let x0 = inputs[i].data()[j];
            let h = 1e-2 * x0.abs().max(0.1);
            let at = |v: f32| {
                let mut xs = inputs.clone();
                xs[i].data_mut()[j] = v;
                let r: Vec<&Tensor> = xs.iter().collect();
                loss(op, &r, &w)
            };
            let numeric = (at(x0 + h) - at(x0 - h)) / (2.0 * (h as f64));
            let analytic = g.data()[j] as f64;
            let tol = 1e-3 + 1e-2 * numeric.abs().max(analytic.abs());
            assert!(
                (numeric - analytic).abs() <= tol,
                "{name}: d/dx{i}[{j}] analytic {analytic} vs numeric {numeric}"
            );
        }
    }
}

/// One check per catalogue entry: (public name, the op, its inputs, inputs to check).
fn cases() -> Vec<(&'static str, Box<dyn Op>, Vec<Tensor>, Vec<usize>)> {
    let mut v: Vec<(&'static str, Box<dyn Op>, Vec<Tensor>, Vec<usize>)> = Vec::new();
    for op in Binary::ALL {
        let (a, b) = match op {
            // a > 0 for the ln a in d/db; b away from 0.
            Binary::Pow => (positive(&[3, 4], 1), normal(&[4], 2)),
            Binary::Div => (normal(&[3, 4], 1), away_from_zero(&[3, 1], 2)),
            // distinct values so no ties (where the derivative jumps)
            Binary::Maximum | Binary::Minimum => (
                normal(&[3, 4], 1),
                tensor(&[1, 4], |i, _| i as f32 * 0.37 - 0.5, 2),
            ),
            _ => (normal(&[3, 4], 1), normal(&[4], 2)),
        };
        v.push((op.name(), Box::new(BinaryOp(op)), vec![a, b], vec![0, 1]));
    }
    for f in MapFn::ALL {
        let x = if f == MapFn::Sqrt {
            positive(&[2, 7], 3)
        } else {
            away_from_zero(&[2, 7], 3)
        };
        v.push((f.name(), Box::new(MapOp(f)), vec![x], vec![0]));
    }
    for f in Unary::ALL {
        let x = match f {
            Unary::Log => positive(&[2, 5], 4),
            Unary::Log1p => tensor(&[2, 5], |_, z| z.abs() - 0.5, 4),
            _ => normal(&[2, 5], 4),
        };
        v.push((f.name(), Box::new(UnaryOp(f)), vec![x], vec![0]));
    }
    v.push((
        "clip",
        Box::new(Clip::new(-0.5, 0.7).unwrap()),
        vec![tensor(&[3, 5], |i, _| i as f32 * 0.13 - 0.91, 5)],
        vec![0],
    ));
    let cond = tensor(&[3, 1], |i, _| (i % 2) as f32, 6);
    v.push((
        "where",
        Box::new(Where),
        vec![cond, normal(&[3, 4], 7), normal(&[4], 8)],
        vec![1, 2],
    ));
    for (kind, axes) in [
        (ReduceKind::Sum, Some(vec![1])),
        (ReduceKind::Mean, Some(vec![0, 2])),
        (ReduceKind::Max, Some(vec![-1])),
    ] {
        let name = kind.name();
        v.push((
            name,
            Box::new(Reduction {
                kind,
                axes,
                keep_dims: false,
            }),
            vec![normal(&[2, 3, 5], 9)],
            vec![0],
        ));
    }
    v.push((
        "logSumExp",
        Box::new(LogSumExp {
            axes: Some(vec![1]),
            keep_dims: true,
        }),
        vec![normal(&[3, 5], 10)],
        vec![0],
    ));
    v.push((
        "softmax",
        Box::new(Softmax { axis: -1 }),
        vec![normal(&[3, 5], 11)],
        vec![0],
    ));
    v.push((
        "logSoftmax",
        Box::new(LogSoftmax { axis: 0 }),
        vec![normal(&[3, 5], 12)],
        vec![0],
    ));
    v.push((
        "matmul",
        Box::new(MatMul),
        vec![normal(&[3, 5], 13), normal(&[5, 2], 14)],
        vec![0, 1],
    ));
    v.push((
        "transpose",
        Box::new(Transpose::new(Some(vec![2, 0, 1]))),
        vec![normal(&[2, 3, 4], 15)],
        vec![0],
    ));
    v.push((
        "reshape",
        Box::new(Reshape::new(vec![4, -1])),
        vec![normal(&[2, 3, 2], 16)],
        vec![0],
    ));
    use crate::kernels::conv::Padding;
    let conv2 = Conv {
        one_d: false,
        strides: [2, 1],
        dilations: [1, 2],
        padding: Padding::Same,
    };
    v.push((
        "conv2d",
        Box::new(conv2),
        vec![normal(&[2, 5, 6, 3], 17), normal(&[3, 2, 3, 4], 18)],
        vec![0, 1],
    ));
    let conv1 = Conv {
        one_d: true,
        strides: [1, 2],
        dilations: [1, 1],
        padding: Padding::Valid,
    };
    v.push((
        "conv1d",
        Box::new(conv1),
        vec![normal(&[2, 7, 3], 19), normal(&[3, 3, 2], 20)],
        vec![0, 1],
    ));
    // Distinct values 3% apart (geometric): farther than the ±1% relative step, so no
    // perturbation changes which element a window picks.
    let distinct = |dims: &[usize], seed: u64| {
        let n: usize = dims.iter().product();
        let mut r = Rng::new(seed);
        let mut idx: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            idx.swap(i, r.next_u32() as usize % (i + 1));
        }
        Tensor::new(
            Shape::new(dims.to_vec()),
            idx.iter().map(|&i| 1.03f32.powi(i as i32)).collect(),
        )
    };
    let max2 = Pool::new(PoolKind::Max, false, [2, 2], [2, 2], Padding::Same);
    v.push((
        "maxPool2d",
        Box::new(max2),
        vec![distinct(&[2, 5, 5, 3], 21)],
        vec![0],
    ));
    let max1 = Pool::new(PoolKind::Max, true, [1, 3], [1, 2], Padding::Valid);
    v.push((
        "maxPool1d",
        Box::new(max1),
        vec![distinct(&[2, 7, 2], 22)],
        vec![0],
    ));
    let avg2 = Pool::new(PoolKind::Avg, false, [3, 2], [2, 1], Padding::Same);
    v.push((
        "avgPool2d",
        Box::new(avg2),
        vec![normal(&[2, 5, 4, 3], 23)],
        vec![0],
    ));
    let avg1 = Pool::new(PoolKind::Avg, true, [1, 2], [1, 2], Padding::Valid);
    v.push((
        "avgPool1d",
        Box::new(avg1),
        vec![normal(&[2, 7, 2], 24)],
        vec![0],
    ));
    v.push((
        "globalAvgPool2d",
        Box::new(GlobalAvgPool { one_d: false }),
        vec![normal(&[2, 3, 4, 5], 25)],
        vec![0],
    ));
    v.push((
        "globalAvgPool1d",
        Box::new(GlobalAvgPool { one_d: true }),
        vec![normal(&[2, 5, 3], 26)],
        vec![0],
    ));
    v
}

#[test]
fn every_differentiable_op_passes_a_finite_difference_check() {
    for (name, op, inputs, check) in cases() {
        assert_eq!(op.name(), name);
        gradcheck(name, op.as_ref(), inputs, &check);
    }
}

#[test]
fn every_catalogued_op_has_a_gradient_check_or_refuses_backward() {
    let checked: Vec<&str> = cases().iter().map(|c| c.0).collect();
    for &(name, differentiable) in CATALOGUE {
        if differentiable {
            assert!(
                checked.contains(&name),
                "op `{name}` has no finite-difference gradient check"
            );
        } else {
            assert!(
                !checked.contains(&name),
                "op `{name}` is listed as not differentiable"
            );
        }
    }
    for name in &checked {
        assert!(
            CATALOGUE.iter().any(|(n, _)| n == name),
            "checked op `{name}` is missing from CATALOGUE"
        );
    }
}

#[test]
fn a_missing_derivative_is_an_error_naming_the_op() {
    let x = normal(&[2, 3], 1);
    let op = Argmax { axis: 1 };
    let y = op.forward(&[&x]).unwrap();
    let e = op.backward(&[&x], &y, &y).unwrap_err();
    assert_eq!(e.code(), "NO_GRADIENT");
    assert_eq!(
        e.to_string(),
        "argmax: no gradient is defined for this op; it cannot be differentiated"
    );
}

#[test]
fn the_tape_accumulates_through_shared_subexpressions() {
    use crate::runtime::Runtime;
    // f(x) = sum(x * x + x): d/dx = 2x + 1, x used three times.
    let mut rt = Runtime::new();
    let x = rt.insert(Tensor::new(Shape::new(vec![3]), vec![1.0, -2.0, 0.5]));
    rt.begin_grad(&[x]).unwrap();
    let sq = rt
        .run(Box::new(BinaryOp(Binary::Mul)), &[x, x], &["a", "b"])
        .unwrap();
    let s = rt
        .run(Box::new(BinaryOp(Binary::Add)), &[sq, x], &["a", "b"])
        .unwrap();
    let y = rt
        .run(
            Box::new(Reduction {
                kind: ReduceKind::Sum,
                axes: None,
                keep_dims: false,
            }),
            &[s],
            &["x"],
        )
        .unwrap();
    let g = rt.end_grad(y, None, &[x]).unwrap();
    assert_eq!(rt.get("t", "g", g[0]).unwrap().data(), &[3.0, -3.0, 2.0]);
    // A nested grad is refused with a state error; the runtime stays usable.
    rt.begin_grad(&[x]).unwrap();
    assert_eq!(rt.begin_grad(&[x]).unwrap_err().code(), "INVALID_STATE");
    rt.abort_grad();
    assert_eq!(rt.memory().tensors, 5);
}
