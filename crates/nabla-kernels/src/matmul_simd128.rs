//! Packed, register-blocked GEMM in `F32x4`, with BLIS's loop nest: a KC×NC block of
//! B and an MC×KC block of A are packed into contiguous panels (zero-padded at the
//! edges), then a 4×8 micro-kernel sweeps them. 4×8 keeps 8 accumulators, 2 B vectors,
//! one A broadcast and one product live: 12 of the ~15 vector registers V8 gives wasm;
//! larger tiles spill and halve throughput.

use super::matmul::{check_gemm, MatRef};
use super::simd::F32x4;
use std::cell::RefCell;

const MR: usize = 4;
const NR: usize = 8;
/// Depth of a packed block: a 256×8 B micro-panel (8 KiB) stays in L1.
const KC: usize = 256;
/// Rows of A packed at once: 64×256 floats (64 KiB) stay in L2.
const MC: usize = 64;
/// Columns of B packed at once: 256×512 floats (512 KiB).
const NC: usize = 512;

thread_local! {
    // Packing panels, grown to fit and then reused: steady-state calls do not allocate.
    static PANELS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

pub fn gemm_simd128(a: MatRef, b: MatRef, c: &mut [f32], accumulate: bool) {
    let (m, k, n) = check_gemm(&a, &b, c);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    // A row-major A is read in place: four rows streamed side by side are as cache-
    // friendly as a packed panel, and skipping the copy matters when n is small (the
    // copy then costs as much as the arithmetic, e.g. im2col convolutions).
    let direct_a = a.col_stride == 1;
    PANELS.with(|panels| {
        let (pa, pb) = &mut *panels.borrow_mut();
        let need_a = if direct_a {
            0
        } else {
            MC.min(m).next_multiple_of(MR) * KC.min(k)
        };
        let need_b = NC.min(n).next_multiple_of(NR) * KC.min(k);
        if pa.len() < need_a {
            pa.resize(need_a, 0.0);
        }
        if pb.len() < need_b {
            pb.resize(need_b, 0.0);
        }
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                // Later depth blocks continue the sums already in C, in k order, so the
                // result rounds exactly as the scalar reference does.
                let load_c = accumulate || pc > 0;
                pack_b(&b, pc, kc, jc, nc, pb);
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    if !direct_a {
                        pack_a(&a, ic, mc, pc, kc, pa);
                    }
                    for jr in (0..nc).step_by(NR) {
                        let nr = NR.min(nc - jr);
                        let bp = &pb[jr * kc..(jr + NR) * kc];
                        for ir in (0..mc).step_by(MR) {
                            let mr = MR.min(mc - ir);
                            let rows = if direct_a {
                                // Rows past the edge repeat the last real row: read, never stored.
                                let row = |r: usize| {
                                    let i = ic + ir + r.min(mr - 1);
                                    a.data[i * a.row_stride + pc..][..kc].as_ptr()
                                };
                                ARows {
                                    rows: [row(0), row(1), row(2), row(3)],
                                    step: 1,
                                }
                            } else {
                                let ap = pa[ir * kc..(ir + MR) * kc].as_ptr();
                                // SAFETY: the packed strip holds kc·MR values, interleaved by row.
                                ARows {
                                    rows: unsafe { [ap, ap.add(1), ap.add(2), ap.add(3)] },
                                    step: MR,
                                }
                            };
                            let c_tile = &mut c[(ic + ir) * n + jc + jr..];
                            tile(kc, rows, bp, c_tile, n, mr, nr, load_c);
                        }
                    }
                }
            }
        }
    });
}

/// Where the micro-kernel reads A: row r's value at depth p is `*rows[r].add(p * step)`.
/// Each pointer is valid for `(kc - 1) * step + 1` reads.
#[derive(Clone, Copy)]
struct ARows {
    rows: [*const f32; MR],
    step: usize,
}

/// Packs rows `ic..ic+mc`, depth `pc..pc+kc` of A as MR-row strips, each `kc × MR`.
fn pack_a(a: &MatRef, ic: usize, mc: usize, pc: usize, kc: usize, pa: &mut [f32]) {
    for s in 0..mc.div_ceil(MR) {
        let strip = &mut pa[s * MR * kc..(s + 1) * MR * kc];
        for r in 0..MR {
            let i = s * MR + r;
            if i < mc {
                for p in 0..kc {
                    strip[p * MR + r] = a.at(ic + i, pc + p);
                }
            } else {
                for p in 0..kc {
                    strip[p * MR + r] = 0.0;
                }
            }
        }
    }
}

/// Packs depth `pc..pc+kc`, columns `jc..jc+nc` of B as NR-column strips, each `kc × NR`.
fn pack_b(b: &MatRef, pc: usize, kc: usize, jc: usize, nc: usize, pb: &mut [f32]) {
    for s in 0..nc.div_ceil(NR) {
        let strip = &mut pb[s * NR * kc..(s + 1) * NR * kc];
        let cols = NR.min(nc - s * NR);
        for p in 0..kc {
            let row = &mut strip[p * NR..(p + 1) * NR];
            for (j, x) in row.iter_mut().enumerate() {
                *x = if j < cols {
                    b.at(pc + p, jc + s * NR + j)
                } else {
                    0.0
                };
            }
        }
    }
}

/// One MR×NR tile of C at `c[0]` with row stride `ldc`; edge tiles (`mr < MR` or
/// `nr < NR`) go through a local buffer so the micro-kernel only sees full tiles.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile(
    kc: usize,
    a: ARows,
    bp: &[f32],
    c: &mut [f32],
    ldc: usize,
    mr: usize,
    nr: usize,
    load_c: bool,
) {
    debug_assert!(bp.len() >= kc * NR);
    if mr == MR && nr == NR {
        assert!(c.len() >= (MR - 1) * ldc + NR);
        // SAFETY: `a` is valid for kc steps (ARows), the B panel holds kc·NR values,
        // and C holds the whole tile.
        unsafe { micro_kernel(kc, a, bp.as_ptr(), c.as_mut_ptr(), ldc, load_c) }
    } else {
        let mut t = [0.0f32; MR * NR];
        if load_c {
            for r in 0..mr {
                t[r * NR..r * NR + nr].copy_from_slice(&c[r * ldc..r * ldc + nr]);
            }
        }
        // SAFETY: as above, with `t` as a full MR×NR tile of stride NR.
        unsafe { micro_kernel(kc, a, bp.as_ptr(), t.as_mut_ptr(), NR, true) }
        for r in 0..mr {
            c[r * ldc..r * ldc + nr].copy_from_slice(&t[r * NR..r * NR + nr]);
        }
    }
}

/// `C[4×8] (+)= A[4×kc] · Bpanel[kc×8]`, all in registers.
///
/// # Safety
/// `a` must be valid for kc steps (see `ARows`), `b` for `kc·NR` reads, `c` for a 4×8
/// tile of stride `ldc`.
#[inline(always)]
unsafe fn micro_kernel(kc: usize, a: ARows, b: *const f32, c: *mut f32, ldc: usize, load_c: bool) {
    let z = F32x4::splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21, mut c30, mut c31) = if load_c {
        (
            F32x4::load(c),
            F32x4::load(c.add(4)),
            F32x4::load(c.add(ldc)),
            F32x4::load(c.add(ldc + 4)),
            F32x4::load(c.add(2 * ldc)),
            F32x4::load(c.add(2 * ldc + 4)),
            F32x4::load(c.add(3 * ldc)),
            F32x4::load(c.add(3 * ldc + 4)),
        )
    } else {
        (z, z, z, z, z, z, z, z)
    };
    for p in 0..kc {
        let bp = b.add(p * NR);
        let b0 = F32x4::load(bp);
        let b1 = F32x4::load(bp.add(4));
        let q = p * a.step;
        let a0 = F32x4::splat(*a.rows[0].add(q));
        c00 = c00.mul_add(a0, b0);
        c01 = c01.mul_add(a0, b1);
        let a1 = F32x4::splat(*a.rows[1].add(q));
        c10 = c10.mul_add(a1, b0);
        c11 = c11.mul_add(a1, b1);
        let a2 = F32x4::splat(*a.rows[2].add(q));
        c20 = c20.mul_add(a2, b0);
        c21 = c21.mul_add(a2, b1);
        let a3 = F32x4::splat(*a.rows[3].add(q));
        c30 = c30.mul_add(a3, b0);
        c31 = c31.mul_add(a3, b1);
    }
    c00.store(c);
    c01.store(c.add(4));
    c10.store(c.add(ldc));
    c11.store(c.add(ldc + 4));
    c20.store(c.add(2 * ldc));
    c21.store(c.add(2 * ldc + 4));
    c30.store(c.add(3 * ldc));
    c31.store(c.add(3 * ldc + 4));
}

/// Runs the micro-kernel `reps` times on L1-resident panels (depth KC) and returns
/// the flops done (as f64: the count passes 2³² within a second, and usize is 32 bits on
/// wasm32): the machine's GEMM ceiling, without packing or memory traffic.
pub fn micro_kernel_peak(reps: usize) -> f64 {
    let a = [0.5f32; MR * KC];
    let b = [0.25f32; NR * KC];
    let mut c = [0.0f32; MR * NR];
    for _ in 0..reps {
        let (a, b) = (std::hint::black_box(&a), std::hint::black_box(&b));
        let ap = a.as_ptr();
        // SAFETY: the packed panels hold KC·MR and KC·NR values; `c` is a full tile of stride NR.
        unsafe {
            let rows = ARows {
                rows: [ap, ap.add(1), ap.add(2), ap.add(3)],
                step: MR,
            };
            micro_kernel(KC, rows, b.as_ptr(), c.as_mut_ptr(), NR, true)
        }
    }
    std::hint::black_box(&c);
    reps as f64 * (2 * MR * NR * KC) as f64
}
