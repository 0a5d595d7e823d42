//! The portable PRNG behind `randn`, `randUniform`, initializers and dropout:
//! xoshiro128** (Blackman & Vigna, 2018) seeded through SplitMix64. Integer arithmetic
//! and one fixed wasm binary, so a seed gives the same numbers in every runtime.
//!
//! - `uniform()`: the top 24 bits of the next u32, times 2⁻²⁴: every f32 multiple of
//!   2⁻²⁴ in [0, 1) with equal probability.
//! - `normal()`: Box–Muller in f64 from two uniforms (53-bit), rounded to f32; both
//!   values of each pair are used.

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Rng {
    s: [u32; 4],
    spare: Option<f32>,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let (a, b) = (splitmix64(&mut sm), splitmix64(&mut sm));
        let s = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        // SplitMix64 outputs are never all zero for two consecutive draws; keep the guard anyway.
        let s = if s == [0; 4] { [1, 0, 0, 0] } else { s };
        Rng { s, spare: None }
    }

    /// A seed from JavaScript: a finite integer in [0, 2⁵³].
    pub fn seed_from_f64(op: &'static str, seed: f64) -> Result<u64> {
        if seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_992.0
        {
            Ok(seed as u64)
        } else {
            Err(Error::invalid(
                op,
                "seed",
                "an integer in [0, 2^53]",
                format!("{seed}"),
            ))
        }
    }

    /// The full state (for saving a model mid-training): the four words, then whether a
    /// Box–Muller spare is pending and its bits.
    pub fn state(&self) -> [u32; 6] {
        let (has, bits) = self.spare.map_or((0, 0), |z| (1, z.to_bits()));
        [self.s[0], self.s[1], self.s[2], self.s[3], has, bits]
    }

    /// An Rng continuing exactly where `state()` was taken.
    pub fn from_state(st: [u32; 6]) -> Option<Rng> {
        let s = [st[0], st[1], st[2], st[3]];
        if s == [0; 4] || st[4] > 1 {
            return None;
        }
        Some(Rng {
            s,
            spare: (st[4] == 1).then(|| f32::from_bits(st[5])),
        })
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Dropout's mask: each value 0 with probability `rate`, else `keep`, drawing one
    /// `uniform()` per value in order. Here rather than in the layer so that the loop is
    /// built at this crate's opt-level 3.
    pub fn dropout_mask(&mut self, rate: f32, keep: f32, mask: &mut [f32]) {
        for m in mask {
            *m = if self.uniform() < rate { 0.0 } else { keep };
        }
    }

    /// Uniform in (0, 1], 53 bits, for Box–Muller's logarithm.
    fn uniform_open_f64(&mut self) -> f64 {
        let hi = (self.next_u32() >> 5) as u64; // 27 bits
        let lo = (self.next_u32() >> 6) as u64; // 26 bits
        ((hi << 26 | lo) + 1) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.uniform_open_f64();
        let u2 = self.uniform_open_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some((r * theta.sin()) as f32);
        (r * theta.cos()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_documented_first_values() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let xs: Vec<u32> = (0..8).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..8).map(|_| b.next_u32()).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            xs,
            (0..8).map(|_| Rng::new(43).next_u32()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut r = Rng::new(7);
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..n {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u as f64;
            let z = r.normal() as f64;
            sn += z;
            sn2 += z * z;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 0.005);
        assert!((sn / n).abs() < 0.01);
        assert!((sn2 / n - 1.0).abs() < 0.01);
    }

    #[test]
    fn seeds_must_be_integers_in_range() {
        assert_eq!(Rng::seed_from_f64("randn", 3.0).unwrap(), 3);
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.5, 1e17] {
            let e = Rng::seed_from_f64("randn", bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(e.arg, "seed");
        }
    }
}
