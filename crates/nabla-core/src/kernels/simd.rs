//! `F32x4`, the four-lane f32 vector the kernels are written in: WebAssembly SIMD128
//! instructions on wasm32 with `+simd128`, a plain `[f32; 4]` elsewhere, so native
//! `cargo test` runs the very same kernel code (blocking, packing, edges) lane by lane.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct F32x4(v128);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F32x4(f32x4_splat(x))
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
        pub fn mul(self, o: Self) -> Self {
            F32x4(f32x4_mul(self.0, o.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F32x4([f32; 4]);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(x: f32) -> Self {
            F32x4([x; 4])
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
            F32x4(std::array::from_fn(|i| self.0[i] + o.0[i]))
        }

        #[inline(always)]
        pub fn mul(self, o: Self) -> Self {
            F32x4(std::array::from_fn(|i| self.0[i] * o.0[i]))
        }
    }
}

pub use imp::F32x4;

impl F32x4 {
    /// `self + a * b` as two rounded operations: SIMD128 has no fused multiply-add,
    /// and keeping the rounding identical to the scalar reference keeps them bit-equal.
    #[inline(always)]
    pub fn mul_add(self, a: Self, b: Self) -> Self {
        self.add(a.mul(b))
    }
}
