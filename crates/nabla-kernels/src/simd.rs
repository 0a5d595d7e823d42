//! `F32x4` and `I32x4`, the four-lane vectors the kernels are written in: WebAssembly
//! SIMD128 instructions on wasm32 with `+simd128`, plain arrays elsewhere, so native
//! `cargo test` runs the very same kernel code (blocking, packing, edges, polynomial
//! approximations) lane by lane. Every operation has one definition of its result, the
//! wasm instruction's, and the array version computes exactly that, bit for bit.

// Method names mirror the wasm instructions (add, mul, shl...) rather than std::ops,
// whose by-value operator forms would hide which instruction each line issues.
#![allow(clippy::should_implement_trait)]

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct F32x4(v128);

    /// Four i32 lanes; also the result of comparisons (all ones where true).
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct I32x4(v128);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F32x4(f32x4_splat(x))
        }
        #[inline(always)]
        pub fn from_array(a: [f32; 4]) -> Self {
            F32x4(f32x4(a[0], a[1], a[2], a[3]))
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
        /// # Safety
        /// `p` must be valid for reading four `f32`s; no alignment is required.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> Self {
            F32x4(v128_load(p as *const v128))
        }
        /// # Safety
        /// `p` must be valid for writing four `f32`s; no alignment is required.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            F32x4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            F32x4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(f32x4_mul(self.0, o.0))
        }
        #[inline(always)]
        pub fn div(self, o: Self) -> Self {
            F32x4(f32x4_div(self.0, o.0))
        }
        /// `o < self ? o : self` per lane (wasm `pmin`): NaN in `self` is kept.
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            F32x4(f32x4_pmin(self.0, o.0))
        }
        /// `self < o ? o : self` per lane (wasm `pmax`): NaN in `self` is kept.
        #[inline(always)]
        pub fn max(self, o: Self) -> Self {
            F32x4(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        pub fn abs(self) -> Self {
            F32x4(f32x4_abs(self.0))
        }
        #[inline(always)]
        pub fn neg(self) -> Self {
            F32x4(f32x4_neg(self.0))
        }
        #[inline(always)]
        pub fn sqrt(self) -> Self {
            F32x4(f32x4_sqrt(self.0))
        }
        #[inline(always)]
        pub fn floor(self) -> Self {
            F32x4(f32x4_floor(self.0))
        }
        /// Round to nearest, ties to even.
        #[inline(always)]
        pub fn round(self) -> Self {
            F32x4(f32x4_nearest(self.0))
        }
        #[inline(always)]
        pub fn lt(self, o: Self) -> I32x4 {
            I32x4(f32x4_lt(self.0, o.0))
        }
        #[inline(always)]
        pub fn le(self, o: Self) -> I32x4 {
            I32x4(f32x4_le(self.0, o.0))
        }
        #[inline(always)]
        pub fn gt(self, o: Self) -> I32x4 {
            I32x4(f32x4_gt(self.0, o.0))
        }
        #[inline(always)]
        pub fn ge(self, o: Self) -> I32x4 {
            I32x4(f32x4_ge(self.0, o.0))
        }
        #[inline(always)]
        pub fn eq(self, o: Self) -> I32x4 {
            I32x4(f32x4_eq(self.0, o.0))
        }
        /// The lanes' bits as integers.
        #[inline(always)]
        pub fn to_bits(self) -> I32x4 {
            I32x4(self.0)
        }
        /// Truncates toward zero, saturating; NaN becomes 0.
        #[inline(always)]
        pub fn to_i32(self) -> I32x4 {
            I32x4(i32x4_trunc_sat_f32x4(self.0))
        }
    }

    impl I32x4 {
        #[inline(always)]
        pub fn splat(x: i32) -> Self {
            I32x4(i32x4_splat(x))
        }
        #[inline(always)]
        pub fn to_array(self) -> [i32; 4] {
            [
                i32x4_extract_lane::<0>(self.0),
                i32x4_extract_lane::<1>(self.0),
                i32x4_extract_lane::<2>(self.0),
                i32x4_extract_lane::<3>(self.0),
            ]
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            I32x4(i32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            I32x4(i32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn and(self, o: Self) -> Self {
            I32x4(v128_and(self.0, o.0))
        }
        #[inline(always)]
        pub fn or(self, o: Self) -> Self {
            I32x4(v128_or(self.0, o.0))
        }
        #[inline(always)]
        pub fn xor(self, o: Self) -> Self {
            I32x4(v128_xor(self.0, o.0))
        }
        /// Shift left by `n` (mod 32).
        #[inline(always)]
        pub fn shl(self, n: u32) -> Self {
            I32x4(i32x4_shl(self.0, n))
        }
        /// Arithmetic shift right by `n` (mod 32).
        #[inline(always)]
        pub fn shr(self, n: u32) -> Self {
            I32x4(i32x4_shr(self.0, n))
        }
        /// Logical shift right by `n` (mod 32).
        #[inline(always)]
        pub fn shr_logical(self, n: u32) -> Self {
            I32x4(u32x4_shr(self.0, n))
        }
        #[inline(always)]
        pub fn lt(self, o: Self) -> I32x4 {
            I32x4(i32x4_lt(self.0, o.0))
        }
        #[inline(always)]
        pub fn eq(self, o: Self) -> I32x4 {
            I32x4(i32x4_eq(self.0, o.0))
        }
        /// Reinterprets the bits as f32 lanes.
        #[inline(always)]
        pub fn to_bits_f32(self) -> F32x4 {
            F32x4(self.0)
        }
        /// Converts each lane to the nearest f32.
        #[inline(always)]
        pub fn to_f32(self) -> F32x4 {
            F32x4(f32x4_convert_i32x4(self.0))
        }
        /// Per lane, `if self { a } else { b }`; `self` must be a comparison mask.
        #[inline(always)]
        pub fn select(self, a: F32x4, b: F32x4) -> F32x4 {
            F32x4(v128_bitselect(a.0, b.0, self.0))
        }
        /// Whether any lane of a comparison mask is set.
        #[inline(always)]
        pub fn any(self) -> bool {
            v128_any_true(self.0)
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy, Debug)]
    pub struct F32x4([f32; 4]);

    #[derive(Clone, Copy, Debug)]
    pub struct I32x4([i32; 4]);

    #[inline(always)]
    fn mask(b: bool) -> i32 {
        if b {
            -1
        } else {
            0
        }
    }

    impl F32x4 {
        #[inline(always)]
        fn map(self, f: impl Fn(f32) -> f32) -> Self {
            F32x4(self.0.map(f))
        }
        #[inline(always)]
        fn zip(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
            F32x4(std::array::from_fn(|i| f(self.0[i], o.0[i])))
        }
        #[inline(always)]
        fn cmp(self, o: Self, f: impl Fn(f32, f32) -> bool) -> I32x4 {
            I32x4(std::array::from_fn(|i| mask(f(self.0[i], o.0[i]))))
        }
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F32x4([x; 4])
        }
        #[inline(always)]
        pub fn from_array(a: [f32; 4]) -> Self {
            F32x4(a)
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            self.0
        }
        /// # Safety
        /// `p` must be valid for reading four `f32`s; no alignment is required.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> Self {
            F32x4((p as *const [f32; 4]).read_unaligned())
        }
        /// # Safety
        /// `p` must be valid for writing four `f32`s; no alignment is required.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            (p as *mut [f32; 4]).write_unaligned(self.0)
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            self.zip(o, |a, b| a + b)
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            self.zip(o, |a, b| a - b)
        }
        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            self.zip(o, |a, b| a * b)
        }
        #[inline(always)]
        pub fn div(self, o: Self) -> Self {
            self.zip(o, |a, b| a / b)
        }
        /// `o < self ? o : self` per lane (wasm `pmin`): NaN in `self` is kept.
        #[inline(always)]
        pub fn min(self, o: Self) -> Self {
            self.zip(o, |a, b| if b < a { b } else { a })
        }
        /// `self < o ? o : self` per lane (wasm `pmax`): NaN in `self` is kept.
        #[inline(always)]
        pub fn max(self, o: Self) -> Self {
            self.zip(o, |a, b| if a < b { b } else { a })
        }
        #[inline(always)]
        pub fn abs(self) -> Self {
            self.map(f32::abs)
        }
        #[inline(always)]
        pub fn neg(self) -> Self {
            self.map(|a| -a)
        }
        #[inline(always)]
        pub fn sqrt(self) -> Self {
            self.map(f32::sqrt)
        }
        #[inline(always)]
        pub fn floor(self) -> Self {
            self.map(f32::floor)
        }
        /// Round to nearest, ties to even.
        #[inline(always)]
        pub fn round(self) -> Self {
            self.map(f32::round_ties_even)
        }
        #[inline(always)]
        pub fn lt(self, o: Self) -> I32x4 {
            self.cmp(o, |a, b| a < b)
        }
        #[inline(always)]
        pub fn le(self, o: Self) -> I32x4 {
            self.cmp(o, |a, b| a <= b)
        }
        #[inline(always)]
        pub fn gt(self, o: Self) -> I32x4 {
            self.cmp(o, |a, b| a > b)
        }
        #[inline(always)]
        pub fn ge(self, o: Self) -> I32x4 {
            self.cmp(o, |a, b| a >= b)
        }
        #[inline(always)]
        pub fn eq(self, o: Self) -> I32x4 {
            self.cmp(o, |a, b| a == b)
        }
        /// The lanes' bits as integers.
        #[inline(always)]
        pub fn to_bits(self) -> I32x4 {
            I32x4(self.0.map(|a| a.to_bits() as i32))
        }
        /// Truncates toward zero, saturating; NaN becomes 0 (as Rust's `as` does).
        #[inline(always)]
        pub fn to_i32(self) -> I32x4 {
            I32x4(self.0.map(|a| a as i32))
        }
    }

    impl I32x4 {
        #[inline(always)]
        fn zip(self, o: Self, f: impl Fn(i32, i32) -> i32) -> Self {
            I32x4(std::array::from_fn(|i| f(self.0[i], o.0[i])))
        }
        #[inline(always)]
        pub fn splat(x: i32) -> Self {
            I32x4([x; 4])
        }
        #[inline(always)]
        pub fn to_array(self) -> [i32; 4] {
            self.0
        }
        #[inline(always)]
        pub fn add(self, o: Self) -> Self {
            self.zip(o, i32::wrapping_add)
        }
        #[inline(always)]
        pub fn sub(self, o: Self) -> Self {
            self.zip(o, i32::wrapping_sub)
        }
        #[inline(always)]
        pub fn and(self, o: Self) -> Self {
            self.zip(o, |a, b| a & b)
        }
        #[inline(always)]
        pub fn or(self, o: Self) -> Self {
            self.zip(o, |a, b| a | b)
        }
        #[inline(always)]
        pub fn xor(self, o: Self) -> Self {
            self.zip(o, |a, b| a ^ b)
        }
        /// Shift left by `n` (mod 32).
        #[inline(always)]
        pub fn shl(self, n: u32) -> Self {
            I32x4(self.0.map(|a| a.wrapping_shl(n)))
        }
        /// Arithmetic shift right by `n` (mod 32).
        #[inline(always)]
        pub fn shr(self, n: u32) -> Self {
            I32x4(self.0.map(|a| a.wrapping_shr(n)))
        }
        /// Logical shift right by `n` (mod 32).
        #[inline(always)]
        pub fn shr_logical(self, n: u32) -> Self {
            I32x4(self.0.map(|a| (a as u32).wrapping_shr(n) as i32))
        }
        #[inline(always)]
        pub fn lt(self, o: Self) -> I32x4 {
            self.zip(o, |a, b| mask(a < b))
        }
        #[inline(always)]
        pub fn eq(self, o: Self) -> I32x4 {
            self.zip(o, |a, b| mask(a == b))
        }
        /// Reinterprets the bits as f32 lanes.
        #[inline(always)]
        pub fn to_bits_f32(self) -> F32x4 {
            F32x4(self.0.map(|a| f32::from_bits(a as u32)))
        }
        /// Converts each lane to the nearest f32.
        #[inline(always)]
        pub fn to_f32(self) -> F32x4 {
            F32x4(self.0.map(|a| a as f32))
        }
        /// Per lane, `if self { a } else { b }`; `self` must be a comparison mask.
        #[inline(always)]
        pub fn select(self, a: F32x4, b: F32x4) -> F32x4 {
            let (a, b) = (a.to_bits().0, b.to_bits().0);
            I32x4(std::array::from_fn(|i| {
                (a[i] & self.0[i]) | (b[i] & !self.0[i])
            }))
            .to_bits_f32()
        }
        /// Whether any lane of a comparison mask is set.
        #[inline(always)]
        pub fn any(self) -> bool {
            self.0.iter().any(|&m| m != 0)
        }
    }
}

pub use imp::{F32x4, I32x4};

impl F32x4 {
    /// `self + a * b` as two rounded operations: SIMD128 has no fused multiply-add,
    /// and keeping the rounding identical to the scalar reference keeps them bit-equal.
    #[inline(always)]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        self.add(a.mul(b))
    }

    /// The sum of the four lanes, as `(l0 + l2) + (l1 + l3)`.
    #[inline(always)]
    pub fn sum(self) -> f32 {
        let a = self.to_array();
        (a[0] + a[2]) + (a[1] + a[3])
    }

    /// The largest lane (NaN-propagating like `max` from lane 0).
    #[inline(always)]
    pub fn max_lane(self) -> f32 {
        let a = self.to_array();
        let m = |x: f32, y: f32| if x < y { y } else { x };
        m(m(a[0], a[2]), m(a[1], a[3]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_behave_like_the_wasm_instructions() {
        let a = F32x4::from_array([1.0, -2.0, f32::NAN, 0.5]);
        let b = F32x4::from_array([2.0, -3.0, 1.0, f32::NAN]);
        let mx = a.max(b).to_array();
        assert_eq!(&mx[..2], &[2.0, -2.0]);
        assert!(mx[2].is_nan()); // pmax keeps NaN from the first operand
        assert_eq!(mx[3], 0.5); // and ignores NaN in the second
        assert_eq!(
            F32x4::from_array([2.5, -2.5, 3.5, -0.4]).round().to_array(),
            [2.0, -2.0, 4.0, -0.0]
        );
        assert_eq!(
            F32x4::from_array([1e10, -1e10, f32::NAN, -2.7])
                .to_i32()
                .to_array(),
            [i32::MAX, i32::MIN, 0, -2]
        );
        let m = a.lt(b);
        assert_eq!(m.to_array(), [-1, 0, 0, 0]);
        assert_eq!(m.select(a, b).to_array()[..2], [1.0, -3.0]);
        assert_eq!(I32x4::splat(-8).shr(1).to_array(), [-4; 4]);
        assert_eq!(I32x4::splat(-8).shr_logical(28).to_array(), [15; 4]);
        assert_eq!(F32x4::from_array([1.0, 2.0, 3.0, 4.0]).sum(), 10.0);
        assert_eq!(F32x4::from_array([1.0, 7.0, 3.0, 4.0]).max_lane(), 7.0);
    }
}
