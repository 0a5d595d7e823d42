//! batchNorm and layerNorm arithmetic: the per-element passes over a batch, with the
//! statistics summed in f64. Here, built at opt-level 3, because the layers in
//! nabla-core are built for size and these loops carry the layers' time. Each loop
//! evaluates exactly the expression in its comment, so results do not depend on where
//! it runs; configs, shapes and running statistics stay in the layers.

/// A batchNorm input seen as `outer` blocks of `c` channels, each a contiguous run of
/// `inner` values (channels-last: inner = 1).
#[derive(Clone, Copy, Debug)]
pub struct Channels {
    pub outer: usize,
    pub c: usize,
    pub inner: usize,
}

impl Channels {
    /// Calls `f(channel, range)` for every run, in memory order.
    #[inline(always)]
    fn runs(self, mut f: impl FnMut(usize, std::ops::Range<usize>)) {
        for o in 0..self.outer {
            for ch in 0..self.c {
                let start = (o * self.c + ch) * self.inner;
                f(ch, start..start + self.inner);
            }
        }
    }
}

/// Batch statistics per channel over its `m` values: mean[ch] = Σx / m, then
/// sq[ch] = Σ(x − mean)², each run summed in f64 and added to the channel's total.
pub fn batch_norm_moments(x: &[f32], ch: Channels, mean: &mut [f64], sq: &mut [f64]) {
    mean.iter_mut().for_each(|s| *s = 0.0);
    sq.iter_mut().for_each(|s| *s = 0.0);
    ch.runs(|c, r| mean[c] += x[r].iter().map(|&v| v as f64).sum::<f64>());
    let m = (ch.outer * ch.inner) as f64;
    mean.iter_mut().for_each(|s| *s /= m);
    ch.runs(|c, r| {
        let mu = mean[c];
        sq[c] += x[r]
            .iter()
            .map(|&v| (v as f64 - mu) * (v as f64 - mu))
            .sum::<f64>();
    });
}

/// y = (x − mean)·a + b per channel, a = inv_std·γ (γ = 1 without scale), b = β (0
/// without center).
pub fn batch_norm_apply(
    x: &[f32],
    y: &mut [f32],
    ch: Channels,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
) {
    ch.runs(|c, r| {
        let a = inv_std[c] * gamma.map_or(1.0, |g| g[c]);
        let (mu, b) = (mean[c], beta.map_or(0.0, |b| b[c]));
        for (o, &v) in y[r.clone()].iter_mut().zip(&x[r]) {
            *o = (v - mu) * a + b;
        }
    });
}

/// Backward sums per channel: sg[ch] = Σgy and sgx[ch] = Σgy·x̂ with
/// x̂ = (x − mean)·inv_std, in f64.
pub fn batch_norm_grad_sums(
    gy: &[f32],
    x: &[f32],
    ch: Channels,
    mean: &[f32],
    inv_std: &[f32],
    sg: &mut [f64],
    sgx: &mut [f64],
) {
    sg.iter_mut().for_each(|s| *s = 0.0);
    sgx.iter_mut().for_each(|s| *s = 0.0);
    ch.runs(|c, r| {
        let (mu, is) = (mean[c], inv_std[c]);
        for (&g, &v) in gy[r.clone()].iter().zip(&x[r]) {
            sg[c] += g as f64;
            sgx[c] += g as f64 * ((v - mu) * is) as f64;
        }
    });
}

/// dx per channel, a = inv_std·γ: with batch statistics (`sums` = (sg, sgx) over `m`
/// values) dx = a·(gy − sg/m − (x − mean)·inv_std·sgx/m); with running ones dx = a·gy.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_input_grad(
    gy: &[f32],
    x: &[f32],
    gx: &mut [f32],
    ch: Channels,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
    sums: Option<(&[f64], &[f64])>,
) {
    let m = (ch.outer * ch.inner) as f64;
    ch.runs(|c, r| {
        let (mu, is) = (mean[c], inv_std[c]);
        let a = is * gamma.map_or(1.0, |g| g[c]);
        match sums {
            Some((sg, sgx)) => {
                let (mg, mgx) = ((sg[c] / m) as f32, (sgx[c] / m) as f32);
                for ((o, &g), &v) in gx[r.clone()].iter_mut().zip(&gy[r.clone()]).zip(&x[r]) {
                    *o = a * (g - mg - (v - mu) * is * mgx);
                }
            }
            None => {
                for (o, &g) in gx[r.clone()].iter_mut().zip(&gy[r]) {
                    *o = a * g;
                }
            }
        }
    });
}

/// layerNorm forward over rows of `c` values: μ = Σx/c and σ² = Σ(x − μ)²/c in f64,
/// inv_std = 1/√(σ² + ε), y = (x − μ)·inv_std·γ_j + β_j; μ and inv_std saved per row.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_forward(
    x: &[f32],
    y: &mut [f32],
    c: usize,
    eps: f64,
    gamma: Option<&[f32]>,
    beta: Option<&[f32]>,
    mean: &mut [f32],
    inv_std: &mut [f32],
) {
    if c == 0 {
        return;
    }
    let rows = x.chunks_exact(c).zip(y.chunks_exact_mut(c));
    for (((xr, yr), mu_out), is_out) in rows.zip(mean).zip(inv_std) {
        let mu = xr.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
        let var = xr
            .iter()
            .map(|&v| (v as f64 - mu) * (v as f64 - mu))
            .sum::<f64>()
            / c as f64;
        let (mu, is) = (mu as f32, (1.0 / (var + eps).sqrt()) as f32);
        *mu_out = mu;
        *is_out = is;
        for (j, (o, &v)) in yr.iter_mut().zip(xr).enumerate() {
            *o = (v - mu) * is * gamma.map_or(1.0, |g| g[j]) + beta.map_or(0.0, |b| b[j]);
        }
    }
}

/// layerNorm backward per row, x̂ = (x − μ)·inv_std and g = gy·γ_j: dγ_j += gy·x̂,
/// dβ_j += gy, and dx = inv_std·(g − Σg/c − x̂·Σ(g·x̂)/c) with the sums in f64.
#[allow(clippy::too_many_arguments)]
pub fn layer_norm_backward(
    x: &[f32],
    gy: &[f32],
    gx: &mut [f32],
    c: usize,
    mean: &[f32],
    inv_std: &[f32],
    gamma: Option<&[f32]>,
    mut dgamma: Option<&mut [f32]>,
    mut dbeta: Option<&mut [f32]>,
) {
    if c == 0 {
        return;
    }
    let cf = c as f64;
    let rows = x
        .chunks_exact(c)
        .zip(gy.chunks_exact(c))
        .zip(gx.chunks_exact_mut(c));
    for ((((xr, gr), dr), &mu), &is) in rows.zip(mean).zip(inv_std) {
        let (mut sg, mut sgx) = (0.0f64, 0.0f64);
        for (j, (&g, &v)) in gr.iter().zip(xr).enumerate() {
            let xh = (v - mu) * is;
            let gg = g * gamma.map_or(1.0, |w| w[j]);
            sg += gg as f64;
            sgx += (gg * xh) as f64;
            if let Some(d) = dgamma.as_deref_mut() {
                d[j] += g * xh;
            }
            if let Some(d) = dbeta.as_deref_mut() {
                d[j] += g;
            }
        }
        let (mg, mgx) = ((sg / cf) as f32, (sgx / cf) as f32);
        for (j, ((o, &g), &v)) in dr.iter_mut().zip(gr).zip(xr).enumerate() {
            let gg = g * gamma.map_or(1.0, |w| w[j]);
            *o = is * (gg - mg - (v - mu) * is * mgx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn data(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.normal() * 2.0 + 0.5).collect()
    }

    /// The kernels against the textbook formulas, indexing [outer, c, inner] directly,
    /// on odd sizes; tolerances cover the f32 rounding of the reference's order.
    #[test]
    fn batch_norm_matches_the_formulas() {
        for (outer, c, inner) in [(3, 5, 1), (1, 7, 3), (4, 1, 9), (5, 3, 2)] {
            let ch = Channels { outer, c, inner };
            let n = outer * c * inner;
            let (x, gy) = (data(n, 1), data(n, 2));
            let gamma: Vec<f32> = data(c, 3);
            let beta: Vec<f32> = data(c, 4);
            let at = |o: usize, k: usize, i: usize| (o * c + k) * inner + i;
            let (mut mean, mut sq) = (vec![0.0; c], vec![0.0; c]);
            batch_norm_moments(&x, ch, &mut mean, &mut sq);
            let m = (outer * inner) as f64;
            let (mut mu, mut is) = (vec![0f32; c], vec![0f32; c]);
            for k in 0..c {
                let vals: Vec<f64> = (0..outer)
                    .flat_map(|o| (0..inner).map(move |i| (o, i)))
                    .map(|(o, i)| x[at(o, k, i)] as f64)
                    .collect();
                let rmu = vals.iter().sum::<f64>() / m;
                let rsq: f64 = vals.iter().map(|v| (v - rmu) * (v - rmu)).sum();
                assert!((mean[k] - rmu).abs() < 1e-12 && (sq[k] - rsq).abs() < 1e-9);
                mu[k] = rmu as f32;
                is[k] = (1.0 / (rsq / m + 1e-3).sqrt()) as f32;
            }
            let mut y = vec![0.0; n];
            batch_norm_apply(&x, &mut y, ch, &mu, &is, Some(&gamma), Some(&beta));
            let (mut sg, mut sgx) = (vec![0.0; c], vec![0.0; c]);
            batch_norm_grad_sums(&gy, &x, ch, &mu, &is, &mut sg, &mut sgx);
            let mut gx = vec![0.0; n];
            batch_norm_input_grad(
                &gy,
                &x,
                &mut gx,
                ch,
                &mu,
                &is,
                Some(&gamma),
                Some((&sg, &sgx)),
            );
            let mut gx_running = vec![0.0; n];
            batch_norm_input_grad(&gy, &x, &mut gx_running, ch, &mu, &is, None, None);
            for k in 0..c {
                let idx: Vec<usize> = (0..outer)
                    .flat_map(|o| (0..inner).map(move |i| at(o, k, i)))
                    .collect();
                let xh = |j: usize| (x[j] - mu[k]) * is[k];
                let rsg: f64 = idx.iter().map(|&j| gy[j] as f64).sum();
                let rsgx: f64 = idx.iter().map(|&j| gy[j] as f64 * xh(j) as f64).sum();
                assert!((sg[k] - rsg).abs() < 1e-9 && (sgx[k] - rsgx).abs() < 1e-6);
                for &j in &idx {
                    assert!((y[j] - (xh(j) * gamma[k] + beta[k])).abs() < 1e-5);
                    let want =
                        is[k] * gamma[k] * (gy[j] - (rsg / m) as f32 - xh(j) * (rsgx / m) as f32);
                    assert!((gx[j] - want).abs() < 1e-4, "{} vs {want}", gx[j]);
                    assert_eq!(gx_running[j], is[k] * gy[j]);
                }
            }
        }
    }

    #[test]
    fn layer_norm_matches_the_formulas() {
        for (rows, c) in [(1, 1), (3, 7), (5, 33), (2, 4)] {
            let n = rows * c;
            let (x, gy, gamma, beta) = (data(n, 5), data(n, 6), data(c, 7), data(c, 8));
            let (mut y, mut mean, mut is) = (vec![0.0; n], vec![0.0; rows], vec![0.0; rows]);
            layer_norm_forward(
                &x,
                &mut y,
                c,
                1e-5,
                Some(&gamma),
                Some(&beta),
                &mut mean,
                &mut is,
            );
            let (mut gx, mut dg, mut db) = (vec![0.0; n], vec![0.0; c], vec![0.0; c]);
            layer_norm_backward(
                &x,
                &gy,
                &mut gx,
                c,
                &mean,
                &is,
                Some(&gamma),
                Some(&mut dg),
                Some(&mut db),
            );
            let (mut rdg, mut rdb) = (vec![0f32; c], vec![0f32; c]);
            for r in 0..rows {
                let xr = &x[r * c..(r + 1) * c];
                let mu = xr.iter().map(|&v| v as f64).sum::<f64>() / c as f64;
                let var = xr.iter().map(|&v| (v as f64 - mu).powi(2)).sum::<f64>() / c as f64;
                let inv = 1.0 / (var + 1e-5).sqrt();
                assert!((mean[r] as f64 - mu).abs() < 1e-6 && (is[r] as f64 - inv).abs() < 1e-4);
                let xh: Vec<f64> = xr.iter().map(|&v| (v as f64 - mu) * inv).collect();
                let g: Vec<f64> = (0..c).map(|j| (gy[r * c + j] * gamma[j]) as f64).collect();
                let (sg, sgx) = (
                    g.iter().sum::<f64>(),
                    (0..c).map(|j| g[j] * xh[j]).sum::<f64>(),
                );
                for j in 0..c {
                    let want_y = xh[j] * gamma[j] as f64 + beta[j] as f64;
                    assert!((y[r * c + j] as f64 - want_y).abs() < 1e-4);
                    let want = inv * (g[j] - sg / c as f64 - xh[j] * sgx / c as f64);
                    assert!(
                        (gx[r * c + j] as f64 - want).abs() < 1e-3,
                        "{} vs {want}",
                        gx[r * c + j]
                    );
                    rdg[j] += gy[r * c + j] * xh[j] as f32;
                    rdb[j] += gy[r * c + j];
                }
            }
            for j in 0..c {
                assert!((dg[j] - rdg[j]).abs() < 1e-3 && (db[j] - rdb[j]).abs() < 1e-5);
            }
        }
    }
}
