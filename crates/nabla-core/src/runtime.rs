//! The tensors JavaScript holds, by numeric id, and the open gradient tape. One
//! `Runtime` lives in the wasm instance; ops run through it so the tape sees them.

use crate::autograd::{Op, Tape};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::rc::Rc;

#[derive(Default)]
pub struct Runtime {
    /// The tensors by id, in ascending order: ids only grow (until they wrap at 2^32),
    /// so an insert is a push and a lookup a binary search, with no hashing code in the
    /// .wasm. `free` leaves a `None` (JavaScript frees in any order, a GC thousands at
    /// once: removing each from the middle would be quadratic), swept out once they are
    /// the majority.
    tensors: Vec<(u32, Option<Rc<Tensor>>)>,
    live: usize,
    next_id: u32,
    bytes: usize,
    tape: Option<Tape>,
}

/// Live tensors and the bytes of their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub tensors: usize,
    pub bytes: usize,
}

impl Runtime {
    pub fn new() -> Self {
        Runtime::default()
    }

    /// Takes ownership of `t` and returns its id (never 0).
    pub fn insert(&mut self, t: Tensor) -> u32 {
        self.insert_rc(Rc::new(t))
    }

    fn insert_rc(&mut self, t: Rc<Tensor>) -> u32 {
        self.bytes += t.bytes();
        self.live += 1;
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id == 0 {
                continue;
            }
            match self.find(self.next_id) {
                // After ids wrapped: the slot of a freed id not swept yet, or one in use.
                Ok(i) if self.tensors[i].1.is_none() => self.tensors[i].1 = Some(t),
                Ok(_) => continue,
                Err(i) => self.tensors.insert(i, (self.next_id, Some(t))),
            }
            return self.next_id;
        }
    }

    /// The slot of `id` (`Err`: where it would go).
    fn find(&self, id: u32) -> std::result::Result<usize, usize> {
        self.tensors.binary_search_by_key(&id, |e| e.0)
    }

    pub fn get(&self, op: &'static str, arg: &str, id: u32) -> Result<&Rc<Tensor>> {
        self.find(id)
            .ok()
            .and_then(|i| self.tensors[i].1.as_ref())
            .ok_or_else(|| Error::disposed(op, arg))
    }

    /// Frees a tensor; freeing twice is a no-op (JavaScript may race dispose and GC).
    pub fn free(&mut self, id: u32) {
        let Ok(i) = self.find(id) else { return };
        if let Some(t) = self.tensors[i].1.take() {
            self.bytes -= t.bytes();
            self.live -= 1;
            if self.tensors.len() > 2 * self.live {
                self.tensors.retain(|e| e.1.is_some());
            }
        }
    }

    pub fn memory(&self) -> Memory {
        Memory {
            tensors: self.live,
            bytes: self.bytes,
        }
    }

    /// Applies `op` to the tensors `ids` (named `args` in errors), records it on the open
    /// tape, and returns the output's id. Nothing changes if the op fails.
    pub fn run(&mut self, op: Box<dyn Op>, ids: &[u32], args: &[&str]) -> Result<u32> {
        let mut inputs = Vec::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            inputs.push(
                self.get(op.name(), args.get(i).copied().unwrap_or("x"), id)?
                    .clone(),
            );
        }
        let refs: Vec<&Tensor> = inputs.iter().map(|t| t.as_ref()).collect();
        let output = Rc::new(op.forward(&refs)?);
        if let Some(tape) = &mut self.tape {
            tape.record(op, inputs, output.clone());
        }
        Ok(self.insert_rc(output))
    }

    /// Runs `f` on the tensors `ids` (named `args`) without recording it, and stores
    /// what it returns as new tensors.
    pub fn call(
        &mut self,
        op: &'static str,
        ids: &[u32],
        args: &[&str],
        f: impl FnOnce(&[&Tensor]) -> Result<Vec<Tensor>>,
    ) -> Result<Vec<u32>> {
        let mut inputs = Vec::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            inputs.push(
                self.get(op, args.get(i).copied().unwrap_or("x"), id)?
                    .clone(),
            );
        }
        let refs: Vec<&Tensor> = inputs.iter().map(|t| t.as_ref()).collect();
        let outputs = f(&refs)?;
        Ok(outputs.into_iter().map(|t| self.insert(t)).collect())
    }

    /// Runs `f` on the float values of `params` (mutable, updated in place; a tensor still
    /// referenced elsewhere, e.g. by a tape, is copied first) and `grads` (read-only).
    pub fn update(
        &mut self,
        op: &'static str,
        params: &[u32],
        grads: &[u32],
        f: impl FnOnce(&mut [&mut [f32]], &[&[f32]]) -> Result<()>,
    ) -> Result<()> {
        let mut grad_rcs = Vec::with_capacity(grads.len());
        for (i, &id) in grads.iter().enumerate() {
            let g = self.get(op, &format!("grads[{i}]"), id)?.clone();
            g.f32s(op, &format!("grads[{i}]"))?;
            grad_rcs.push(g);
        }
        for (i, &id) in params.iter().enumerate() {
            self.get(op, &format!("params[{i}]"), id)?
                .f32s(op, &format!("params[{i}]"))?;
            if params[..i].contains(&id) {
                return Err(Error::invalid(
                    op,
                    format!("params[{i}]"),
                    "distinct tensors",
                    "a tensor listed twice",
                ));
            }
        }
        // Taken out of their slots (which stay put) while `f` runs, and put back.
        let mut taken: Vec<(usize, Tensor)> = Vec::with_capacity(params.len());
        for &id in params {
            let i = self.find(id).expect("checked above");
            let rc = self.tensors[i].1.take().expect("checked above");
            taken.push((
                i,
                Rc::try_unwrap(rc).unwrap_or_else(|shared| (*shared).clone()),
            ));
        }
        let result = {
            let g: Vec<&[f32]> = grad_rcs.iter().map(|t| t.data()).collect();
            let mut p: Vec<&mut [f32]> = taken.iter_mut().map(|(_, t)| t.data_mut()).collect();
            f(&mut p, &g)
        };
        for (i, t) in taken {
            self.tensors[i].1 = Some(Rc::new(t));
        }
        result
    }

    /// Copies the values of `sources` into the float tensors `targets` (same shapes), in
    /// place as `update` does. `arg` names the sources in errors (`arg[i]`); nothing
    /// changes unless every pair fits.
    pub fn assign(
        &mut self,
        op: &'static str,
        arg: &str,
        targets: &[u32],
        sources: &[u32],
    ) -> Result<()> {
        if targets.len() != sources.len() {
            return Err(Error::shape(
                op,
                arg,
                format!("{} tensors", targets.len()),
                format!("{} tensors", sources.len()),
            ));
        }
        for (i, (&t, &s)) in targets.iter().zip(sources).enumerate() {
            let name = format!("{arg}[{i}]");
            let want = self.get(op, &name, t)?.shape().clone();
            let src = self.get(op, &name, s)?;
            if src.dims() != want.dims() {
                return Err(Error::shape(
                    op,
                    name,
                    format!("shape {want}"),
                    format!("shape {}", src.shape()),
                ));
            }
            src.f32s(op, &name)?;
        }
        self.update(op, targets, sources, |dst, src| {
            for (d, s) in dst.iter_mut().zip(src) {
                d.copy_from_slice(s);
            }
            Ok(())
        })
    }

    /// Opens the tape for one `grad` call and watches `ids`.
    pub fn begin_grad(&mut self, ids: &[u32]) -> Result<()> {
        if self.tape.is_some() {
            return Err(Error::state(
                "grad",
                "no gradient computation in progress (nested grad is not supported)",
                "a call from inside the function being differentiated",
            ));
        }
        let mut tape = Tape::new();
        for (i, &id) in ids.iter().enumerate() {
            tape.watch(self.get("grad", &format!("args[{i}]"), id)?.clone());
        }
        self.tape = Some(tape);
        Ok(())
    }

    /// Gradients of `sum(y)` (or of `y · dy` with a seed) for the watched tensors `xs`,
    /// as new tensor ids. Closes the tape, also on error.
    pub fn end_grad(&mut self, y: u32, dy: Option<u32>, xs: &[u32]) -> Result<Vec<u32>> {
        let tape = self
            .tape
            .take()
            .ok_or_else(|| Error::state("grad", "a gradient computation in progress", "none"))?;
        let yt = self.get("grad", "result", y)?.clone();
        if yt.dtype() != crate::tensor::DType::F32 {
            return Err(Error::dtype(
                "grad",
                "result",
                "a float32 tensor",
                "an int32 tensor",
            ));
        }
        let seed = match dy {
            Some(id) => Some(self.get("grad", "dy", id)?.clone()),
            None => None,
        };
        let mut watched = Vec::with_capacity(xs.len());
        for (i, &id) in xs.iter().enumerate() {
            watched.push(self.get("grad", &format!("args[{i}]"), id)?.clone());
        }
        let grads = tape.backward(&yt, seed.as_deref(), &watched)?;
        Ok(grads.into_iter().map(|g| self.insert(g)).collect())
    }

    /// Drops an open tape without computing gradients (the function threw).
    pub fn abort_grad(&mut self) {
        self.tape = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn t() -> Tensor {
        Tensor::full(crate::shape::Shape::new(vec![2]), 1.0)
    }

    #[test]
    fn freed_and_unknown_ids_are_disposed_and_ids_are_not_reused() {
        let mut rt = Runtime::new();
        let ids: Vec<u32> = (0..100).map(|_| rt.insert(t())).collect();
        // Free every id but the multiples of 7, in an order that sweeps several times.
        for &id in ids.iter().rev().filter(|&&id| id % 7 != 0) {
            rt.free(id);
            rt.free(id);
        }
        assert_eq!(
            rt.memory(),
            Memory {
                tensors: 14,
                bytes: 14 * 8
            }
        );
        for &id in &ids {
            assert_eq!(rt.get("x", "x", id).is_ok(), id % 7 == 0);
        }
        let e = rt.get("add", "a", 1000).unwrap_err();
        assert_eq!(e.code, Code::Disposed);
        assert_eq!(rt.insert(t()), 101);
    }

    #[test]
    fn ids_wrap_past_zero_and_live_ids() {
        let mut rt = Runtime::new();
        let one = rt.insert(t());
        rt.next_id = u32::MAX - 1;
        assert_eq!(rt.insert(t()), u32::MAX);
        assert_eq!(rt.insert(t()), 2, "skips 0 and the live id {one}");
        assert_eq!(rt.memory().tensors, 3);
        assert!(rt.get("x", "x", u32::MAX).is_ok() && rt.get("x", "x", one).is_ok());
    }
}
