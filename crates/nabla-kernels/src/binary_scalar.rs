//! Reference span kernel for binary ops: one `Binary::apply` per element.

use super::binary::{Binary, Span};

pub fn span_scalar(op: Binary, a: Span, b: Span, out: &mut [f32]) {
    let n = out.len();
    let at = |s: &Span, i: usize| match s {
        Span::Slice(x) => x[i],
        Span::Splat(v) => *v,
    };
    for i in 0..n {
        out[i] = op.apply(at(&a, i), at(&b, i));
    }
}
