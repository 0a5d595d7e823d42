//! Optimizer update kernels. Each rule is written once, generic over [`Lanes`], and
//! instantiated twice: per `f32` (the scalar reference) and per `F32x4` (SIMD128), so
//! the two twins compute the same operations in the same order and agree bit for bit.
//! The operation order follows torch.optim's implementations (PyTorch 1.13).
//!
//! The rules are `#[inline(never)]`: each has one caller in nabla-core, and inlined
//! there they would be compiled at that crate's size-first opt-level. Clipping, which
//! sweeps every gradient too, is here for the same reason.

use super::simd::F32x4;
use super::{mode, Mode};

/// The arithmetic the update rules need, for one value or four lanes.
pub trait Lanes: Copy {
    fn splat(x: f32) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// `self < o ? o : self`.
    fn max(self, o: Self) -> Self;
}

impl Lanes for f32 {
    fn splat(x: f32) -> Self {
        x
    }
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn sub(self, o: Self) -> Self {
        self - o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn div(self, o: Self) -> Self {
        self / o
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn max(self, o: Self) -> Self {
        if self < o {
            o
        } else {
            self
        }
    }
}

impl Lanes for F32x4 {
    fn splat(x: f32) -> Self {
        F32x4::splat(x)
    }
    fn add(self, o: Self) -> Self {
        F32x4::add(self, o)
    }
    fn sub(self, o: Self) -> Self {
        F32x4::sub(self, o)
    }
    fn mul(self, o: Self) -> Self {
        F32x4::mul(self, o)
    }
    fn div(self, o: Self) -> Self {
        F32x4::div(self, o)
    }
    fn sqrt(self) -> Self {
        F32x4::sqrt(self)
    }
    fn max(self, o: Self) -> Self {
        F32x4::max(self, o)
    }
}

/// Runs `body` over `n` positions of the slices, four lanes at a time (SIMD) or one at
/// a time (scalar): the `mut` slices are loaded into variables and stored back, the
/// read-only ones only loaded (their variables may be changed locally).
macro_rules! sweep {
    ($n:expr, mut [$($s:ident => $v:ident),*], ro [$($r:ident => $w:ident),*], $body:block) => {{
        let n = $n;
        match mode() {
            Mode::Simd => {
                let main = n - n % 4;
                let mut i = 0;
                while i < main {
                    // SAFETY: i + 4 <= n, the length of every slice (checked by the caller).
                    #[allow(unused_mut)]
                    unsafe {
                        $(let mut $v = F32x4::load($s.as_ptr().add(i));)*
                        $(let mut $w = F32x4::load($r.as_ptr().add(i));)*
                        $body
                        $(F32x4::store($v, $s.as_mut_ptr().add(i));)*
                    }
                    i += 4;
                }
                for i in main..n {
                    $(let mut $v: f32 = $s[i];)*
                    $(#[allow(unused_mut)] let mut $w: f32 = $r[i];)*
                    $body
                    $($s[i] = $v;)*
                }
            }
            Mode::Scalar => {
                for i in 0..n {
                    $(let mut $v: f32 = $s[i];)*
                    $(#[allow(unused_mut)] let mut $w: f32 = $r[i];)*
                    $body
                    $($s[i] = $v;)*
                }
            }
        }
    }};
}

fn check(n: usize, slices: &[usize]) {
    assert!(
        slices.iter().all(|&l| l == n),
        "optimizer kernel: lengths differ"
    );
}

/// SGD: g += wd·p; with momentum, buf = g on the first step, else μ·buf + (1−dampening)·g;
/// nesterov: g += μ·buf, else g = buf; p −= lr·g.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn sgd(
    p: &mut [f32],
    g: &[f32],
    buf: Option<&mut [f32]>,
    lr: f32,
    momentum: f32,
    dampening: f32,
    nesterov: bool,
    wd: f32,
    first: bool,
) {
    let n = p.len();
    check(n, &[g.len()]);
    #[inline(always)]
    fn decay<L: Lanes>(g: L, p: L, wd: f32) -> L {
        if wd != 0.0 {
            g.add(p.mul(L::splat(wd)))
        } else {
            g
        }
    }
    match buf {
        None => {
            sweep!(n, mut [p => pv], ro [g => gv], {
                gv = decay(gv, pv, wd);
                pv = pv.sub(gv.mul(Lanes::splat(lr)));
            });
        }
        Some(buf) => {
            check(n, &[buf.len()]);
            sweep!(n, mut [p => pv, buf => bv], ro [g => gv], {
                gv = decay(gv, pv, wd);
                bv = if first { gv } else { bv.mul(Lanes::splat(momentum)).add(gv.mul(Lanes::splat(1.0 - dampening))) };
                gv = if nesterov { gv.add(bv.mul(Lanes::splat(momentum))) } else { bv };
                pv = pv.sub(gv.mul(Lanes::splat(lr)));
            });
        }
    }
}

/// Adam / AdamW at step t (bias corrections bc1 = 1 − β1^t, bc2 = 1 − β2^t):
/// AdamW first decays p *= 1 − lr·wd; Adam adds wd·p to g. m = β1·m + (1−β1)·g;
/// v = β2·v + (1−β2)·g²; amsgrad keeps vmax = max(vmax, v) and uses it for v;
/// p −= (lr/bc1) · m / (√v/√bc2 + ε).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn adam(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: Option<&mut [f32]>,
    lr: f32,
    b1: f32,
    b2: f32,
    eps: f32,
    wd: f32,
    decoupled: bool,
    bc1: f32,
    bc2: f32,
) {
    let n = p.len();
    check(n, &[g.len(), m.len(), v.len()]);
    let step = lr / bc1;
    let sbc2 = bc2.sqrt();
    macro_rules! moments {
        ($pv:ident, $gv:ident, $mv:ident, $vv:ident) => {
            if wd != 0.0 {
                if decoupled {
                    $pv = $pv.mul(Lanes::splat(1.0 - lr * wd));
                } else {
                    $gv = $gv.add($pv.mul(Lanes::splat(wd)));
                }
            }
            $mv = $mv
                .mul(Lanes::splat(b1))
                .add($gv.mul(Lanes::splat(1.0 - b1)));
            $vv = $vv
                .mul(Lanes::splat(b2))
                .add($gv.mul($gv).mul(Lanes::splat(1.0 - b2)));
        };
    }
    match vmax {
        Some(vmax) => {
            check(n, &[vmax.len()]);
            sweep!(n, mut [p => pv, m => mv, v => vv, vmax => xv], ro [g => gv], {
                moments!(pv, gv, mv, vv);
                xv = xv.max(vv);
                let denom = xv.sqrt().div(Lanes::splat(sbc2)).add(Lanes::splat(eps));
                pv = pv.sub(mv.div(denom).mul(Lanes::splat(step)));
            });
        }
        None => {
            sweep!(n, mut [p => pv, m => mv, v => vv], ro [g => gv], {
                moments!(pv, gv, mv, vv);
                let denom = vv.sqrt().div(Lanes::splat(sbc2)).add(Lanes::splat(eps));
                pv = pv.sub(mv.div(denom).mul(Lanes::splat(step)));
            });
        }
    }
}

/// RMSprop (`momentum` is used only with `buf`): g += wd·p; sq = α·sq + (1−α)·g²; centered: ga = α·ga + (1−α)·g and
/// avg = √(sq − ga²) + ε, else avg = √sq + ε; momentum: buf = μ·buf + g/avg, p −= lr·buf;
/// else p −= lr·g/avg.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn rmsprop(
    p: &mut [f32],
    g: &[f32],
    sq: &mut [f32],
    gavg: Option<&mut [f32]>,
    buf: Option<&mut [f32]>,
    lr: f32,
    alpha: f32,
    eps: f32,
    wd: f32,
    momentum: f32,
) {
    let n = p.len();
    check(n, &[g.len(), sq.len()]);
    macro_rules! square_avg {
        ($pv:ident, $gv:ident, $sv:ident) => {
            if wd != 0.0 {
                $gv = $gv.add($pv.mul(Lanes::splat(wd)));
            }
            $sv = $sv
                .mul(Lanes::splat(alpha))
                .add($gv.mul($gv).mul(Lanes::splat(1.0 - alpha)));
        };
    }
    // With a momentum buffer: buf = μ·buf + g/avg, p −= lr·buf; without: p −= lr·g/avg.
    macro_rules! apply {
        ($pv:ident, $gv:ident, $avg:expr, $bv:ident) => {
            $bv = $bv.mul(Lanes::splat(momentum)).add($gv.div($avg));
            $pv = $pv.sub($bv.mul(Lanes::splat(lr)));
        };
        ($pv:ident, $gv:ident, $avg:expr) => {
            $pv = $pv.sub($gv.div($avg).mul(Lanes::splat(lr)));
        };
    }
    let bf_len = buf.as_ref().map_or(n, |b| b.len());
    check(n, &[bf_len]);
    match (gavg, buf) {
        (Some(ga), Some(bf)) => {
            check(n, &[ga.len()]);
            sweep!(n, mut [p => pv, sq => sv, ga => av, bf => bv], ro [g => gv], {
                square_avg!(pv, gv, sv);
                av = av.mul(Lanes::splat(alpha)).add(gv.mul(Lanes::splat(1.0 - alpha)));
                apply!(pv, gv, sv.sub(av.mul(av)).sqrt().add(Lanes::splat(eps)), bv);
            });
        }
        (Some(ga), None) => {
            check(n, &[ga.len()]);
            sweep!(n, mut [p => pv, sq => sv, ga => av], ro [g => gv], {
                square_avg!(pv, gv, sv);
                av = av.mul(Lanes::splat(alpha)).add(gv.mul(Lanes::splat(1.0 - alpha)));
                apply!(pv, gv, sv.sub(av.mul(av)).sqrt().add(Lanes::splat(eps)));
            });
        }
        (None, Some(bf)) => {
            sweep!(n, mut [p => pv, sq => sv, bf => bv], ro [g => gv], {
                square_avg!(pv, gv, sv);
                apply!(pv, gv, sv.sqrt().add(Lanes::splat(eps)), bv);
            });
        }
        (None, None) => {
            sweep!(n, mut [p => pv, sq => sv], ro [g => gv], {
                square_avg!(pv, gv, sv);
                apply!(pv, gv, sv.sqrt().add(Lanes::splat(eps)));
            });
        }
    }
}

/// Adagrad: g += wd·p; sum += g²; p −= clr·g/(√sum + ε), clr = lr/(1 + (t−1)·lr_decay).
#[inline(never)]
pub fn adagrad(p: &mut [f32], g: &[f32], sum: &mut [f32], clr: f32, eps: f32, wd: f32) {
    let n = p.len();
    check(n, &[g.len(), sum.len()]);
    sweep!(n, mut [p => pv, sum => sv], ro [g => gv], {
        if wd != 0.0 {
            gv = gv.add(pv.mul(Lanes::splat(wd)));
        }
        sv = sv.add(gv.mul(gv));
        pv = pv.sub(gv.div(sv.sqrt().add(Lanes::splat(eps))).mul(Lanes::splat(clr)));
    });
}

/// clipValue: each gradient value clamped to [−v, v].
#[inline(never)]
pub fn clip_values(g: &mut [f32], v: f32) {
    for x in g.iter_mut() {
        *x = x.clamp(-v, v);
    }
}

/// acc + Σx² in f64, in order: clipNorm's squared global norm, one gradient at a time.
#[inline(never)]
pub fn add_squares(acc: f64, g: &[f32]) -> f64 {
    g.iter().fold(acc, |a, &x| a + x as f64 * x as f64)
}

/// x ← x·coef in f64, rounded to f32: clipNorm's rescaling.
#[inline(never)]
pub fn scale(g: &mut [f32], coef: f64) {
    for x in g.iter_mut() {
        *x = (*x as f64 * coef) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::super::with_mode;
    use super::*;
    use proptest::prelude::*;

    fn vals(n: usize, seed: u64) -> Vec<f32> {
        let mut r = crate::rng::Rng::new(seed);
        (0..n).map(|_| r.normal()).collect()
    }

    /// Clipping's sweeps: the norm summed gradient by gradient equals the one sum over
    /// all values in order, bit for bit; clamping and scaling as written.
    #[test]
    fn clipping() {
        let grads = [vals(7, 1), vals(1, 2), vals(33, 3)];
        let flat: f64 = grads.iter().flatten().map(|&x| x as f64 * x as f64).sum();
        let by_parts = grads.iter().fold(0.0, |acc, g| add_squares(acc, g));
        assert_eq!(flat.to_bits(), by_parts.to_bits());
        let mut g = grads[2].clone();
        clip_values(&mut g, 0.5);
        assert!(g
            .iter()
            .zip(&grads[2])
            .all(|(&c, &x)| c == x.clamp(-0.5, 0.5)));
        scale(&mut g, 0.25);
        assert!(g
            .iter()
            .zip(&grads[2])
            .all(|(&c, &x)| c == (x.clamp(-0.5, 0.5) as f64 * 0.25) as f32));
    }

    /// Runs `f` in both modes on copies of the same state and requires bit-equal results.
    fn twins(n: usize, f: impl Fn(&mut [Vec<f32>])) {
        let init: Vec<Vec<f32>> = (0..5)
            .map(|s| {
                vals(n, s)
                    .iter()
                    .map(|v| v.abs() + if s > 1 { 0.1 } else { 0.0 })
                    .collect()
            })
            .collect();
        let mut a = init.clone();
        let mut b = init;
        with_mode(Mode::Scalar, || f(&mut a));
        with_mode(Mode::Simd, || f(&mut b));
        for (x, y) in a.iter().zip(&b) {
            for (u, v) in x.iter().zip(y) {
                assert_eq!(u.to_bits(), v.to_bits(), "{u} vs {v}");
            }
        }
    }

    proptest! {
        #[test]
        fn simd_equals_scalar(n in prop::sample::select(vec![0usize, 1, 3, 4, 5, 7, 15, 16, 17, 33, 100]), first: bool, nesterov: bool) {
            twins(n, |s| {
                let (p, rest) = s.split_first_mut().unwrap();
                sgd(p, &rest[0].clone(), Some(&mut rest[1]), 0.1, 0.9, 0.1, nesterov, 0.01, first);
            });
            twins(n, |s| {
                let (p, rest) = s.split_first_mut().unwrap();
                let g = rest[0].clone();
                let (m, rest) = rest[1..].split_first_mut().unwrap();
                let (v, rest) = rest.split_first_mut().unwrap();
                adam(p, &g, m, v, Some(&mut rest[0]), 1e-3, 0.9, 0.999, 1e-8, 0.01, nesterov, 0.19, 0.002);
            });
            twins(n, |s| {
                let (p, rest) = s.split_first_mut().unwrap();
                let g = rest[0].clone();
                let (sq, rest) = rest[1..].split_first_mut().unwrap();
                let (ga, rest) = rest.split_first_mut().unwrap();
                rmsprop(p, &g, sq, Some(ga), Some(&mut rest[0]), 1e-2, 0.99, 1e-8, 0.0, 0.9);
            });
            twins(n, |s| {
                let (p, rest) = s.split_first_mut().unwrap();
                let g = rest[0].clone();
                adagrad(p, &g, &mut rest[1], 0.01, 1e-10, 0.1);
            });
        }
    }

    #[test]
    fn one_sgd_step_by_hand() {
        let mut p = [1.0f32, -2.0];
        sgd(&mut p, &[0.5, 0.5], None, 0.1, 0.0, 0.0, false, 0.0, true);
        assert_eq!(p, [0.95, -2.05]);
    }
}
