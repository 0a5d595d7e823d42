//! Pooling layers, channels last, on the kernels of `kernels::pool`:
//!
//!   maxPool2d({ poolSize = 2, strides = poolSize, padding = "valid" })   [batch, h, w, c] → [batch, oh, ow, c]
//!   avgPool2d({ poolSize = 2, strides = poolSize, padding = "valid" })
//!   maxPool1d / avgPool1d (the same with numbers)                       [batch, len, c] → [batch, olen, c]
//!   globalAvgPool2d()  [batch, h, w, c] → [batch, c]     globalAvgPool1d()  [batch, len, c] → [batch, c]
//!
//! `poolSize` and `strides` are a positive integer or (2-D) `[height, width]`. `padding`
//! is "valid", "same" (TF/Keras: out = ceil(in / stride), the odd extra zero after), or
//! explicit as for conv (a number, `[ph, pw]`, `{ top, bottom, left, right }` / `{ left,
//! right }`), smaller than the pool on every side. No parameters.
//!
//! Padding never enters a window's value: max pooling never picks it and average pooling
//! divides by the in-bounds count. PyTorch: maxPool2d = `nn.MaxPool2d(poolSize, strides,
//! padding)`, avgPool2d = `nn.AvgPool2d(poolSize, strides, padding, count_include_pad=False)`
//! (NOTE: torch's default `count_include_pad=True` divides by the full window), the 1-D
//! ones likewise, globalAvgPool = `x.mean((2, 3))` / `x.mean(2)`; torch is channels first,
//! so x here = torch `x.permute(0, 2, 3, 1)` (2-D) or `x.permute(0, 2, 1)` (1-D).
//!
//! Backward: max pooling sends each output's gradient to the element it picked (the
//! argmax kept from the forward pass, the first on ties); average pooling spreads
//! gy / count over its window; global average pooling gives gy / (h·w) everywhere.

use super::conv::{
    check_rank, expected_input, padding_arg, padding_json, window_arg, window_json, PadArg,
};
use super::Layer;
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::conv::Padding;
use crate::kernels::pool::{
    avg_pool2d, avg_pool2d_backward, global_avg_pool2d, global_avg_pool2d_backward, max_pool2d,
    max_pool2d_backward, Pool2dGeometry,
};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct Pool {
    kind: &'static str,
    one_d: bool,
    max: bool,
    /// `[kh, kw]`; `[1, k]` for the 1-D layers (and likewise the strides).
    pool: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    input: Vec<usize>,
    /// The geometry for the last batch size seen, and its output shape.
    geom: Option<Pool2dGeometry>,
    out_dims: Vec<usize>,
    /// Max pooling: the flat input index each output took, from the last forward.
    argmax: Vec<u32>,
}

pub fn build_max_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, true, true)
}

pub fn build_max_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, false, true)
}

pub fn build_avg_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, true, false)
}

pub fn build_avg_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, false, false)
}

fn build(cfg: &Config, one_d: bool, max: bool) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&["poolSize", "strides", "padding"])?;
    let pool = window_arg(cfg, "poolSize", one_d)?.unwrap_or(if one_d { [1, 2] } else { [2, 2] });
    let strides = window_arg(cfg, "strides", one_d)?.unwrap_or(pool);
    let padding = match padding_arg(cfg, one_d, false)? {
        PadArg::Fixed(p) => p,
        PadArg::Causal => {
            return Err(Error::invalid(
                cfg.op,
                "padding",
                "\"valid\" or \"same\"",
                "\"causal\"",
            ))
        }
    };
    if let Padding::Explicit {
        top,
        bottom,
        left,
        right,
    } = padding
    {
        for (before, after, k, axis) in [
            (top, bottom, pool[0], "height"),
            (left, right, pool[1], if one_d { "length" } else { "width" }),
        ] {
            if before >= k || after >= k {
                return Err(Error::invalid(
                    cfg.op,
                    "padding",
                    format!("at most {} on each side of the {axis} (less than the pool size {k}, so every window holds an input element)", k - 1),
                    format!("{before} + {after}"),
                ));
            }
        }
    }
    Ok(Box::new(Pool {
        kind: cfg.op,
        one_d,
        max,
        pool,
        strides,
        padding,
        input: Vec::new(),
        geom: None,
        out_dims: Vec::new(),
        argmax: Vec::new(),
    }))
}

impl Pool {
    fn geometry_for(&self, input: &[usize], batch: usize) -> Result<Pool2dGeometry> {
        let c = *input.last().expect("rank checked");
        if self.one_d {
            Pool2dGeometry::pool1d(
                self.kind,
                &[batch, input[0], c],
                self.pool[1],
                self.strides[1],
                self.padding,
            )
        } else {
            Pool2dGeometry::new(
                self.kind,
                &[batch, input[0], input[1], c],
                self.pool,
                self.strides,
                self.padding,
            )
        }
    }

    fn ensure_geometry(&mut self, batch: usize) -> Result<()> {
        if self.geom.as_ref().is_none_or(|g| g.n != batch) {
            let g = self.geometry_for(&self.input, batch)?;
            self.out_dims = g.output_dims();
            self.geom = Some(g);
        }
        Ok(())
    }
}

impl Layer for Pool {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> Value {
        json!({
            "poolSize": window_json(self.one_d, self.pool),
            "strides": window_json(self.one_d, self.strides),
            "padding": padding_json(self.padding, self.one_d),
        })
    }

    fn build(&mut self, input: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        check_rank(self.kind, self.one_d, input)?;
        // A pool larger than the (padded) input fails here, naming the layer.
        let g = self.geometry_for(input, 1)?;
        self.input = input.to_vec();
        self.out_dims = g.output_dims();
        self.geom = Some(g);
        self.argmax.clear();
        Ok(self.out_dims[1..].to_vec())
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        self.ensure_geometry(batch)?;
        let g = self.geom.as_ref().expect("set by ensure_geometry");
        y.resize(&self.out_dims);
        if self.max {
            self.argmax.resize(g.output_len(), 0);
            max_pool2d(g, x.data(), y.data_mut(), &mut self.argmax);
        } else {
            avg_pool2d(g, x.data(), y.data_mut());
        }
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        self.ensure_geometry(batch)?;
        if gy.dims() != self.out_dims.as_slice() {
            return Err(Error::shape(
                self.kind,
                "gradient",
                format!("shape {} (the output's)", Shape::new(self.out_dims.clone())),
                format!("shape {}", gy.shape()),
            ));
        }
        let g = self.geom.as_ref().expect("set by ensure_geometry");
        let gy = gy.f32s(self.kind, "gradient")?;
        gx.resize(x.dims());
        if self.max {
            if self.argmax.len() != g.output_len() {
                return Err(Error::state(
                    self.kind,
                    "a forward pass on this batch before backward",
                    "backward without one",
                ));
            }
            max_pool2d_backward(g, gy, &self.argmax, gx.data_mut());
        } else {
            avg_pool2d_backward(g, gy, gx.data_mut());
        }
        Ok(())
    }
}

/// globalAvgPool1d / globalAvgPool2d: the mean over all positions, per channel.
pub struct GlobalAvgPool {
    kind: &'static str,
    one_d: bool,
    input: Vec<usize>,
    /// Positions per sample (len, or h·w) and channels.
    hw: usize,
    c: usize,
}

pub fn build_global_avg_pool1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(GlobalAvgPool {
        kind: cfg.op,
        one_d: true,
        input: Vec::new(),
        hw: 0,
        c: 0,
    }))
}

pub fn build_global_avg_pool2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[])?;
    Ok(Box::new(GlobalAvgPool {
        kind: cfg.op,
        one_d: false,
        input: Vec::new(),
        hw: 0,
        c: 0,
    }))
}

impl Layer for GlobalAvgPool {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> Value {
        json!({})
    }

    fn build(&mut self, input: &[usize], _rng: &mut Rng) -> Result<Vec<usize>> {
        check_rank(self.kind, self.one_d, input)?;
        let hw = input[..input.len() - 1]
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d));
        let Some(hw) = hw else {
            return Err(Error::shape(
                self.kind,
                "input",
                expected_input(self.one_d),
                format!("per-sample shape {}", Shape::new(input.to_vec())),
            ));
        };
        self.input = input.to_vec();
        self.hw = hw;
        self.c = input[input.len() - 1];
        Ok(vec![self.c])
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        y.resize(&[batch, self.c]);
        global_avg_pool2d(batch, self.hw, self.c, x.data(), y.data_mut());
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, _y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        if gy.dims() != [batch, self.c] {
            return Err(Error::shape(
                self.kind,
                "gradient",
                format!("shape [{batch}, {}] (the output's)", self.c),
                format!("shape {}", gy.shape()),
            ));
        }
        let gy = gy.f32s(self.kind, "gradient")?;
        gx.resize(x.dims());
        global_avg_pool2d_backward(batch, self.hw, self.c, gy, gx.data_mut());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::make;
    use super::super::testing::*;
    use crate::rng::Rng;
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    fn tensor(data: Vec<f32>, dims: &[usize]) -> Tensor {
        Tensor::from_vec("test", data, Shape::new(dims.to_vec())).unwrap()
    }

    /// Distinct values 0.1 apart in a scrambled order, so the finite-difference steps
    /// of `gradcheck` (at most 1e-2·|x| ≤ 0.08 here) never change a window's max.
    fn distinct(dims: &[usize]) -> Tensor {
        let n: usize = dims.iter().product();
        assert!(n <= 150 && n % 37 != 0);
        let mut v: Vec<f32> = (0..n)
            .map(|i| ((i * 37 + 11) % n) as f32 * 0.1 - n as f32 * 0.05)
            .collect();
        v.iter_mut().for_each(|x| *x += 0.013);
        tensor(v, dims)
    }

    fn err(kind: &str, config: &str) -> String {
        make(kind, config).err().expect("should fail").to_string()
    }

    #[test]
    fn values_by_hand() {
        // x = 1..16 on a 4×4 image, two channels (the second is −x).
        let data: Vec<f32> = (1..=16).flat_map(|v| [v as f32, -(v as f32)]).collect();
        let x = tensor(data, &[1, 4, 4, 2]);
        let (_, y) = run("maxPool2d", "{}", &x, false);
        assert_eq!(y.dims(), &[1, 2, 2, 2]);
        assert_eq!(y.data(), &[6.0, -1.0, 8.0, -3.0, 14.0, -9.0, 16.0, -11.0]);
        let (_, y) = run("avgPool2d", r#"{"poolSize":2}"#, &x, false);
        assert_eq!(y.data(), &[3.5, -3.5, 5.5, -5.5, 11.5, -11.5, 13.5, -13.5]);
        // pool 3, stride 2, "same" on 4×4: out 2×2, padding 0 before and 1 after; the
        // padding is not counted in the average.
        let (_, y) = run(
            "avgPool2d",
            r#"{"poolSize":3,"strides":2,"padding":"same"}"#,
            &x,
            false,
        );
        assert_eq!(y.dims(), &[1, 2, 2, 2]);
        // windows: rows 0..3 × cols 0..3 → mean of 1,2,3,5,6,7,9,10,11 = 6; rows 0..3 ×
        // cols 2..4 → 3,4,7,8,11,12 → 7.5; rows 2..4 × cols 0..3 → 9..11,13..15 → 12;
        // rows 2..4 × cols 2..4 → 11,12,15,16 → 13.5.
        assert_eq!(y.data(), &[6.0, -6.0, 7.5, -7.5, 12.0, -12.0, 13.5, -13.5]);
        let (_, y) = run("maxPool2d", r#"{"poolSize":[1,3],"strides":1}"#, &x, false);
        assert_eq!(y.dims(), &[1, 4, 2, 2]);
        assert_eq!(&y.data()[..4], &[3.0, -1.0, 4.0, -2.0]);
        // 1-D: torch MaxPool1d(2, 1) and AvgPool1d(3, 2, padding=1, count_include_pad=False).
        let s = tensor(vec![3.0, 1.0, 4.0, 1.0, 5.0], &[1, 5, 1]);
        let (_, y) = run("maxPool1d", r#"{"poolSize":2,"strides":1}"#, &s, false);
        assert_eq!(y.data(), &[3.0, 4.0, 4.0, 5.0]);
        let (_, y) = run(
            "avgPool1d",
            r#"{"poolSize":3,"strides":2,"padding":1}"#,
            &s,
            false,
        );
        assert_eq!(y.data(), &[2.0, 2.0, 3.0]);
        let (_, y) = run("globalAvgPool1d", "", &s, false);
        assert_eq!(y.dims(), &[1, 1]);
        assert!((y.data()[0] - 2.8).abs() < 1e-6);
        let (_, y) = run("globalAvgPool2d", "{}", &x, false);
        assert_eq!((y.dims(), y.data()), (&[1, 2][..], &[8.5, -8.5][..]));
    }

    #[test]
    fn max_pool_routes_the_gradient_to_the_argmax() {
        let s = tensor(vec![3.0, 1.0, 4.0, 1.0, 5.0], &[1, 5, 1]);
        let (mut layer, y) = run("maxPool1d", r#"{"poolSize":2,"strides":1}"#, &s, false);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        layer
            .backward(
                &s,
                &y,
                &tensor(vec![1.0, 10.0, 100.0, 1000.0], &[1, 4, 1]),
                &mut gx,
            )
            .unwrap();
        assert_eq!(gx.data(), &[1.0, 0.0, 110.0, 0.0, 1000.0]);
        // Backward without a forward is an error, not a panic.
        let mut fresh = make("maxPool1d", "{}").unwrap();
        fresh.build(&[5, 1], &mut Rng::new(1)).unwrap();
        let e = fresh
            .backward(&s, &y, &tensor(vec![0.0; 2], &[1, 2, 1]), &mut gx)
            .unwrap_err();
        assert_eq!(e.code(), "INVALID_STATE");
    }

    #[test]
    fn gradients() {
        for (kind, cfg, dims) in [
            ("maxPool2d", "{}", vec![2, 5, 4, 3]),
            (
                "maxPool2d",
                r#"{"poolSize":3,"strides":2,"padding":"same"}"#,
                vec![1, 5, 5, 3],
            ),
            (
                "maxPool2d",
                r#"{"poolSize":[3,2],"strides":[1,2],"padding":{"top":1,"bottom":2}}"#,
                vec![1, 5, 3, 2],
            ),
            ("maxPool1d", r#"{"poolSize":3,"strides":2}"#, vec![3, 7, 2]),
            (
                "maxPool1d",
                r#"{"poolSize":2,"strides":1,"padding":"same"}"#,
                vec![1, 5, 3],
            ),
        ] {
            gradcheck(kind, cfg, distinct(&dims), false, 2e-3);
        }
        for (kind, cfg, dims) in [
            ("avgPool2d", "{}", vec![2, 5, 4, 3]),
            (
                "avgPool2d",
                r#"{"poolSize":3,"strides":2,"padding":"same"}"#,
                vec![1, 7, 5, 2],
            ),
            (
                "avgPool2d",
                r#"{"poolSize":3,"strides":1,"padding":[1,2]}"#,
                vec![2, 3, 5, 1],
            ),
            ("avgPool1d", r#"{"poolSize":3}"#, vec![3, 7, 2]),
            (
                "avgPool1d",
                r#"{"poolSize":3,"strides":2,"padding":"same"}"#,
                vec![1, 5, 3],
            ),
            ("globalAvgPool2d", "{}", vec![2, 3, 5, 3]),
            ("globalAvgPool1d", "{}", vec![3, 7, 2]),
            ("globalAvgPool1d", "{}", vec![1, 1, 5]),
        ] {
            gradcheck(kind, cfg, normal(&dims, 9), false, 2e-3);
        }
    }

    #[test]
    fn config_round_trips() {
        for (kind, cfg) in [
            (
                "maxPool2d",
                r#"{"poolSize":[3,2],"padding":{"top":1,"left":1}}"#,
            ),
            (
                "avgPool1d",
                r#"{"poolSize":3,"strides":1,"padding":"same"}"#,
            ),
            ("globalAvgPool2d", "{}"),
        ] {
            let a = make(kind, cfg).unwrap();
            assert_eq!(
                a.config(),
                make(kind, &a.config().to_string()).unwrap().config()
            );
        }
        assert_eq!(
            make("maxPool2d", r#"{"poolSize":3}"#).unwrap().config()["strides"],
            crate::json::json!([3, 3])
        );
        assert_eq!(
            make("maxPool1d", "{}").unwrap().config()["poolSize"],
            crate::json::json!(2)
        );
    }

    #[test]
    fn invalid_options_fail_when_made() {
        assert_eq!(err("maxPool2d", r#"{"poolSize":0}"#), "maxPool2d: invalid `poolSize`: expected a positive integer or a list [height, width] of positive integers, received 0");
        assert_eq!(
            err("avgPool1d", r#"{"poolSize":2.5}"#),
            "avgPool1d: invalid `poolSize`: expected a positive integer, received 2.5"
        );
        assert_eq!(err("avgPool2d", r#"{"strides":[2,0]}"#), "avgPool2d: invalid `strides`: expected a positive integer or a list [height, width] of positive integers, received [2,0]");
        assert_eq!(err("maxPool1d", r#"{"padding":"causal"}"#), "maxPool1d: invalid `padding`: expected \"valid\", \"same\", a non-negative integer or { left, right } of non-negative integers, received \"causal\"");
        assert_eq!(
            err("maxPool2d", r#"{"poolSize":2,"padding":2}"#),
            "maxPool2d: invalid `padding`: expected at most 1 on each side of the height (less than the pool size 2, so every window holds an input element), received 2 + 2"
        );
        assert_eq!(
            make("globalAvgPool2d", r#"{"poolSize":2}"#)
                .err()
                .unwrap()
                .arg,
            "config"
        );
        assert_eq!(
            make("maxPool2d", r#"{"filters":2}"#).err().unwrap().arg,
            "config"
        );
    }

    #[test]
    fn wrong_input_shapes_fail_with_the_layer_name() {
        let mut rng = Rng::new(1);
        let mut layer = make("maxPool2d", r#"{"poolSize":[2,4]}"#).unwrap();
        assert_eq!(layer.build(&[5, 3, 1], &mut rng).unwrap_err().to_string(), "maxPool2d: invalid `poolSize`: expected at most 3 (the padded input width) with padding \"valid\", received 4");
        assert_eq!(layer.build(&[5, 5], &mut rng).unwrap_err().to_string(), "maxPool2d: invalid `input`: expected a shape [batch, height, width, channels] with positive sizes, received per-sample shape [5, 5]");
        let mut g = make("globalAvgPool1d", "{}").unwrap();
        assert_eq!(g.build(&[4, 0], &mut rng).unwrap_err().to_string(), "globalAvgPool1d: invalid `input`: expected a shape [batch, length, channels] with positive sizes, received per-sample shape [4, 0]");
        let (mut layer, _) = run("avgPool1d", "{}", &normal(&[2, 6, 3], 1), false);
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = layer
            .forward(&normal(&[2, 6, 4], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "avgPool1d: invalid `input`: expected shape [batch, 6, 3], received shape [2, 6, 4]"
        );
        // Batch sizes may change between calls.
        layer
            .forward(&normal(&[5, 6, 3], 1), &mut y, false)
            .unwrap();
        assert_eq!(y.dims(), &[5, 3, 3]);
        let (mut gp, y) = run("globalAvgPool2d", "{}", &normal(&[2, 3, 3, 4], 1), false);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        assert_eq!(
            gp.backward(&normal(&[2, 3, 3, 4], 1), &y, &normal(&[2, 3], 1), &mut gx)
                .unwrap_err()
                .code(),
            "SHAPE_MISMATCH"
        );
    }
}
