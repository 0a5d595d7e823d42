//! `conv2d` and `conv1d`: y = act(conv(x, kernel) + bias), channels last, on the
//! im2col + GEMM kernels of `kernels::conv`.
//!
//!   conv2d({ filters, kernelSize, strides = 1, padding = "valid", dilationRate = 1,
//!            activation = "linear", useBias = true, kernelInitializer = "glorotUniform",
//!            biasInitializer = "zeros", kernelRegularizer })
//!   conv1d({ ...the same, with numbers for kernelSize, strides and dilationRate })
//!
//! Shapes: conv2d `[batch, h, w, cin]` → `[batch, oh, ow, filters]`; conv1d
//! `[batch, len, cin]` → `[batch, olen, filters]`. `kernelSize`, `strides` and
//! `dilationRate` are a positive integer or (conv2d) `[height, width]`.
//!
//! Parameters, in `getWeights` order (Keras layout):
//!   conv2d kernel `[kh, kw, cin, filters]` = torch `Conv2d.weight [filters, cin, kh, kw]`
//!          `.permute(2, 3, 1, 0)`; bias `[filters]` = torch `Conv2d.bias`.
//!   conv1d kernel `[k, cin, filters]` = torch `Conv1d.weight [filters, cin, k]`
//!          `.permute(2, 1, 0)`; bias `[filters]` = torch `Conv1d.bias`.
//! Torch's activations are channels first: x here = torch `x.permute(0, 2, 3, 1)`
//! (2-D) or `x.permute(0, 2, 1)` (1-D), and likewise for y. `strides` and
//! `dilationRate` are torch's `stride` and `dilation` (no `groups`). Initializer fans:
//! fanIn = kh·kw·cin, fanOut = kh·kw·filters (Keras).
//!
//! `padding`:
//!   "valid"                 no padding (torch `padding=0`)
//!   "same"                  TF/Keras: out = ceil(in / stride), total padding
//!                           max((out − 1)·stride + (k − 1)·dilation + 1 − in, 0), half
//!                           before (rounded down), the rest after. With stride 1 this is
//!                           torch `padding="same"`. NOTE: with stride 2 the extra zero goes
//!                           to the bottom/right, unlike torch's symmetric `padding=k//2`.
//!   p (a number)            p zeros on every side (torch `padding=p`)
//!   [ph, pw] (conv2d)       torch `padding=(ph, pw)`
//!   { top, bottom, left, right } (conv2d) / { left, right } (conv1d), each default 0:
//!                           torch `F.pad(x, (left, right, top, bottom))` then `padding=0`
//!   "causal" (conv1d only)  Keras: (k − 1)·dilation zeros on the left, so y[t] sees x[..=t]
//!
//! Backward, with g = gy·act'(pre): dkernel += conv2d_backward_filter(x, g) (computed into
//! a reused scratch, then added), dbias += Σ g over all axes but the channels,
//! dx = conv2d_backward_input(g, kernel), the transposed convolution.

use super::activation::Act;
use super::init::Init;
use super::{Layer, Param, Regularizer};
use crate::error::{Error, Result};
use crate::json::{json, Value};
use crate::kernels::binary::{add_assign, add_column_sums, add_to_rows};
use crate::kernels::conv::{
    conv2d, conv2d_backward_filter, conv2d_backward_input, Conv2dGeometry, Padding,
};
use crate::losses::Config;
use crate::rng::Rng;
use crate::shape::Shape;
use crate::tensor::Tensor;

pub struct Conv {
    kind: &'static str,
    one_d: bool,
    filters: usize,
    /// `[kh, kw]`; `[1, k]` for conv1d (and likewise strides and dilation).
    kernel: [usize; 2],
    strides: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
    /// conv1d's "causal", kept to report the config as given (`padding` holds the zeros).
    causal: bool,
    act: Act,
    use_bias: bool,
    kernel_init: Init,
    bias_init: Init,
    regularizer: Option<Regularizer>,
    /// The per-sample input shape it was built for.
    input: Vec<usize>,
    /// The geometry for the last batch size seen, and its output shape.
    geom: Option<Conv2dGeometry>,
    out_dims: Vec<usize>,
    params: Vec<Param>,
    /// conv + bias before the activation (unused for "linear", which writes y directly).
    pre: Vec<f32>,
    /// dL/d(pre), reused.
    g: Vec<f32>,
    /// The kernel gradient of one backward, before it is added into `grad`.
    gw: Vec<f32>,
}

pub fn build_conv1d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, true)
}

pub fn build_conv2d(cfg: &Config) -> Result<Box<dyn Layer>> {
    build(cfg, false)
}

fn build(cfg: &Config, one_d: bool) -> Result<Box<dyn Layer>> {
    cfg.check_keys(&[
        "filters",
        "kernelSize",
        "strides",
        "padding",
        "dilationRate",
        "activation",
        "useBias",
        "kernelInitializer",
        "biasInitializer",
        "kernelRegularizer",
    ])?;
    let filters = cfg.f64_where("filters", f64::NAN, "a positive integer", |u| {
        positive_int(u).is_some()
    })? as usize;
    let kernel = window_arg(cfg, "kernelSize", one_d)?
        .ok_or_else(|| Error::invalid(cfg.op, "kernelSize", window_expected(one_d), "nothing"))?;
    let strides = window_arg(cfg, "strides", one_d)?.unwrap_or([1, 1]);
    let dilation = window_arg(cfg, "dilationRate", one_d)?.unwrap_or([1, 1]);
    let (padding, causal) = match padding_arg(cfg, one_d, one_d)? {
        PadArg::Fixed(p) => (p, false),
        PadArg::Causal => {
            let left = (kernel[1] - 1).checked_mul(dilation[1]).ok_or_else(|| {
                Error::invalid(
                    cfg.op,
                    "dilationRate",
                    "a dilated window that fits in memory",
                    format!("{} taps with dilation {}", kernel[1], dilation[1]),
                )
            })?;
            (
                Padding::Explicit {
                    top: 0,
                    bottom: 0,
                    left,
                    right: 0,
                },
                true,
            )
        }
    };
    Ok(Box::new(Conv {
        kind: cfg.op,
        one_d,
        filters,
        kernel,
        strides,
        dilation,
        padding,
        causal,
        act: Act::from_config(cfg, "activation")?,
        use_bias: cfg.bool("useBias", true)?,
        kernel_init: Init::from_config(cfg, "kernelInitializer", Init::GlorotUniform)?,
        bias_init: Init::from_config(cfg, "biasInitializer", Init::Constant(0.0))?,
        regularizer: Regularizer::from_config(cfg, "kernelRegularizer")?,
        input: Vec::new(),
        geom: None,
        out_dims: Vec::new(),
        params: Vec::new(),
        pre: Vec::new(),
        g: Vec::new(),
        gw: Vec::new(),
    }))
}

// ---- options shared with the pooling layers ----

/// `x` as a positive integer (below 1e9, so products of a few stay in range on wasm32).
fn positive_int(x: f64) -> Option<usize> {
    (x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x < 1e9).then_some(x as usize)
}

fn non_negative_int(v: &Value) -> Option<usize> {
    let x = v.as_f64()?;
    (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1e9).then_some(x as usize)
}

pub(super) fn window_expected(one_d: bool) -> &'static str {
    if one_d {
        "a positive integer"
    } else {
        "a positive integer or a list [height, width] of positive integers"
    }
}

/// A window size, stride or dilation at `key`: a positive integer (both axes) or, for a
/// 2-D layer, `[height, width]`; a 1-D layer also takes a one-element list. 1-D sizes
/// come back as `[1, k]`. `None` when absent or null.
pub(super) fn window_arg(cfg: &Config, key: &str, one_d: bool) -> Result<Option<[usize; 2]>> {
    let Some(v) = cfg.raw(key) else {
        return Ok(None);
    };
    let int = |v: &Value| v.as_f64().and_then(positive_int);
    let got = match v {
        Value::Array(items) if one_d && items.len() == 1 => int(&items[0]).map(|k| [1, k]),
        Value::Array(items) if !one_d && items.len() == 2 => {
            int(&items[0]).zip(int(&items[1])).map(|(a, b)| [a, b])
        }
        Value::Array(_) => None,
        v => int(v).map(|k| if one_d { [1, k] } else { [k, k] }),
    };
    got.map(Some)
        .ok_or_else(|| Error::invalid(cfg.op, key, window_expected(one_d), v.to_string()))
}

/// A window size as it reads in a config: `k` for 1-D layers, `[h, w]` for 2-D ones.
pub(super) fn window_json(one_d: bool, [a, b]: [usize; 2]) -> Value {
    if one_d {
        json!(b)
    } else {
        json!([a, b])
    }
}

pub(super) enum PadArg {
    Fixed(Padding),
    /// conv1d's (k − 1)·dilation zeros on the left, resolved by the caller.
    Causal,
}

/// `padding`: "valid" (the default), "same", a number of zeros on every side, `[ph, pw]`
/// (2-D), `{ top, bottom, left, right }` (2-D) or `{ left, right }` (1-D), and "causal"
/// where `causal_ok`.
pub(super) fn padding_arg(cfg: &Config, one_d: bool, causal_ok: bool) -> Result<PadArg> {
    let expected = match (one_d, causal_ok) {
        (false, _) => "\"valid\", \"same\", a non-negative integer, [height, width] or { top, bottom, left, right } of non-negative integers",
        (true, true) => "\"valid\", \"same\", \"causal\", a non-negative integer or { left, right } of non-negative integers",
        (true, false) => "\"valid\", \"same\", a non-negative integer or { left, right } of non-negative integers",
    };
    let Some(v) = cfg.raw("padding") else {
        return Ok(PadArg::Fixed(Padding::Valid));
    };
    let bad = || Error::invalid(cfg.op, "padding", expected, v.to_string());
    let p = match v {
        Value::String(s) => match s.as_str() {
            "valid" => Padding::Valid,
            "same" => Padding::Same,
            "causal" if causal_ok => return Ok(PadArg::Causal),
            _ => return Err(bad()),
        },
        Value::Number(_) => {
            let p = non_negative_int(v).ok_or_else(bad)?;
            Padding::symmetric(if one_d { 0 } else { p }, p)
        }
        Value::Array(items) if !one_d && items.len() == 2 => {
            let ph = non_negative_int(&items[0]).ok_or_else(bad)?;
            let pw = non_negative_int(&items[1]).ok_or_else(bad)?;
            Padding::symmetric(ph, pw)
        }
        Value::Object(m) => {
            let keys: &[&str] = if one_d {
                &["left", "right"]
            } else {
                &["top", "bottom", "left", "right"]
            };
            let mut sides = [0usize; 4];
            for (k, val) in m {
                let i = keys.iter().position(|s| s == k).ok_or_else(bad)?;
                sides[i + 4 - keys.len()] = non_negative_int(val).ok_or_else(bad)?;
            }
            let [top, bottom, left, right] = sides;
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            }
        }
        _ => return Err(bad()),
    };
    Ok(PadArg::Fixed(p))
}

pub(super) fn padding_json(p: Padding, one_d: bool) -> Value {
    match p {
        Padding::Valid => json!("valid"),
        Padding::Same => json!("same"),
        Padding::Explicit { left, right, .. } if one_d => json!({ "left": left, "right": right }),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => json!({ "top": top, "bottom": bottom, "left": left, "right": right }),
    }
}

/// The per-sample shape a 1-D or 2-D channels-last layer takes, for messages.
pub(super) fn expected_input(one_d: bool) -> &'static str {
    if one_d {
        "a shape [batch, length, channels] with positive sizes"
    } else {
        "a shape [batch, height, width, channels] with positive sizes"
    }
}

pub(super) fn check_rank(op: &'static str, one_d: bool, input: &[usize]) -> Result<()> {
    if input.len() != if one_d { 2 } else { 3 } || input.contains(&0) {
        return Err(Error::shape(
            op,
            "input",
            expected_input(one_d),
            format!("per-sample shape {}", Shape::new(input.to_vec())),
        ));
    }
    Ok(())
}

impl Conv {
    /// The kernel's shape: `[kh, kw, cin, filters]`, or `[k, cin, filters]` for conv1d.
    fn kernel_dims(&self, cin: usize) -> Vec<usize> {
        if self.one_d {
            vec![self.kernel[1], cin, self.filters]
        } else {
            vec![self.kernel[0], self.kernel[1], cin, self.filters]
        }
    }

    /// Validates the convolution of `batch` samples of shape `input`.
    fn geometry_for(&self, input: &[usize], batch: usize) -> Result<Conv2dGeometry> {
        let cin = *input.last().expect("rank checked");
        let f = self.kernel_dims(cin);
        if self.one_d {
            Conv2dGeometry::conv1d(
                self.kind,
                &[batch, input[0], cin],
                &f,
                self.strides[1],
                self.dilation[1],
                self.padding,
            )
        } else {
            Conv2dGeometry::new(
                self.kind,
                &[batch, input[0], input[1], cin],
                &f,
                self.strides,
                self.dilation,
                self.padding,
            )
        }
    }

    /// Makes `geom` the geometry for `batch` samples (recomputed only when it changes).
    fn ensure_geometry(&mut self, batch: usize) -> Result<()> {
        if self.geom.as_ref().is_none_or(|g| g.n != batch) {
            let g = self.geometry_for(&self.input, batch)?;
            self.out_dims = g.output_dims();
            self.geom = Some(g);
        }
        Ok(())
    }
}

impl Layer for Conv {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn config(&self) -> Value {
        let padding = if self.causal {
            json!("causal")
        } else {
            padding_json(self.padding, self.one_d)
        };
        json!({
            "filters": self.filters,
            "kernelSize": window_json(self.one_d, self.kernel),
            "strides": window_json(self.one_d, self.strides),
            "padding": padding,
            "dilationRate": window_json(self.one_d, self.dilation),
            "activation": self.act.to_json(),
            "useBias": self.use_bias,
            "kernelRegularizer": self.regularizer.map(|r| json!({ "l1": r.l1, "l2": r.l2 })),
        })
    }

    fn build(&mut self, input: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        check_rank(self.kind, self.one_d, input)?;
        // A kernel larger than the (padded) input fails here, naming the layer.
        let g = self.geometry_for(input, 1)?;
        let cin = g.cin;
        let taps = self.kernel[0] * self.kernel[1];
        let (fan_in, fan_out) = (taps * cin, taps * self.filters);
        let dims = self.kernel_dims(cin);
        let kernel = self.kernel_init.values(&dims, fan_in, fan_out, rng);
        let mut w = Param::new("kernel", Tensor::new(Shape::new(dims), kernel), true);
        w.regularizer = self.regularizer;
        self.params = vec![w];
        if self.use_bias {
            let b = self.bias_init.values(&[self.filters], fan_in, fan_out, rng);
            self.params.push(Param::new(
                "bias",
                Tensor::new(Shape::new(vec![self.filters]), b),
                true,
            ));
        }
        self.input = input.to_vec();
        self.out_dims = g.output_dims();
        self.geom = Some(g);
        Ok(self.out_dims[1..].to_vec())
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn forward(&mut self, x: &Tensor, y: &mut Tensor, _training: bool) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        self.ensure_geometry(batch)?;
        let g = self.geom.as_ref().expect("set by ensure_geometry");
        let linear = self.act == Act::Linear;
        y.resize(&self.out_dims);
        let z: &mut [f32] = if linear {
            y.data_mut()
        } else {
            self.pre.resize(g.output_len(), 0.0);
            &mut self.pre
        };
        conv2d(g, x.data(), self.params[0].value.data(), z);
        if let Some(b) = self.params.get(1) {
            add_to_rows(z, b.value.data());
        }
        if !linear {
            self.act.apply(&self.pre, y.data_mut(), self.filters);
        }
        Ok(())
    }

    fn backward(&mut self, x: &Tensor, y: &Tensor, gy: &Tensor, gx: &mut Tensor) -> Result<()> {
        let batch = super::check_input(self.kind, x, &self.input)?;
        self.ensure_geometry(batch)?;
        if gy.dims() != self.out_dims.as_slice() || y.dims() != self.out_dims.as_slice() {
            return Err(Error::shape(
                self.kind,
                "gradient",
                format!("shape {} (the output's)", Shape::new(self.out_dims.clone())),
                format!("shape {}", gy.shape()),
            ));
        }
        let g = self.geom.as_ref().expect("set by ensure_geometry");
        let gz: &[f32] = if self.act == Act::Linear {
            gy.f32s(self.kind, "gradient")?
        } else {
            if self.pre.len() != g.output_len() {
                return Err(Error::state(
                    self.kind,
                    "a forward pass on this batch before backward",
                    "backward without one",
                ));
            }
            self.g.resize(g.output_len(), 0.0);
            self.act.backward(
                &self.pre,
                y.data(),
                gy.f32s(self.kind, "gradient")?,
                &mut self.g,
                self.filters,
            );
            &self.g
        };
        let (w, rest) = self.params.split_first_mut().expect("built");
        self.gw.resize(g.filter_len(), 0.0);
        conv2d_backward_filter(g, x.data(), gz, &mut self.gw);
        add_assign(&mut w.grad, &self.gw);
        if let Some(r) = w.regularizer {
            r.add_grad(w.value.data(), &mut w.grad);
        }
        if let Some(b) = rest.first_mut() {
            add_column_sums(gz, &mut b.grad);
        }
        gx.resize(x.dims());
        conv2d_backward_input(g, gz, w.value.data(), gx.data_mut());
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

    /// Builds `kind` for `x`, sets the kernel (and bias) and runs forward.
    fn run_with(
        kind: &str,
        config: &str,
        x: &Tensor,
        kernel: &[f32],
        bias: Option<&[f32]>,
    ) -> Tensor {
        let mut layer = make(kind, config).unwrap();
        layer.build(&x.dims()[1..], &mut Rng::new(1)).unwrap();
        let params = layer.params_mut();
        params[0].value.data_mut().copy_from_slice(kernel);
        if let Some(b) = bias {
            params[1].value.data_mut().copy_from_slice(b);
        }
        let mut y = Tensor::zeros(Shape::new(vec![]));
        layer.forward(x, &mut y, false).unwrap();
        y
    }

    fn err(kind: &str, config: &str) -> String {
        make(kind, config).err().expect("should fail").to_string()
    }

    #[test]
    fn conv2d_values_by_hand() {
        // x = 1..9 on a 3×3 image, a 2×2 kernel of ones, bias 0.5.
        let x = tensor((1..=9).map(|v| v as f32).collect(), &[1, 3, 3, 1]);
        let y = run_with(
            "conv2d",
            r#"{"filters":1,"kernelSize":2}"#,
            &x,
            &[1.0; 4],
            Some(&[0.5]),
        );
        assert_eq!(y.dims(), &[1, 2, 2, 1]);
        assert_eq!(y.data(), &[12.5, 16.5, 24.5, 28.5]);
        // "same" with stride 2: out 2×2, padding 0 before and 1 after (TF's asymmetry).
        let y = run_with(
            "conv2d",
            r#"{"filters":1,"kernelSize":2,"strides":2,"padding":"same","useBias":false}"#,
            &x,
            &[1.0; 4],
            None,
        );
        assert_eq!(y.data(), &[12.0, 9.0, 15.0, 9.0]);
        // Explicit symmetric padding 1 (torch padding=1), 3×3 kernel with only the centre
        // tap: the identity; relu clips the negatives.
        let xs = tensor(vec![1.0, -2.0, 3.0, -4.0], &[1, 2, 2, 1]);
        let mut k = [0.0; 9];
        k[4] = 1.0;
        let y = run_with(
            "conv2d",
            r#"{"filters":1,"kernelSize":3,"padding":1,"activation":"relu"}"#,
            &xs,
            &k,
            Some(&[0.0]),
        );
        assert_eq!(y.data(), &[1.0, 0.0, 3.0, 0.0]);
        // Two input channels, two filters: kernel [1, 1, 2, 2] mixes the channels.
        let x2 = tensor(vec![1.0, 10.0, 2.0, 20.0], &[1, 1, 2, 2]);
        let y = run_with(
            "conv2d",
            r#"{"filters":2,"kernelSize":1}"#,
            &x2,
            &[1.0, 2.0, 3.0, 4.0],
            Some(&[0.0, 100.0]),
        );
        assert_eq!(y.data(), &[31.0, 142.0, 62.0, 184.0]);
    }

    #[test]
    fn conv1d_values_by_hand() {
        // kernel [k = 2, cin = 1, filters = 1] = [1, −1]: y[t] = x[t] − x[t + d].
        let x = tensor(vec![1.0, 4.0, 9.0, 16.0], &[1, 4, 1]);
        let y = run_with(
            "conv1d",
            r#"{"filters":1,"kernelSize":2}"#,
            &x,
            &[1.0, -1.0],
            Some(&[0.0]),
        );
        assert_eq!(
            (y.dims(), y.data()),
            (&[1, 3, 1][..], &[-3.0, -5.0, -7.0][..])
        );
        let y = run_with(
            "conv1d",
            r#"{"filters":1,"kernelSize":2,"dilationRate":2}"#,
            &x,
            &[1.0, -1.0],
            Some(&[0.0]),
        );
        assert_eq!(y.data(), &[-8.0, -12.0]);
        // causal: one zero on the left, y[t] = x[t − 1] − x[t].
        let y = run_with(
            "conv1d",
            r#"{"filters":1,"kernelSize":2,"padding":"causal"}"#,
            &x,
            &[1.0, -1.0],
            Some(&[0.0]),
        );
        assert_eq!(y.data(), &[-1.0, -3.0, -5.0, -7.0]);
        let y = run_with(
            "conv1d",
            r#"{"filters":1,"kernelSize":2,"strides":2,"padding":{"right":1}}"#,
            &x,
            &[1.0, -1.0],
            Some(&[0.0]),
        );
        assert_eq!(y.data(), &[-3.0, -7.0]);
    }

    #[test]
    fn conv2d_gradients() {
        for (cfg, dims) in [
            (r#"{"filters":3,"kernelSize":3}"#, [2, 5, 5, 2]),
            (
                r#"{"filters":2,"kernelSize":[3,2],"strides":2,"padding":"same","activation":"tanh"}"#,
                [1, 7, 6, 3],
            ),
            (
                r#"{"filters":2,"kernelSize":2,"dilationRate":2,"padding":{"top":1,"right":2},"useBias":false,"kernelRegularizer":{"l2":0.1}}"#,
                [2, 5, 7, 1],
            ),
            (
                r#"{"filters":3,"kernelSize":3,"strides":[2,1],"padding":[1,0],"activation":"sigmoid","kernelRegularizer":{"l1":0.01}}"#,
                [1, 5, 3, 2],
            ),
            (
                r#"{"filters":5,"kernelSize":1,"activation":"softmax"}"#,
                [2, 3, 3, 3],
            ),
        ] {
            gradcheck("conv2d", cfg, normal(&dims, 3), false, 3e-3);
        }
    }

    #[test]
    fn conv1d_gradients() {
        for (cfg, dims) in [
            (r#"{"filters":3,"kernelSize":3}"#, [2, 7, 2]),
            (
                r#"{"filters":2,"kernelSize":3,"strides":2,"padding":"same","activation":"tanh"}"#,
                [1, 5, 3],
            ),
            (
                r#"{"filters":4,"kernelSize":2,"dilationRate":2,"padding":"causal","useBias":false}"#,
                [3, 7, 2],
            ),
            (
                r#"{"filters":1,"kernelSize":[5],"padding":2,"activation":{"type":"elu","alpha":0.5}}"#,
                [2, 5, 1],
            ),
        ] {
            gradcheck("conv1d", cfg, normal(&dims, 4), false, 3e-3);
        }
    }

    #[test]
    fn gradients_accumulate_and_layouts() {
        let x = normal(&[2, 5, 4, 3], 5);
        let (mut layer, y) = run("conv2d", r#"{"filters":7,"kernelSize":[3,2]}"#, &x, false);
        assert_eq!(y.dims(), &[2, 3, 3, 7]);
        assert_eq!(layer.params()[0].value.dims(), &[3, 2, 3, 7]);
        assert_eq!(layer.params()[1].value.dims(), &[7]);
        let gy = normal(y.dims(), 6);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        layer.backward(&x, &y, &gy, &mut gx).unwrap();
        let once: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
        layer.backward(&x, &y, &gy, &mut gx).unwrap();
        for (p, g1) in layer.params().iter().zip(&once) {
            for (&g2, &g1) in p.grad.iter().zip(g1) {
                assert!((g2 - 2.0 * g1).abs() <= 1e-5 * (1.0 + g1.abs()));
            }
        }
        let (layer, y) = run(
            "conv1d",
            r#"{"filters":4,"kernelSize":3,"strides":2,"padding":"same"}"#,
            &normal(&[3, 9, 2], 1),
            false,
        );
        assert_eq!(y.dims(), &[3, 5, 4]);
        assert_eq!(layer.params()[0].value.dims(), &[3, 2, 4]);
        // glorotUniform with fans kh·kw·cin and kh·kw·filters.
        let limit = (6.0f32 / (3.0 * 2.0 + 3.0 * 4.0)).sqrt();
        assert!(layer.params()[0]
            .value
            .data()
            .iter()
            .all(|v| v.abs() <= limit));
        assert!(layer.params()[1].value.data().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn config_round_trips() {
        for (kind, cfg) in [
            (
                "conv2d",
                r#"{"filters":2,"kernelSize":[3,2],"strides":2,"padding":{"top":1,"left":2},"dilationRate":[1,2],"activation":"relu","useBias":false,"kernelRegularizer":{"l2":0.5}}"#,
            ),
            (
                "conv1d",
                r#"{"filters":2,"kernelSize":3,"padding":"causal","dilationRate":2}"#,
            ),
            ("conv1d", r#"{"filters":2,"kernelSize":3,"padding":1}"#),
        ] {
            let a = make(kind, cfg).unwrap();
            let b = make(kind, &a.config().to_string()).unwrap();
            assert_eq!(a.config(), b.config());
        }
        let c = make("conv1d", r#"{"filters":2,"kernelSize":3,"padding":1}"#)
            .unwrap()
            .config();
        assert_eq!(c["padding"], crate::json::json!({ "left": 1, "right": 1 }));
    }

    #[test]
    fn invalid_options_fail_when_made() {
        assert_eq!(
            err("conv2d", r#"{"filters":0,"kernelSize":3}"#),
            "conv2d: invalid `filters`: expected a positive integer, received 0"
        );
        assert_eq!(
            err("conv2d", r#"{"kernelSize":3}"#),
            "conv2d: invalid `filters`: expected a positive integer, received NaN"
        );
        assert_eq!(err("conv2d", r#"{"filters":2}"#), "conv2d: invalid `kernelSize`: expected a positive integer or a list [height, width] of positive integers, received nothing");
        assert_eq!(err("conv2d", r#"{"filters":2,"kernelSize":0}"#), "conv2d: invalid `kernelSize`: expected a positive integer or a list [height, width] of positive integers, received 0");
        assert_eq!(err("conv2d", r#"{"filters":2,"kernelSize":[3,2.5]}"#), "conv2d: invalid `kernelSize`: expected a positive integer or a list [height, width] of positive integers, received [3,2.5]");
        assert_eq!(
            err("conv2d", r#"{"filters":2,"kernelSize":[3]}"#)
                .split(':')
                .nth(1),
            Some(" invalid `kernelSize`")
        );
        assert_eq!(
            err("conv1d", r#"{"filters":2,"kernelSize":1.5}"#),
            "conv1d: invalid `kernelSize`: expected a positive integer, received 1.5"
        );
        assert_eq!(
            err("conv1d", r#"{"filters":2,"kernelSize":[3,3]}"#),
            "conv1d: invalid `kernelSize`: expected a positive integer, received [3,3]"
        );
        assert_eq!(err("conv2d", r#"{"filters":2,"kernelSize":3,"strides":0}"#), "conv2d: invalid `strides`: expected a positive integer or a list [height, width] of positive integers, received 0");
        assert_eq!(
            err(
                "conv1d",
                r#"{"filters":2,"kernelSize":3,"dilationRate":-1}"#
            ),
            "conv1d: invalid `dilationRate`: expected a positive integer, received -1"
        );
        assert_eq!(
            err("conv2d", r#"{"filters":2,"kernelSize":3,"padding":"full"}"#),
            "conv2d: invalid `padding`: expected \"valid\", \"same\", a non-negative integer, [height, width] or { top, bottom, left, right } of non-negative integers, received \"full\""
        );
        assert_eq!(
            err(
                "conv2d",
                r#"{"filters":2,"kernelSize":3,"padding":"causal"}"#
            )
            .split(':')
            .nth(1),
            Some(" invalid `padding`")
        );
        assert_eq!(
            err("conv1d", r#"{"filters":2,"kernelSize":3,"padding":-1}"#)
                .split(':')
                .nth(1),
            Some(" invalid `padding`")
        );
        assert_eq!(
            err(
                "conv1d",
                r#"{"filters":2,"kernelSize":3,"padding":{"top":1}}"#
            )
            .split(':')
            .nth(1),
            Some(" invalid `padding`")
        );
        assert_eq!(
            err(
                "conv2d",
                r#"{"filters":2,"kernelSize":3,"padding":{"left":1.5}}"#
            )
            .split(':')
            .nth(1),
            Some(" invalid `padding`")
        );
        assert_eq!(
            err(
                "conv2d",
                r#"{"filters":2,"kernelSize":3,"activation":"swish"}"#
            )
            .split(':')
            .nth(1),
            Some(" invalid `activation`")
        );
        assert_eq!(
            make("conv2d", r#"{"filters":2,"kernelSize":3,"groups":2}"#)
                .err()
                .unwrap()
                .arg,
            "config"
        );
    }

    #[test]
    fn wrong_input_shapes_fail_with_the_layer_name() {
        let mut rng = Rng::new(1);
        let mut layer = make("conv2d", r#"{"filters":2,"kernelSize":4}"#).unwrap();
        assert_eq!(
            layer.build(&[3, 5, 1], &mut rng).unwrap_err().to_string(),
            "conv2d: invalid `kernelSize`: expected at most 3 (the padded input height) with padding \"valid\", received 4"
        );
        // The same kernel fits with "same" padding.
        let mut same = make("conv2d", r#"{"filters":2,"kernelSize":4,"padding":"same"}"#).unwrap();
        assert_eq!(same.build(&[3, 5, 1], &mut rng).unwrap(), vec![3, 5, 2]);
        let mut layer1 =
            make("conv1d", r#"{"filters":2,"kernelSize":3,"dilationRate":3}"#).unwrap();
        assert_eq!(layer1.build(&[6, 2], &mut rng).unwrap_err().to_string(), "conv1d: invalid `kernelSize`: expected a dilated window of at most 6 (the padded input length) with padding \"valid\", received 3 with dilation 3 (a window of 7)");
        assert_eq!(layer.build(&[5, 5], &mut rng).unwrap_err().to_string(), "conv2d: invalid `input`: expected a shape [batch, height, width, channels] with positive sizes, received per-sample shape [5, 5]");
        assert_eq!(
            layer1.build(&[0, 2], &mut rng).unwrap_err().code(),
            "SHAPE_MISMATCH"
        );
        let (mut layer, _) = run(
            "conv2d",
            r#"{"filters":2,"kernelSize":3}"#,
            &normal(&[1, 5, 5, 2], 1),
            false,
        );
        let mut y = Tensor::zeros(Shape::new(vec![]));
        let e = layer
            .forward(&normal(&[1, 5, 5, 3], 1), &mut y, false)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "conv2d: invalid `input`: expected shape [batch, 5, 5, 2], received shape [1, 5, 5, 3]"
        );
        // Batch sizes may change between calls.
        layer
            .forward(&normal(&[3, 5, 5, 2], 1), &mut y, false)
            .unwrap();
        assert_eq!(y.dims(), &[3, 3, 3, 2]);
        let mut gx = Tensor::zeros(Shape::new(vec![]));
        let bad_gy = normal(&[3, 3, 3, 1], 2);
        assert_eq!(
            layer
                .backward(&normal(&[3, 5, 5, 2], 1), &y, &bad_gy, &mut gx)
                .unwrap_err()
                .code(),
            "SHAPE_MISMATCH"
        );
    }
}
