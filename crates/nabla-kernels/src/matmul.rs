//! GEMM: `C = A·B` or `C += A·B` on strided operands, so `Aᵀ·B` and `A·Bᵀ` (what
//! backward passes need) are views, never materialized transposes.

pub use super::matmul_scalar::gemm_scalar;
pub use super::matmul_simd128::{gemm_simd128, micro_kernel_peak};
use super::{mode, Mode};

/// A read-only matrix view: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A contiguous row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same memory.
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// Panics unless every element the view names lies inside `data`: a kernel
    /// precondition (ops validate user shapes before they get here).
    pub(crate) fn check(&self, what: &str) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "gemm: view {what} reaches past its data"
            );
        }
    }
}

/// Checks the operand shapes shared by both GEMM variants; returns `(m, k, n)`.
pub(crate) fn check_gemm(a: &MatRef, b: &MatRef, c: &[f32]) -> (usize, usize, usize) {
    assert_eq!(a.cols, b.rows, "gemm: inner dimensions differ");
    assert_eq!(
        c.len(),
        a.rows * b.cols,
        "gemm: output has the wrong length"
    );
    a.check("a");
    b.check("b");
    (a.rows, a.cols, b.cols)
}

/// `c` (row-major `a.rows × b.cols`) `= a·b`, or `+= a·b` when `accumulate`.
pub fn gemm(a: MatRef, b: MatRef, c: &mut [f32], accumulate: bool) {
    match mode() {
        Mode::Simd => gemm_simd128(a, b, c, accumulate),
        Mode::Scalar => gemm_scalar(a, b, c, accumulate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator so the tests need no dependency.
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s as f32 / u32::MAX as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Both kernels accumulate each output in the same order (k ascending, one
    /// rounding per multiply and per add), so they agree bit for bit.
    fn assert_same(m: usize, k: usize, n: usize, ta: bool, tb: bool, accumulate: bool) {
        let a = values(m * k, (m * 31 + k) as u32);
        let b = values(k * n, (k * 17 + n) as u32);
        let av = if ta {
            MatRef::row_major(&a, k, m).t()
        } else {
            MatRef::row_major(&a, m, k)
        };
        let bv = if tb {
            MatRef::row_major(&b, n, k).t()
        } else {
            MatRef::row_major(&b, k, n)
        };
        let init = values(m * n, 7);
        let mut want = init.clone();
        let mut got = init.clone();
        gemm_scalar(av, bv, &mut want, accumulate);
        gemm_simd128(av, bv, &mut got, accumulate);
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            assert_eq!(
                w.to_bits(),
                g.to_bits(),
                "{m}x{k}·{k}x{n} ta={ta} tb={tb} acc={accumulate}: element {i}: {w} vs {g}"
            );
        }
    }

    #[test]
    fn simd_matches_scalar_on_odd_sizes() {
        let sizes = [0, 1, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 33];
        for &m in &sizes {
            for &k in &sizes {
                for &n in &sizes {
                    assert_same(m, k, n, false, false, false);
                }
            }
        }
    }

    #[test]
    fn simd_matches_scalar_on_transposed_views_and_accumulation() {
        for &(m, k, n) in &[(7, 13, 5), (17, 33, 9), (4, 8, 8), (1, 300, 3)] {
            for ta in [false, true] {
                for tb in [false, true] {
                    for acc in [false, true] {
                        assert_same(m, k, n, ta, tb, acc);
                    }
                }
            }
        }
    }

    #[test]
    fn simd_matches_scalar_across_cache_blocks() {
        // Larger than one KC × NC × MC block in every dimension, with ragged edges.
        assert_same(129, 257, 65, false, false, false);
        assert_same(70, 600, 1100, false, false, false);
        assert_same(131, 513, 37, true, false, true);
    }

    #[test]
    fn scalar_reference_is_a_plain_matrix_product() {
        // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        let mut c = [0.0; 4];
        gemm_scalar(
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 3, 2),
            &mut c,
            false,
        );
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
        gemm(
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 3, 2),
            &mut c,
            true,
        );
        assert_eq!(c, [116.0, 128.0, 278.0, 308.0]);
    }

    #[test]
    fn peak_loop_counts_its_flops() {
        assert_eq!(micro_kernel_peak(3), (3 * 2 * 4 * 8 * 256) as f64);
    }

    use proptest::prelude::*;

    fn dim() -> impl Strategy<Value = usize> {
        prop_oneof![
            prop::sample::select(vec![0usize, 1, 3, 4, 5, 7, 8, 15, 16, 17, 33]),
            1usize..80
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(120))]
        #[test]
        fn simd_equals_scalar_on_random_shapes(m in dim(), k in dim(), n in dim(), ta: bool, tb: bool, acc: bool) {
            assert_same(m, k, n, ta, tb, acc);
        }
    }
}
