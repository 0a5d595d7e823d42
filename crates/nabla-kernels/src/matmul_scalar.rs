//! The GEMM reference: one dot product per output, k ascending. Slow and obviously right.

use super::matmul::{check_gemm, MatRef};

pub fn gemm_scalar(a: MatRef, b: MatRef, c: &mut [f32], accumulate: bool) {
    let (m, k, n) = check_gemm(&a, &b, c);
    for i in 0..m {
        for j in 0..n {
            let mut s = if accumulate { c[i * n + j] } else { 0.0 };
            for p in 0..k {
                s += a.at(i, p) * b.at(p, j);
            }
            c[i * n + j] = s;
        }
    }
}
