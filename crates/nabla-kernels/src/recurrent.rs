//! LSTM and GRU cell arithmetic: the elementwise steps between the GEMMs and the gate
//! activations, on one batch row of gate blocks, each `h` wide (LSTM [i, f, g, o], GRU
//! [r, z, n]). Plain loops, which the compiler vectorizes: this crate is built at
//! opt-level 3, the layer in nabla-core for size. Each loop evaluates exactly the
//! expression in its comment, so results do not depend on where it runs.

/// Forward LSTM state: c' = f⊙c + i⊙g, from the activated gates `a` = [i, f, g, o].
pub fn lstm_state(a: &[f32], c_prev: &[f32], c_new: &mut [f32]) {
    let h = c_new.len();
    let (i, f, g, c_prev) = (&a[..h], &a[h..2 * h], &a[2 * h..3 * h], &c_prev[..h]);
    for j in 0..h {
        c_new[j] = f[j] * c_prev[j] + i[j] * g[j];
    }
}

/// out = o⊙x per row, `o` the output gate of the rows of `a` ([rows, 4h]); `x` and
/// `out` are [rows, h]. Forward h' = o⊙act(c'); backward dh⊙o.
pub fn lstm_times_output_gate(a: &[f32], x: &[f32], out: &mut [f32], h: usize) {
    if h == 0 {
        return;
    }
    let rows = out.chunks_exact_mut(h).zip(x.chunks_exact(h));
    for ((out, x), a) in rows.zip(a.chunks_exact(4 * h)) {
        for ((o, &xv), &ov) in out.iter_mut().zip(x).zip(&a[3 * h..]) {
            *o = ov * xv;
        }
    }
}

/// Backward LSTM gates of one row. With dc̃ = dc + t2 (t2 = act'(c')·(dh⊙o)):
/// da = [dc̃⊙g, dc̃⊙c, dc̃⊙i, dh⊙act(c')] and the carried dc ← dc̃⊙f.
pub fn lstm_backward(
    a: &[f32],
    c_prev: &[f32],
    ac: &[f32],
    dh: &[f32],
    t2: &[f32],
    dc: &mut [f32],
    da: &mut [f32],
) {
    let h = dc.len();
    let (a, da) = (&a[..4 * h], &mut da[..4 * h]);
    let (c_prev, ac, dh, t2) = (&c_prev[..h], &ac[..h], &dh[..h], &t2[..h]);
    for j in 0..h {
        let dct = dc[j] + t2[j];
        da[j] = dct * a[2 * h + j];
        da[h + j] = dct * c_prev[j];
        da[2 * h + j] = dct * a[j];
        da[3 * h + j] = dh[j] * ac[j];
        dc[j] = dct * a[h + j];
    }
}

/// Forward GRU candidate pre-activation: p_n += r⊙(U_n·h + b_hn), with `hu_n` that
/// recurrent term.
pub fn gru_candidate(p_n: &mut [f32], r: &[f32], hu_n: &[f32]) {
    for ((p, &rv), &u) in p_n.iter_mut().zip(r).zip(hu_n) {
        *p += rv * u;
    }
}

/// Forward GRU output: h' = n + z⊙(h − n).
pub fn gru_output(z: &[f32], n: &[f32], h_prev: &[f32], h_new: &mut [f32]) {
    let k = h_new.len();
    let (z, n, h_prev) = (&z[..k], &n[..k], &h_prev[..k]);
    for j in 0..k {
        h_new[j] = n[j] + z[j] * (h_prev[j] - n[j]);
    }
}

/// Backward GRU output of one row, into the gate gradients `da` (before the
/// activations): da_n = dh⊙(1 − z), da_z = dh⊙(h − n); `a` = [r, z, n] activated.
pub fn gru_backward_output(a: &[f32], dh: &[f32], h_prev: &[f32], da: &mut [f32]) {
    let h = dh.len();
    let (a, da, h_prev) = (&a[..3 * h], &mut da[..3 * h], &h_prev[..h]);
    for j in 0..h {
        let (z, nv) = (a[h + j], a[2 * h + j]);
        da[2 * h + j] = dh[j] * (1.0 - z);
        da[h + j] = dh[j] * (h_prev[j] - nv);
    }
}

/// Backward GRU candidate of one row, from dg_n (the gradient of the candidate's
/// pre-activation): da_r = dg_n⊙hu_n and the recurrent term's gradient dgh_n = dg_n⊙r.
pub fn gru_backward_candidate(
    dg_n: &[f32],
    hu_n: &[f32],
    r: &[f32],
    da_r: &mut [f32],
    dgh_n: &mut [f32],
) {
    let h = dg_n.len();
    let (hu_n, r, da_r, dgh_n) = (&hu_n[..h], &r[..h], &mut da_r[..h], &mut dgh_n[..h]);
    for j in 0..h {
        da_r[j] = dg_n[j] * hu_n[j];
        dgh_n[j] = dg_n[j] * r[j];
    }
}

/// acc += x⊙y (GRU: dh_{t−1} += dh⊙z).
pub fn add_product(acc: &mut [f32], x: &[f32], y: &[f32]) {
    for ((s, &xv), &yv) in acc.iter_mut().zip(x).zip(y) {
        *s += xv * yv;
    }
}
