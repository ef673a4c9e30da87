//! `rnn(x, kernel, recurrent_kernel, bias, initial states, mask, recurrent mask, spec)`: a whole
//! LSTM, GRU or SimpleRNN sequence in one call, with Keras's weight layouts (gate order i, f, c, o
//! for LSTM and z, r, h for GRU) and masking rules (a masked step carries the states over and
//! outputs the previous output, or zeros with `zero_output_for_mask`).
//!
//! The batch runs as two slices in parallel (rows of a recurrent network are independent), each
//! a whole recurrence on one thread. Forward, per slice: the input projection of every timestep
//! is one gemm (x·W); then per step one small gemm for the recurrent projection h·U and one
//! fused gate pass over the rows (adding the biases) that also keeps what backward needs.
//! Backward (one node), per slice: the steps in reverse with the fused gate backward and one
//! small gemm per step for dh·Uᵀ, then the slice's share of the weight gradients as large gemms
//! over all its timesteps (dW = xᵀ·dZ, dU = hᵀ·dZ); the shares are summed in slice order, and
//! dx = dZ·Wᵀ is one gemm over the whole batch.
//!
//! The result is one tensor (batch, timesteps + states, units): the per-step outputs in
//! processing order (reversed input order with `go_backwards`, as Keras), then the final h (and
//! c for LSTM). Callers slice it; the tape then carries the gradients of every part.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::gemm::{gemm, Mat};
use crate::kernels::transpose::transposed;
use crate::kernels::math;
use crate::multiversion;
use crate::ops::common::{grad_if, promote_float};
use crate::runtime::par_ranges;
use crate::tensor::{uninit_vec, DType, Float, Tensor};
use crate::{shape_err, value_err};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Lstm,
    Gru { reset_after: bool },
    Simple,
}

impl CellKind {
    /// Gates per unit: the width of W and U is `gates · units`.
    fn gates(self) -> usize {
        match self {
            CellKind::Lstm => 4,
            CellKind::Gru { .. } => 3,
            CellKind::Simple => 1,
        }
    }
    fn states(self) -> usize {
        if self == CellKind::Lstm {
            2
        } else {
            1
        }
    }
}

/// Activations the fused cells apply; each derivative is a function of the output alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellActivation {
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    HardSigmoid,
}

impl CellActivation {
    pub fn parse(name: &str) -> Option<CellActivation> {
        Some(match name {
            "linear" => CellActivation::Linear,
            "relu" => CellActivation::Relu,
            "sigmoid" => CellActivation::Sigmoid,
            "tanh" => CellActivation::Tanh,
            "hard_sigmoid" => CellActivation::HardSigmoid,
            _ => return None,
        })
    }

    /// f'(x) written with y = f(x).
    #[inline(always)]
    fn grad_from_output<T: Float>(self, y: T) -> T {
        match self {
            CellActivation::Linear => T::one(),
            CellActivation::Relu => {
                if y > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            CellActivation::Sigmoid => y * (T::one() - y),
            CellActivation::Tanh => T::one() - y * y,
            CellActivation::HardSigmoid => {
                if y > T::zero() && y < T::one() {
                    T::c(1.0 / 6.0)
                } else {
                    T::zero()
                }
            }
        }
    }
}

multiversion! {
    /// v ← f(v) over a slice.
    fn activate[T: Float](act: CellActivation, v: &mut [T]) {
        activate_in_place(act, v)
    }
}

multiversion! {
    /// out = (x + bias) + y: an input projection, its bias and a recurrent projection.
    fn add_into[T: Float](x: &[T], bias: &[T], y: &[T], out: &mut [T]) {
        for (((o, &xv), &bv), &yv) in out.iter_mut().zip(x).zip(bias).zip(y) {
            *o = (xv + bv) + yv;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnSpec {
    pub cell: CellKind,
    pub activation: CellActivation,
    pub recurrent_activation: CellActivation,
    pub go_backwards: bool,
    pub zero_output_for_mask: bool,
}

#[allow(clippy::too_many_arguments)]
pub fn rnn(
    x: &Tensor,
    kernel: &Tensor,
    recurrent_kernel: &Tensor,
    bias: Option<&Tensor>,
    initial_h: &Tensor,
    initial_c: Option<&Tensor>,
    mask: Option<&Tensor>,
    recurrent_mask: Option<&Tensor>,
    spec: RnnSpec,
) -> Result<Tensor> {
    let op = match spec.cell {
        CellKind::Lstm => "lstm",
        CellKind::Gru { .. } => "gru",
        CellKind::Simple => "simple_rnn",
    };
    if x.ndim() != 3 {
        return value_err!(op, "expected a 3-D input (batch, timesteps, features), received shape {:?}", x.shape());
    }
    let (b, t, d) = (x.shape()[0], x.shape()[1], x.shape()[2]);
    let g = spec.cell.gates();
    if kernel.ndim() != 2 || kernel.shape()[0] != d || kernel.shape()[1] % g != 0 {
        return shape_err!(op, "the kernel must have shape ({d}, {g}·units) for inputs with {d} features, received {:?}", kernel.shape());
    }
    let u = kernel.shape()[1] / g;
    if recurrent_kernel.shape() != [u, g * u] {
        return shape_err!(op, "the recurrent kernel must have shape ({u}, {}), received {:?}", g * u, recurrent_kernel.shape());
    }
    let bias_shape: Vec<usize> = if spec.cell == (CellKind::Gru { reset_after: true }) { vec![2, g * u] } else { vec![g * u] };
    if let Some(bias) = bias {
        if bias.shape() != bias_shape.as_slice() {
            return shape_err!(op, "the bias must have shape {bias_shape:?}, received {:?}", bias.shape());
        }
    }
    if initial_h.shape() != [b, u] {
        return shape_err!(op, "the initial state must have shape ({b}, {u}), received {:?}", initial_h.shape());
    }
    match (spec.cell, initial_c) {
        (CellKind::Lstm, Some(c)) if c.shape() != [b, u] => return shape_err!(op, "the initial cell state must have shape ({b}, {u}), received {:?}", c.shape()),
        (CellKind::Lstm, None) => return value_err!(op, "an LSTM needs an initial cell state"),
        (CellKind::Lstm, _) | (_, None) => {}
        (_, Some(_)) => return value_err!(op, "only an LSTM takes an initial cell state"),
    }
    if let Some(m) = mask {
        if m.shape() != [b, t] {
            return shape_err!(op, "the mask must have shape (batch, timesteps) = ({b}, {t}), received {:?}", m.shape());
        }
    }
    if let Some(m) = recurrent_mask {
        if m.shape() != [b, u] {
            return shape_err!(op, "the recurrent dropout mask must have shape ({b}, {u}), received {:?}", m.shape());
        }
    }
    let (x, kernel) = promote_float(x, kernel)?;
    let dtype = x.dtype();
    let cast = |t: &Tensor| crate::ops::cast(t, dtype);
    let recurrent_kernel = cast(recurrent_kernel)?;
    let bias = bias.map(cast).transpose()?;
    let h0 = cast(initial_h)?;
    let c0 = initial_c.map(cast).transpose()?;
    let keep: Option<Vec<bool>> = match mask {
        Some(m) => Some(crate::ops::cast(m, DType::F64)?.to_vec::<f64>()?.iter().map(|&v| v != 0.0).collect()),
        None => None,
    };
    let rmask = recurrent_mask.map(cast).transpose()?;
    let dims = Dims { b, t, d, u, g };

    let (out, saved) = crate::dispatch_float!(dtype, op, |T| {
        let fwd = Forward::<T> {
            dims,
            spec,
            x: &x.data::<T>()?,
            w: &kernel.data::<T>()?,
            rk: &recurrent_kernel.data::<T>()?,
            bias: bias.as_ref().map(|t| t.to_vec::<T>()).transpose()?,
            zero_bias: if bias.is_some() { Vec::new() } else { vec![T::default(); g * u] },
            rmask: rmask.as_ref().map(|t| t.to_vec::<T>()).transpose()?,
            keep: keep.as_deref(),
        };
        let (y, saved) = fwd.run(&h0.to_vec::<T>()?, c0.as_ref().map(|c| c.to_vec::<T>()).transpose()?.as_deref());
        (Tensor::from_vec(y, &[b, t + spec.cell.states(), u])?, saved.into_tensors()?)
    });
    let mut inputs = vec![&x, &kernel, &recurrent_kernel];
    let has_bias = bias.is_some();
    if let Some(bias) = &bias {
        inputs.push(bias);
    }
    inputs.push(&h0);
    if let Some(c0) = &c0 {
        inputs.push(c0);
    }
    record(&inputs, &out, || {
        Arc::new(RnnBackward { dims, spec, has_bias, x: x.clone(), kernel: kernel.clone(), recurrent_kernel: recurrent_kernel.clone(), rmask: rmask.clone(), keep, saved })
    });
    Ok(out)
}

#[derive(Clone, Copy, Debug)]
struct Dims {
    b: usize,
    t: usize,
    d: usize,
    u: usize,
    g: usize,
}

impl Dims {
    /// Input timestep processed at step `s`.
    fn t_in(&self, s: usize, backwards: bool) -> usize {
        if backwards {
            self.t - 1 - s
        } else {
            s
        }
    }
}

/// What backward needs, one row per (batch, input timestep) at row b·T + t.
struct Saved<T> {
    /// Post-activation gates: LSTM [i, f, g, o], GRU [z, r, hh], SimpleRNN [h].
    gates: Vec<T>,
    /// The state h before the step (recurrent mask not applied).
    hprev: Vec<T>,
    /// LSTM: c before the step, and act(c) after it.
    cprev: Vec<T>,
    cact: Vec<T>,
    /// GRU: reset_after → the recurrent h-part h·U_h + b_h; otherwise r·h (the input of U_h).
    extra: Vec<T>,
}

/// The saved buffers as tensors (so the backward node holds them type-erased).
struct SavedTensors {
    gates: Tensor,
    hprev: Tensor,
    cprev: Tensor,
    cact: Tensor,
    extra: Tensor,
}

impl<T: Float> Saved<T> {
    fn into_tensors(self) -> Result<SavedTensors> {
        let t = |v: Vec<T>| {
            let n = v.len();
            Tensor::from_vec(v, &[n])
        };
        Ok(SavedTensors { gates: t(self.gates)?, hprev: t(self.hprev)?, cprev: t(self.cprev)?, cact: t(self.cact)?, extra: t(self.extra)? })
    }
}

struct Forward<'a, T> {
    dims: Dims,
    spec: RnnSpec,
    x: &'a [T],
    w: &'a [T],
    rk: &'a [T],
    bias: Option<Vec<T>>,
    /// Stands in for the input bias when there is none.
    zero_bias: Vec<T>,
    rmask: Option<Vec<T>>,
    keep: Option<&'a [bool]>,
}

/// The batch slices that run their whole recurrence as one task: two halves (rows of a
/// recurrent network are independent), fixed by the batch size alone so any thread count gives
/// the same result. Each task runs its per-step gemms single-threaded: no synchronization
/// between threads at every timestep.
fn batch_slices(b: usize) -> Vec<std::ops::Range<usize>> {
    let rows = if b >= 16 { b.div_ceil(2).div_ceil(8) * 8 } else { b.max(1) };
    (0..b).step_by(rows).map(|s| s..(s + rows).min(b)).collect()
}

/// Cut the first `n` elements off `rest`.
fn split_off<'a, T>(rest: &mut &'a mut [T], n: usize) -> &'a mut [T] {
    let (head, tail) = std::mem::take(rest).split_at_mut(n);
    *rest = tail;
    head
}

/// One batch slice's share of the forward outputs and saved buffers (all batch-major, so a
/// slice of rows is one contiguous range of each).
struct SliceBufs<'a, T> {
    out: &'a mut [T],
    gates: &'a mut [T],
    hprev: &'a mut [T],
    cprev: &'a mut [T],
    cact: &'a mut [T],
    extra: &'a mut [T],
}

impl<T: Float> Forward<'_, T> {
    fn run(&self, h0: &[T], c0: Option<&[T]>) -> (Vec<T>, Saved<T>) {
        let Dims { b, t, d, u, g } = self.dims;
        let gu = g * u;
        let cell = self.spec.cell;
        let states = cell.states();
        let lstm = cell == CellKind::Lstm;
        let per_row = |on: bool| if on { t * u } else { 0 };
        let mut saved = Saved {
            gates: uninit_vec::<T>(b * t * gu),
            hprev: uninit_vec::<T>(b * t * u),
            cprev: uninit_vec::<T>(b * per_row(lstm)),
            cact: vec![T::zero(); b * per_row(lstm)],
            extra: vec![T::zero(); b * per_row(matches!(cell, CellKind::Gru { .. }))],
        };
        let mut out = vec![T::zero(); b * (t + states) * u];
        let slices = batch_slices(b);
        let mut tasks = Vec::with_capacity(slices.len());
        {
            let (mut o, mut ga, mut hp) = (&mut out[..], &mut saved.gates[..], &mut saved.hprev[..]);
            let (mut cp, mut ca, mut ex) = (&mut saved.cprev[..], &mut saved.cact[..], &mut saved.extra[..]);
            for r in &slices {
                let nb = r.len();
                tasks.push(std::sync::Mutex::new(Some(SliceBufs {
                    out: split_off(&mut o, nb * (t + states) * u),
                    gates: split_off(&mut ga, nb * t * gu),
                    hprev: split_off(&mut hp, nb * t * u),
                    cprev: split_off(&mut cp, nb * per_row(lstm)),
                    cact: split_off(&mut ca, nb * per_row(lstm)),
                    extra: split_off(&mut ex, nb * per_row(matches!(cell, CellKind::Gru { .. }))),
                })));
            }
        }
        par_ranges(slices.len(), 1, |i| {
            let r = slices[i.start].clone();
            let bufs = tasks[i.start].lock().unwrap_or_else(|e| e.into_inner()).take().expect("each slice runs once");
            let c0 = c0.map(|c| &c[r.start * u..r.end * u]);
            // The input projections of all the slice's timesteps, as one gemm (on the pool only
            // when this is the only slice); the gate kernels add the input bias as they read them.
            let n = r.len() * t;
            let mut xw = uninit_vec::<T>(n * gu);
            gemm(n, gu, d, Mat::row_major(&self.x[r.start * t * d..r.end * t * d], 0, d), Mat::row_major(self.w, 0, gu), &mut xw, 0, gu, false, true);
            self.recur(r.clone(), &xw, &h0[r.start * u..r.end * u], c0, bufs);
        });
        (out, saved)
    }

    /// The input bias (zeros without a bias).
    fn bias_in(&self) -> &[T] {
        let gu = self.dims.g * self.dims.u;
        &self.bias.as_deref().unwrap_or(&self.zero_bias)[..gu]
    }

    /// The recurrent bias GRU with reset_after adds to h·U.
    fn bias_rec(&self) -> Option<&[T]> {
        let gu = self.dims.g * self.dims.u;
        match self.spec.cell {
            CellKind::Gru { reset_after: true } => self.bias.as_deref().map(|b| &b[gu..]),
            _ => None,
        }
    }

    /// A masked step of one row (its states `h`, and `c` for LSTM, carry over): saves them as the
    /// step's inputs (rows `rr` of the saved buffers) and, unless masked steps output zeros,
    /// outputs the carried h (at `o`).
    fn carry_masked_row(&self, bufs: &mut SliceBufs<'_, T>, h: &[T], c: &[T], rr: std::ops::Range<usize>, o: usize) {
        bufs.hprev[rr.clone()].copy_from_slice(h);
        if !c.is_empty() {
            bufs.cprev[rr].copy_from_slice(c);
        }
        if !self.spec.zero_output_for_mask {
            bufs.out[o..o + h.len()].copy_from_slice(h);
        }
    }

    /// The whole recurrence of batch rows `rows` (`xw`, `h0`, `c0` and `bufs` are their slices).
    /// Gates are computed straight into the saved buffer (the rows of masked steps too: backward
    /// never reads those), and each kept row's state update is one fused pass that also saves
    /// what backward needs and writes the step's output.
    fn recur(&self, rows: std::ops::Range<usize>, xw: &[T], h0: &[T], c0: Option<&[T]>, mut bufs: SliceBufs<'_, T>) {
        let Dims { t, u, g, .. } = self.dims;
        let b = rows.len();
        let gu = g * u;
        let cell = self.spec.cell;
        let states = cell.states();
        let (act, ract) = (self.spec.activation, self.spec.recurrent_activation);
        let lstm = cell == CellKind::Lstm;
        let gru_plain = cell == (CellKind::Gru { reset_after: false });
        let keep = self.keep.map(|k| &k[rows.start * t..rows.end * t]);
        let rmask = self.rmask.as_deref().map(|m| &m[rows.start * u..rows.end * u]);
        let mut h = h0.to_vec();
        let mut c = c0.map_or_else(Vec::new, |c| c.to_vec());
        // Per-step scratch: masked h, recurrent projections, GRU-plain's r⊙h and its projection.
        let mut hm = vec![T::zero(); if rmask.is_some() { b * u } else { 0 }];
        let mut hu = vec![T::zero(); b * gu];
        let mut rh = vec![T::zero(); if gru_plain { b * u } else { 0 }];
        let mut hh_lin = vec![T::zero(); if gru_plain { b * u } else { 0 }];
        let bias = self.bias_in();
        let defaults = (act, ract) == (CellActivation::Tanh, CellActivation::Sigmoid);
        let fused_rows = defaults && (lstm || cell == (CellKind::Gru { reset_after: true }));
        for s in 0..t {
            let ti = self.dims.t_in(s, self.spec.go_backwards);
            // Recurrent projection (h ⊙ recurrent mask)·U (+ the recurrent bias); GRU without
            // reset_after projects only z and r here (its h-part needs r first).
            let hin: &[T] = match rmask {
                Some(m) => {
                    hm.iter_mut().zip(h.iter().zip(m)).for_each(|(o, (&hv, &mv))| *o = hv * mv);
                    &hm
                }
                None => &h,
            };
            let cols = if gru_plain { 2 * u } else { gu };
            gemm(b, cols, u, Mat::row_major(hin, 0, u), Mat::row_major(self.rk, 0, gu), &mut hu, 0, gu, false, false);
            if let Some(bias) = self.bias_rec() {
                for row in hu.chunks_mut(gu) {
                    row.iter_mut().zip(bias).for_each(|(v, &bv)| *v += bv);
                }
            }
            if fused_rows {
                // Keras's default activations: gates and state update of a row in one pass.
                for bi in 0..b {
                    let row = bi * t + ti;
                    let o = (bi * (t + states) + s) * u;
                    let (hr, rr) = (bi * u..(bi + 1) * u, row * u..(row + 1) * u);
                    if !keep.is_none_or(|k| k[row]) {
                        self.carry_masked_row(&mut bufs, &h[hr.clone()], if lstm { &c[hr] } else { &[] }, rr, o);
                        continue;
                    }
                    let (xr, hur, gr) = (&xw[row * gu..(row + 1) * gu], &hu[bi * gu..(bi + 1) * gu], &mut bufs.gates[row * gu..(row + 1) * gu]);
                    if lstm {
                        let state = LstmRowState { c: &mut c[hr.clone()], h: &mut h[hr], c_saved: &mut bufs.cprev[rr.clone()], h_saved: &mut bufs.hprev[rr.clone()], a_saved: &mut bufs.cact[rr], out: &mut bufs.out[o..o + u] };
                        lstm_row_tanh_sigmoid(xr, bias, hur, gr, state);
                    } else {
                        gru_row_tanh_sigmoid(xr, bias, hur, gr, &mut h[hr], &mut bufs.hprev[rr.clone()], &mut bufs.extra[rr], &mut bufs.out[o..o + u]);
                    }
                }
                continue;
            }
            // Gates of every row, into the saved buffer.
            for bi in 0..b {
                let row = bi * t + ti;
                let xr = &xw[row * gu..(row + 1) * gu];
                let hr = &hu[bi * gu..(bi + 1) * gu];
                let gr = &mut bufs.gates[row * gu..(row + 1) * gu];
                match cell {
                    CellKind::Lstm => lstm_gates(xr, bias, hr, gr, act, ract),
                    CellKind::Gru { reset_after } => gru_gates(xr, bias, hr, gr, reset_after, act, ract),
                    CellKind::Simple => {
                        add_into(xr, bias, hr, gr);
                        activate(act, gr);
                    }
                }
            }
            if gru_plain {
                // hh = act(x_h + (r ⊙ h_in)·U_h).
                for bi in 0..b {
                    let row = bi * t + ti;
                    let (r, hr) = (&bufs.gates[row * gu + u..row * gu + 2 * u], &hin[bi * u..(bi + 1) * u]);
                    rh[bi * u..(bi + 1) * u].iter_mut().zip(r.iter().zip(hr)).for_each(|(o, (&rv, &hv))| *o = rv * hv);
                }
                gemm(b, u, u, Mat::row_major(&rh, 0, u), Mat { data: self.rk, offset: 2 * u, rs: gu, cs: 1 }, &mut hh_lin, 0, u, false, false);
                for bi in 0..b {
                    let row = bi * t + ti;
                    let xr = &xw[row * gu + 2 * u..(row + 1) * gu];
                    let hh = &mut bufs.gates[row * gu + 2 * u..(row + 1) * gu];
                    add_into(xr, &bias[2 * u..], &hh_lin[bi * u..(bi + 1) * u], hh);
                    activate(act, hh);
                }
            }
            // New states of every row; masked rows carry their states over.
            for bi in 0..b {
                let row = bi * t + ti;
                let kept = keep.is_none_or(|k| k[row]);
                let (hr, rr) = (bi * u..(bi + 1) * u, row * u..(row + 1) * u);
                let o = (bi * (t + states) + s) * u;
                if !kept {
                    self.carry_masked_row(&mut bufs, &h[hr.clone()], if lstm { &c[hr] } else { &[] }, rr, o);
                    continue;
                }
                let gr = &bufs.gates[row * gu..(row + 1) * gu];
                let out = &mut bufs.out[o..o + u];
                match cell {
                    CellKind::Lstm => lstm_step(gr, &mut c[hr.clone()], &mut h[hr], &mut bufs.cprev[rr.clone()], &mut bufs.hprev[rr.clone()], &mut bufs.cact[rr], out, act),
                    CellKind::Gru { reset_after } => {
                        let extra = &mut bufs.extra[rr.clone()];
                        if reset_after {
                            extra.copy_from_slice(&hu[bi * gu + 2 * u..(bi + 1) * gu]);
                        } else {
                            extra.copy_from_slice(&rh[hr.clone()]);
                        }
                        gru_step(gr, &mut h[hr], &mut bufs.hprev[rr], out);
                    }
                    CellKind::Simple => {
                        bufs.hprev[rr].copy_from_slice(&h[hr.clone()]);
                        h[hr].copy_from_slice(gr);
                        out.copy_from_slice(gr);
                    }
                }
            }
        }
        for bi in 0..b {
            let base = bi * (t + states);
            bufs.out[(base + t) * u..(base + t + 1) * u].copy_from_slice(&h[bi * u..(bi + 1) * u]);
            if lstm {
                bufs.out[(base + t + 1) * u..(base + t + 2) * u].copy_from_slice(&c[bi * u..(bi + 1) * u]);
            }
        }
    }
}

/// v ← f(v) over a slice (the match outside the loop, so each arm vectorizes; inlined into the
/// multiversioned kernels).
#[inline(always)]
fn activate_in_place<T: Float>(act: CellActivation, v: &mut [T]) {
    match act {
        CellActivation::Linear => {}
        CellActivation::Relu => v.iter_mut().for_each(|x| *x = x.max(T::zero())),
        CellActivation::Sigmoid => v.iter_mut().for_each(|x| *x = math::sigmoid(*x)),
        CellActivation::Tanh => v.iter_mut().for_each(|x| *x = math::tanh(*x)),
        CellActivation::HardSigmoid => v.iter_mut().for_each(|x| *x = ((*x + T::c(3.0)).max(T::zero()).min(T::c(6.0))) / T::c(6.0)),
    }
}

multiversion! {
    /// LSTM gates of one row: [i, f, c, o] = [ract, ract, act, ract](x·W + h·U (+ b)).
    fn lstm_gates[T: Float](xr: &[T], br: &[T], hr: &[T], gr: &mut [T], act: CellActivation, ract: CellActivation) {
        let u = gr.len() / 4;
        for (((o, &x), &bv), &y) in gr.iter_mut().zip(xr).zip(br).zip(hr) {
            *o = (x + bv) + y;
        }
        activate_in_place(ract, &mut gr[..2 * u]);
        activate_in_place(act, &mut gr[2 * u..3 * u]);
        activate_in_place(ract, &mut gr[3 * u..]);
    }
}

multiversion! {
    /// GRU gates of one row: z, r = ract(x + h·U); with reset_after also hh = act(x_h + r⊙(h·U_h + b_h))
    /// (without, hh needs (r⊙h)·U_h first and is filled later).
    fn gru_gates[T: Float](xr: &[T], br: &[T], hr: &[T], gr: &mut [T], reset_after: bool, act: CellActivation, ract: CellActivation) {
        let u = gr.len() / 3;
        for (((o, &x), &bv), &y) in gr[..2 * u].iter_mut().zip(xr).zip(br).zip(hr) {
            *o = (x + bv) + y;
        }
        activate_in_place(ract, &mut gr[..2 * u]);
        if reset_after {
            let (zr, hh) = gr.split_at_mut(2 * u);
            for ((((o, &x), &bv), &r), &y) in hh.iter_mut().zip(&xr[2 * u..]).zip(&br[2 * u..]).zip(&zr[u..]).zip(&hr[2 * u..]) {
                *o = (x + bv) + r * y;
            }
            activate_in_place(act, hh);
        }
    }
}

multiversion! {
    /// LSTM state update of one kept row, in place: saves c_prev and h_prev, then c = f⊙c + i⊙g,
    /// a = act(c) (saved), h = o⊙a (also the step's output).
    #[allow(clippy::too_many_arguments)]
    fn lstm_step[T: Float](gates: &[T], c: &mut [T], h: &mut [T], c_saved: &mut [T], h_saved: &mut [T], a_saved: &mut [T], out: &mut [T], act: CellActivation) {
        let u = c.len();
        let (i, rest) = gates.split_at(u);
        let (f, rest) = rest.split_at(u);
        let (g, o) = rest.split_at(u);
        for j in 0..u {
            h_saved[j] = h[j];
            c_saved[j] = c[j];
            let cn = f[j] * c[j] + i[j] * g[j];
            c[j] = cn;
            a_saved[j] = cn;
        }
        activate_in_place(act, a_saved);
        for j in 0..u {
            let hn = o[j] * a_saved[j];
            h[j] = hn;
            out[j] = hn;
        }
    }
}

/// One LSTM row's state (updated in place) and the buffers its step writes.
struct LstmRowState<'a, T> {
    c: &'a mut [T],
    h: &'a mut [T],
    c_saved: &'a mut [T],
    h_saved: &'a mut [T],
    a_saved: &'a mut [T],
    out: &'a mut [T],
}

multiversion! {
    /// `lstm_gates` + `lstm_step` of one kept row for activation tanh and recurrent activation
    /// sigmoid (Keras's defaults), in one pass over the units.
    fn lstm_row_tanh_sigmoid[T: Float](xr: &[T], br: &[T], hr: &[T], gr: &mut [T], st: LstmRowState<'_, T>) {
        let u = st.c.len();
        // Every slice cut to exactly `u` so the loop runs without bounds checks.
        let (xi, xf, xg, xo) = (&xr[..u], &xr[u..2 * u], &xr[2 * u..3 * u], &xr[3 * u..4 * u]);
        let (bi, bf, bg, bo) = (&br[..u], &br[u..2 * u], &br[2 * u..3 * u], &br[3 * u..4 * u]);
        let (hi, hf, hg, ho) = (&hr[..u], &hr[u..2 * u], &hr[2 * u..3 * u], &hr[3 * u..4 * u]);
        let (gi, rest) = gr.split_at_mut(u);
        let (gf, rest) = rest.split_at_mut(u);
        let (gg, go) = rest.split_at_mut(u);
        let go = &mut go[..u];
        let (c, h, cs, hs, a_s, out) = (&mut st.c[..u], &mut st.h[..u], &mut st.c_saved[..u], &mut st.h_saved[..u], &mut st.a_saved[..u], &mut st.out[..u]);
        for j in 0..u {
            let i = math::sigmoid((xi[j] + bi[j]) + hi[j]);
            let f = math::sigmoid((xf[j] + bf[j]) + hf[j]);
            let g = math::tanh((xg[j] + bg[j]) + hg[j]);
            let o = math::sigmoid((xo[j] + bo[j]) + ho[j]);
            (gi[j], gf[j], gg[j], go[j]) = (i, f, g, o);
            hs[j] = h[j];
            cs[j] = c[j];
            let cn = f * c[j] + i * g;
            let a = math::tanh(cn);
            c[j] = cn;
            a_s[j] = a;
            let hn = o * a;
            h[j] = hn;
            out[j] = hn;
        }
    }
}

multiversion! {
    /// `gru_gates` + `gru_step` of one kept row of a reset_after GRU with activation tanh and
    /// recurrent activation sigmoid (Keras's defaults), in one pass; `extra` keeps h·U_h + b_h.
    #[allow(clippy::too_many_arguments)]
    fn gru_row_tanh_sigmoid[T: Float](xr: &[T], br: &[T], hr: &[T], gr: &mut [T], h: &mut [T], h_saved: &mut [T], extra: &mut [T], out: &mut [T]) {
        let u = h.len();
        let one = T::one();
        let (xz, xrr, xh) = (&xr[..u], &xr[u..2 * u], &xr[2 * u..3 * u]);
        let (bz, brr, bh) = (&br[..u], &br[u..2 * u], &br[2 * u..3 * u]);
        let (hz, hrr, hh_lin) = (&hr[..u], &hr[u..2 * u], &hr[2 * u..3 * u]);
        let (gz, rest) = gr.split_at_mut(u);
        let (g_r, g_h) = rest.split_at_mut(u);
        let g_h = &mut g_h[..u];
        let (hs, extra, out) = (&mut h_saved[..u], &mut extra[..u], &mut out[..u]);
        for j in 0..u {
            let z = math::sigmoid((xz[j] + bz[j]) + hz[j]);
            let r = math::sigmoid((xrr[j] + brr[j]) + hrr[j]);
            let hh = math::tanh((xh[j] + bh[j]) + r * hh_lin[j]);
            (gz[j], g_r[j], g_h[j]) = (z, r, hh);
            extra[j] = hh_lin[j];
            let prev = h[j];
            hs[j] = prev;
            let hn = z * prev + (one - z) * hh;
            h[j] = hn;
            out[j] = hn;
        }
    }
}

multiversion! {
    /// `gru_row_grad` of a reset_after GRU with activation tanh and recurrent activation
    /// sigmoid, in one pass.
    #[allow(clippy::too_many_arguments)]
    fn gru_row_grad_tanh_sigmoid[T: Float](g: &[T], h_prev: &[T], extra: &[T], dh: &[T], dz: &mut [T], dzh: &mut [T], direct: &mut [T]) {
        let u = dh.len();
        let one = T::one();
        let (gz, g_r, g_h) = (&g[..u], &g[u..2 * u], &g[2 * u..3 * u]);
        let (h_prev, extra, direct) = (&h_prev[..u], &extra[..u], &mut direct[..u]);
        let (dz_z, rest) = dz.split_at_mut(u);
        let (dz_r, dz_h) = rest.split_at_mut(u);
        let dz_h = &mut dz_h[..u];
        let (dzh_z, rest) = dzh.split_at_mut(u);
        let (dzh_r, dzh_h) = rest.split_at_mut(u);
        let dzh_h = &mut dzh_h[..u];
        for j in 0..u {
            let (z, r, hh, dhj) = (gz[j], g_r[j], g_h[j], dh[j]);
            let dahh = dhj * (one - z) * (one - hh * hh);
            let daz = dhj * (h_prev[j] - hh) * (z * (one - z));
            let dar = dahh * extra[j] * (r * (one - r));
            (dz_z[j], dz_r[j], dz_h[j]) = (daz, dar, dahh);
            (dzh_z[j], dzh_r[j], dzh_h[j]) = (daz, dar, dahh * r);
            direct[j] = dhj * z;
        }
    }
}

multiversion! {
    /// `lstm_row_grad` for activation tanh and recurrent activation sigmoid, in one pass.
    #[allow(clippy::too_many_arguments)]
    fn lstm_row_grad_tanh_sigmoid[T: Float](g: &[T], c_prev: &[T], a: &[T], dh: &[T], dc: &mut [T], dz: &mut [T]) {
        let u = dh.len();
        let one = T::one();
        let (gi, gf, gg, go) = (&g[..u], &g[u..2 * u], &g[2 * u..3 * u], &g[3 * u..4 * u]);
        let (c_prev, a, dc) = (&c_prev[..u], &a[..u], &mut dc[..u]);
        let (di, rest) = dz.split_at_mut(u);
        let (df, rest) = rest.split_at_mut(u);
        let (dg, d_o) = rest.split_at_mut(u);
        let d_o = &mut d_o[..u];
        for j in 0..u {
            let (i, f, gv, o, aj, dhj) = (gi[j], gf[j], gg[j], go[j], a[j], dh[j]);
            let dcj = dc[j] + dhj * o * (one - aj * aj);
            di[j] = dcj * gv * (i * (one - i));
            df[j] = dcj * c_prev[j] * (f * (one - f));
            dg[j] = dcj * i * (one - gv * gv);
            d_o[j] = dhj * aj * (o * (one - o));
            dc[j] = dcj * f;
        }
    }
}

multiversion! {
    /// GRU state update of one kept row, in place: saves h_prev, then h = z⊙h + (1 − z)⊙hh (also
    /// the step's output).
    fn gru_step[T: Float](gates: &[T], h: &mut [T], h_saved: &mut [T], out: &mut [T]) {
        let u = h.len();
        let (z, hh) = (&gates[..u], &gates[2 * u..]);
        for j in 0..u {
            let prev = h[j];
            h_saved[j] = prev;
            let hn = z[j] * prev + (T::one() - z[j]) * hh[j];
            h[j] = hn;
            out[j] = hn;
        }
    }
}

/// out = f'(x) written with y = f(x), over a slice (the match outside the loop, so each arm
/// vectorizes; inlined into the multiversioned row kernels below).
#[inline(always)]
fn output_grads<T: Float>(act: CellActivation, y: &[T], out: &mut [T]) {
    match act {
        CellActivation::Linear => out.fill(T::one()),
        CellActivation::Relu => out.iter_mut().zip(y).for_each(|(o, &v)| *o = if v > T::zero() { T::one() } else { T::zero() }),
        CellActivation::Sigmoid => out.iter_mut().zip(y).for_each(|(o, &v)| *o = v * (T::one() - v)),
        CellActivation::Tanh => out.iter_mut().zip(y).for_each(|(o, &v)| *o = T::one() - v * v),
        CellActivation::HardSigmoid => out.iter_mut().zip(y).for_each(|(o, &v)| *o = if v > T::zero() && v < T::one() { T::c(1.0 / 6.0) } else { T::zero() }),
    }
}

multiversion! {
    /// LSTM gate backward of one row: dz (pre-activation gates) and dc ← dc_prev, from dh, dc.
    /// `scratch` (5·units) holds the activations' derivatives.
    #[allow(clippy::too_many_arguments)]
    fn lstm_row_grad[T: Float](g: &[T], c_prev: &[T], a: &[T], dh: &[T], dc: &mut [T], dz: &mut [T], act: CellActivation, ract: CellActivation, scratch: &mut [T]) {
        let u = dh.len();
        let (da, dg) = scratch.split_at_mut(u);
        output_grads(act, a, da);
        output_grads(ract, &g[..2 * u], &mut dg[..2 * u]);
        output_grads(act, &g[2 * u..3 * u], &mut dg[2 * u..3 * u]);
        output_grads(ract, &g[3 * u..4 * u], &mut dg[3 * u..4 * u]);
        for j in 0..u {
            let (i, f, gg, o) = (g[j], g[u + j], g[2 * u + j], g[3 * u + j]);
            let dcj = dc[j] + dh[j] * o * da[j];
            dz[j] = dcj * gg * dg[j];
            dz[u + j] = dcj * c_prev[j] * dg[u + j];
            dz[2 * u + j] = dcj * i * dg[2 * u + j];
            dz[3 * u + j] = dh[j] * a[j] * dg[3 * u + j];
            dc[j] = dcj * f;
        }
    }
}

multiversion! {
    /// GRU gate backward of one row: dz of the input projections, dzh of the recurrent ones
    /// (GRU-plain's r column is filled later, once d(r⊙h) is known), and the direct z⊙dh path.
    /// `scratch` (3·units) holds the activations' derivatives.
    #[allow(clippy::too_many_arguments)]
    fn gru_row_grad[T: Float](g: &[T], h_prev: &[T], extra: &[T], dh: &[T], dz: &mut [T], dzh: &mut [T], direct: &mut [T], reset_after: bool, act: CellActivation, ract: CellActivation, scratch: &mut [T]) {
        let u = dh.len();
        output_grads(ract, &g[..2 * u], &mut scratch[..2 * u]);
        output_grads(act, &g[2 * u..3 * u], &mut scratch[2 * u..3 * u]);
        for j in 0..u {
            let (z, hh) = (g[j], g[2 * u + j]);
            let dahh = dh[j] * (T::one() - z) * scratch[2 * u + j];
            let daz = dh[j] * (h_prev[j] - hh) * scratch[j];
            dz[j] = daz;
            dz[2 * u + j] = dahh;
            dzh[j] = daz;
            direct[j] = dh[j] * z;
        }
        if reset_after {
            for j in 0..u {
                let dahh = dz[2 * u + j];
                let dar = dahh * extra[j] * scratch[u + j];
                dz[u + j] = dar;
                dzh[u + j] = dar;
                dzh[2 * u + j] = dahh * g[u + j];
            }
        } else {
            dzh[2 * u..3 * u].copy_from_slice(&dz[2 * u..3 * u]);
        }
    }
}

multiversion! {
    fn simple_row_grad[T: Float](h: &[T], dh: &[T], dz: &mut [T], act: CellActivation) {
        output_grads(act, h, dz);
        for (d, &g) in dz.iter_mut().zip(dh) {
            *d *= g;
        }
    }
}

struct RnnBackward {
    dims: Dims,
    spec: RnnSpec,
    has_bias: bool,
    x: Tensor,
    kernel: Tensor,
    recurrent_kernel: Tensor,
    rmask: Option<Tensor>,
    keep: Option<Vec<bool>>,
    saved: SavedTensors,
}

impl RnnBackward {
    fn grads<T: Float>(&self, grad: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let Dims { b, t, d, u, g } = self.dims;
        let gu = g * u;
        let cell = self.spec.cell;
        let grad = if grad.dtype() == T::DTYPE { grad.clone() } else { crate::ops::cast(grad, T::DTYPE)? };
        let dy = grad.data::<T>()?;
        let gates = self.saved.gates.data::<T>()?;
        let hprev = self.saved.hprev.data::<T>()?;
        let cprev = self.saved.cprev.data::<T>()?;
        let cact = self.saved.cact.data::<T>()?;
        let extra = self.saved.extra.data::<T>()?;
        let rk = self.recurrent_kernel.data::<T>()?;
        let rmask = self.rmask.as_ref().map(|m| m.to_vec::<T>()).transpose()?;

        // dZx: gradient of the input projections (row b·T + t); dZh: of the recurrent ones.
        // Each batch slice runs its own backward-through-time (as in the forward).
        // Every row of dZx / dZh is written by its step (zeros for masked rows).
        let mut dzx = uninit_vec::<T>(b * t * gu);
        let mut dzh = if matches!(cell, CellKind::Gru { .. }) { uninit_vec::<T>(b * t * gu) } else { Vec::new() };
        let slices = batch_slices(b);
        let tasks: Vec<_> = {
            let (mut zx, mut zh) = (&mut dzx[..], &mut dzh[..]);
            let gru = matches!(cell, CellKind::Gru { .. });
            slices.iter().map(|r| std::sync::Mutex::new(Some((split_off(&mut zx, r.len() * t * gu), split_off(&mut zh, if gru { r.len() * t * gu } else { 0 }))))).collect()
        };
        let rk_t = transposed(&rk, u, gu);
        let saved = SavedSlices { dy: &dy, gates: &gates, hprev: &hprev, cprev: &cprev, cact: &cact, extra: &extra, rk_t: &rk_t, rmask: rmask.as_deref() };
        let xd = self.x.data::<T>()?;
        let wanted = WeightGrads { dw: needs[1], du: needs[2], db: self.has_bias && needs[3] };
        // Each slice's backward-through-time, then its share of the weight gradients while its
        // dZ rows are still in that core's caches; the shares are summed in slice order (the
        // slices depend on the batch size only, so the result does not depend on the threads).
        let parts = par_ranges(slices.len(), 1, |i| {
            let rows = slices[i.start].clone();
            let (zx, zh) = tasks[i.start].lock().unwrap_or_else(|e| e.into_inner()).take().expect("each slice runs once");
            let (dh0, dc0) = self.bptt(rows.clone(), &saved, zx, zh);
            let weights = self.weight_grads(rows, wanted, &xd, &saved, zx, zh);
            (dh0, dc0, weights)
        });
        let dh: Vec<T> = parts.iter().flat_map(|(h, _, _)| h.iter().copied()).collect();
        let dc: Vec<T> = parts.iter().flat_map(|(_, c, _)| c.iter().copied()).collect();
        let sum_parts = |pick: fn(&SliceWeightGrads<T>) -> &[T]| -> Vec<T> {
            let mut total = pick(&parts[0].2).to_vec();
            for (_, _, w) in &parts[1..] {
                super::dense::add_rows(&mut total, pick(w));
            }
            total
        };

        let bt = b * t;
        let dx = grad_if(needs[0], || {
            let mut dx = uninit_vec::<T>(bt * d);
            let w = self.kernel.data::<T>()?;
            let wt = transposed(&w, d, gu);
            gemm(bt, d, gu, Mat::row_major(&dzx, 0, gu), Mat::row_major(&wt, 0, d), &mut dx, 0, d, false, true);
            Tensor::from_vec(dx, &[b, t, d])
        })?;
        let dw = grad_if(wanted.dw, || Tensor::from_vec(sum_parts(|w| &w.dw), &[d, gu]))?;
        let du = grad_if(wanted.du, || Tensor::from_vec(sum_parts(|w| &w.du), &[u, gu]))?;
        let mut out = vec![dx, dw, du];
        let mut k = 3;
        if self.has_bias {
            let shape: &[usize] = if cell == (CellKind::Gru { reset_after: true }) { &[2, gu] } else { &[gu] };
            out.push(grad_if(wanted.db, || Tensor::from_vec(sum_parts(|w| &w.db), shape))?);
            k += 1;
        }
        out.push(grad_if(needs[k], || Tensor::from_vec(dh.clone(), &[b, u]))?);
        if cell == CellKind::Lstm {
            out.push(grad_if(needs[k + 1], || Tensor::from_vec(dc.clone(), &[b, u]))?);
        }
        Ok(out)
    }
}

/// Which weight gradients the tape wants.
#[derive(Clone, Copy)]
struct WeightGrads {
    dw: bool,
    du: bool,
    db: bool,
}

/// One batch slice's share of the weight gradients (empty when not wanted).
struct SliceWeightGrads<T> {
    dw: Vec<T>,
    du: Vec<T>,
    db: Vec<T>,
}

impl RnnBackward {
    /// The share of batch rows `rows` in dW = xᵀ·dZx, dU = h_inᵀ·dZh (dZx for LSTM and
    /// SimpleRNN) and the bias gradients (column sums of dZx, and of dZh for reset_after GRU).
    /// The gemms use the pool only when this is the only slice (inside a parallel slice they
    /// run on its thread).
    fn weight_grads<T: Float>(&self, rows: std::ops::Range<usize>, wanted: WeightGrads, x: &[T], saved: &SavedSlices<'_, T>, dzx: &[T], dzh: &[T]) -> SliceWeightGrads<T> {
        let Dims { t, d, u, g, .. } = self.dims;
        let gu = g * u;
        let cell = self.spec.cell;
        let gru = matches!(cell, CellKind::Gru { .. });
        let gru_plain = cell == (CellKind::Gru { reset_after: false });
        let n = rows.len() * t;
        let (r0, r1) = (rows.start * t, rows.end * t);
        let mut dw = Vec::new();
        if wanted.dw {
            dw = uninit_vec::<T>(d * gu);
            gemm(d, gu, n, Mat::row_major(&x[r0 * d..r1 * d], 0, d).t(), Mat::row_major(dzx, 0, gu), &mut dw, 0, gu, false, true);
        }
        let mut du = Vec::new();
        if wanted.du {
            // The recurrent kernel saw h ⊙ mask (and GRU-plain's h-part saw r ⊙ h ⊙ mask).
            let hprev = &saved.hprev[r0 * u..r1 * u];
            let hin: std::borrow::Cow<'_, [T]> = match saved.rmask {
                Some(m) => hprev.chunks(u).enumerate().flat_map(|(row, hr)| hr.iter().zip(&m[(rows.start + row / t) * u..(rows.start + row / t + 1) * u]).map(|(&a, &mv)| a * mv).collect::<Vec<_>>()).collect(),
                None => std::borrow::Cow::Borrowed(hprev),
            };
            let dz_rec = if gru { dzh } else { dzx };
            du = uninit_vec::<T>(u * gu);
            let cols = if gru_plain { 2 * u } else { gu };
            gemm(u, cols, n, Mat::row_major(&hin, 0, u).t(), Mat::row_major(dz_rec, 0, gu), &mut du, 0, gu, false, true);
            if gru_plain {
                let extra = &saved.extra[r0 * u..r1 * u];
                gemm(u, u, n, Mat::row_major(extra, 0, u).t(), Mat { data: dz_rec, offset: 2 * u, rs: gu, cs: 1 }, &mut du, 2 * u, gu, false, true);
            }
        }
        let mut db = Vec::new();
        if wanted.db {
            db = super::dense::column_sums(dzx, n, gu);
            if cell == (CellKind::Gru { reset_after: true }) {
                db.extend(super::dense::column_sums(dzh, n, gu));
            }
        }
        SliceWeightGrads { dw, du, db }
    }
}

/// The saved forward buffers and the output gradient, whole (indexed by a slice's rows).
struct SavedSlices<'a, T> {
    dy: &'a [T],
    gates: &'a [T],
    hprev: &'a [T],
    cprev: &'a [T],
    cact: &'a [T],
    extra: &'a [T],
    /// The recurrent kernel transposed once, (gates·units, units) row-major.
    rk_t: &'a [T],
    rmask: Option<&'a [T]>,
}

impl RnnBackward {
    /// Backward-through-time of batch rows `rows`: fills their dZx / dZh rows (`dzx`, `dzh` are
    /// their slices) and returns the gradients of their initial h and c.
    fn bptt<T: Float>(&self, rows: std::ops::Range<usize>, saved: &SavedSlices<'_, T>, dzx: &mut [T], dzh: &mut [T]) -> (Vec<T>, Vec<T>) {
        let Dims { t, u, g, .. } = self.dims;
        let b = rows.len();
        let gu = g * u;
        let cell = self.spec.cell;
        let states = cell.states();
        let (act, ract) = (self.spec.activation, self.spec.recurrent_activation);
        let gru_plain = cell == (CellKind::Gru { reset_after: false });
        let (r0, r1) = (rows.start, rows.end);
        let dy = &saved.dy[r0 * (t + states) * u..r1 * (t + states) * u];
        let gates = &saved.gates[r0 * t * gu..r1 * t * gu];
        let hprev = &saved.hprev[r0 * t * u..r1 * t * u];
        let (cprev, cact) = if cell == CellKind::Lstm { (&saved.cprev[r0 * t * u..r1 * t * u], &saved.cact[r0 * t * u..r1 * t * u]) } else { (&[][..], &[][..]) };
        let extra = if matches!(cell, CellKind::Gru { .. }) { &saved.extra[r0 * t * u..r1 * t * u] } else { &[][..] };
        let rmask = saved.rmask.map(|m| &m[r0 * u..r1 * u]);
        let keep = self.keep.as_deref().map(|k| &k[r0 * t..r1 * t]);
        let mut dh = vec![T::zero(); b * u];
        let mut dc = vec![T::zero(); if cell == CellKind::Lstm { b * u } else { 0 }];
        for bi in 0..b {
            let base = bi * (t + states);
            dh[bi * u..(bi + 1) * u].copy_from_slice(&dy[(base + t) * u..(base + t + 1) * u]);
            if cell == CellKind::Lstm {
                dc[bi * u..(bi + 1) * u].copy_from_slice(&dy[(base + t + 1) * u..(base + t + 2) * u]);
            }
        }
        let gru = matches!(cell, CellKind::Gru { .. });
        // The paths into h_prev that skip the recurrent matmul: GRU's z⊙dh (and GRU-plain's
        // r⊙…), and a masked row's dh passing through. Without them (and without a recurrent
        // mask) the step's gemm writes dh_prev directly.
        let direct_paths = gru || keep.is_some();
        let mut dh_direct = vec![T::zero(); if direct_paths { b * u } else { 0 }];
        let mut tmp = vec![T::zero(); if direct_paths || rmask.is_some() { b * u } else { 0 }];
        let mut d_rh = vec![T::zero(); if gru_plain { b * u } else { 0 }];
        let rkt = saved.rk_t;
        let mut grad_scratch = vec![T::zero(); 5 * u];
        // Keras's default activations run fused row kernels.
        let defaults = (act, ract) == (CellActivation::Tanh, CellActivation::Sigmoid);
        for s in (0..t).rev() {
            let ti = self.dims.t_in(s, self.spec.go_backwards);
            // 1. The output gradient of this step joins dh; masked rows pass everything through.
            for bi in 0..b {
                let row = bi * t + ti;
                let kept = keep.is_none_or(|k| k[row]);
                let o = &dy[(bi * (t + states) + s) * u..(bi * (t + states) + s + 1) * u];
                if kept || !self.spec.zero_output_for_mask {
                    dh[bi * u..(bi + 1) * u].iter_mut().zip(o).for_each(|(a, &v)| *a += v);
                }
            }
            // 2. The fused gate backward of each row, written straight into its dZx (and dZh)
            //    row; a masked row gets zeros and passes dh through.
            for bi in 0..b {
                let row = bi * t + ti;
                let kept = keep.is_none_or(|k| k[row]);
                let dhr = &dh[bi * u..(bi + 1) * u];
                let dzr = &mut dzx[row * gu..(row + 1) * gu];
                if !kept {
                    dzr.fill(T::zero());
                    if gru {
                        dzh[row * gu..(row + 1) * gu].fill(T::zero());
                    }
                    dh_direct[bi * u..(bi + 1) * u].copy_from_slice(dhr);
                    continue;
                }
                if direct_paths && !gru {
                    dh_direct[bi * u..(bi + 1) * u].fill(T::zero());
                }
                let gr = &gates[row * gu..(row + 1) * gu];
                match cell {
                    CellKind::Lstm if defaults => lstm_row_grad_tanh_sigmoid(gr, &cprev[row * u..(row + 1) * u], &cact[row * u..(row + 1) * u], dhr, &mut dc[bi * u..(bi + 1) * u], dzr),
                    CellKind::Lstm => lstm_row_grad(gr, &cprev[row * u..(row + 1) * u], &cact[row * u..(row + 1) * u], dhr, &mut dc[bi * u..(bi + 1) * u], dzr, act, ract, &mut grad_scratch),
                    CellKind::Gru { reset_after: true } if defaults => {
                        let direct = &mut dh_direct[bi * u..(bi + 1) * u];
                        gru_row_grad_tanh_sigmoid(gr, &hprev[row * u..(row + 1) * u], &extra[row * u..(row + 1) * u], dhr, dzr, &mut dzh[row * gu..(row + 1) * gu], direct);
                    }
                    CellKind::Gru { reset_after } => {
                        let direct = &mut dh_direct[bi * u..(bi + 1) * u];
                        gru_row_grad(gr, &hprev[row * u..(row + 1) * u], &extra[row * u..(row + 1) * u], dhr, dzr, &mut dzh[row * gu..(row + 1) * gu], direct, reset_after, act, ract, &mut grad_scratch);
                    }
                    CellKind::Simple => simple_row_grad(gr, dhr, dzr, act),
                }
            }
            // This step's dZ rows, one every `t` rows of dZx / dZh.
            let (first, stride) = (ti * gu, t * gu);
            if gru_plain {
                // d(r⊙h) = dahh·U_hᵀ, then dr and the direct r path into h.
                gemm(b, u, u, Mat { data: &dzh[..], offset: first + 2 * u, rs: stride, cs: 1 }, Mat::row_major(rkt, 2 * u * u, u), &mut d_rh, 0, u, false, false);
                for bi in 0..b {
                    let row = bi * t + ti;
                    if !keep.is_none_or(|k| k[row]) {
                        continue;
                    }
                    for j in 0..u {
                        let r = gates[row * gu + u + j];
                        let m = rmask.as_ref().map_or(T::one(), |m| m[bi * u + j]);
                        let hm = hprev[row * u + j] * m;
                        let dar = d_rh[bi * u + j] * hm * ract.grad_from_output(r);
                        dzx[row * gu + u + j] = dar;
                        dzh[row * gu + u + j] = dar;
                        dh_direct[bi * u + j] += d_rh[bi * u + j] * r * m;
                    }
                }
            }
            // 3. dh_prev = direct + (dZ_step·Uᵀ) ⊙ recurrent mask (the matmul part only over
            //    the columns that went through U: all of them but GRU-plain's h-part).
            let (dz_rec, cols) = if gru { (&dzh[..], if gru_plain { 2 * u } else { gu }) } else { (&dzx[..], gu) };
            if !direct_paths && rmask.is_none() {
                gemm(b, u, cols, Mat { data: dz_rec, offset: first, rs: stride, cs: 1 }, Mat::row_major(rkt, 0, u), &mut dh, 0, u, false, false);
                continue;
            }
            gemm(b, u, cols, Mat { data: dz_rec, offset: first, rs: stride, cs: 1 }, Mat::row_major(rkt, 0, u), &mut tmp, 0, u, false, false);
            match (direct_paths, rmask) {
                (true, Some(m)) => dh.iter_mut().zip(&dh_direct).zip(tmp.iter().zip(m)).for_each(|((d, &di), (&tv, &mv))| *d = di + tv * mv),
                (true, None) => dh.iter_mut().zip(&dh_direct).zip(&tmp).for_each(|((d, &di), &tv)| *d = di + tv),
                (false, Some(m)) => dh.iter_mut().zip(tmp.iter().zip(m)).for_each(|(d, (&tv, &mv))| *d = tv * mv),
                (false, None) => unreachable!("handled above"),
            }
        }

        (dh, dc)
    }
}

impl Backward for RnnBackward {
    fn name(&self) -> &'static str {
        "rnn"
    }
    fn backward(&self, g: &Tensor, needs: &[bool]) -> Result<Vec<Option<Tensor>>> {
        crate::dispatch_float!(self.x.dtype(), "rnn", |T| self.grads::<T>(g, needs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    fn spec(cell: CellKind, backwards: bool, zero: bool) -> RnnSpec {
        RnnSpec { cell, activation: CellActivation::Tanh, recurrent_activation: CellActivation::Sigmoid, go_backwards: backwards, zero_output_for_mask: zero }
    }

    fn mask(b: usize, t: usize) -> Tensor {
        // Some rows fully kept, others with gaps (including the first and last steps).
        let v: Vec<f64> = (0..b * t).map(|i| if (i * 7 + 3) % 5 == 0 { 0.0 } else { 1.0 }).collect();
        t64(&v, &[b, t])
    }

    #[test]
    fn rnn_gradients_every_cell() {
        let (b, t, d, u) = (3, 4, 2, 3);
        let cells = [CellKind::Lstm, CellKind::Gru { reset_after: true }, CellKind::Gru { reset_after: false }, CellKind::Simple];
        for (n, cell) in cells.into_iter().enumerate() {
            let g = cell.gates();
            let bias_shape: Vec<usize> = if cell == (CellKind::Gru { reset_after: true }) { vec![2, g * u] } else { vec![g * u] };
            for (backwards, masked, zero, rec) in [(false, false, false, false), (true, true, false, true), (false, true, true, false)] {
                let s = spec(cell, backwards, zero);
                let m = masked.then(|| mask(b, t));
                let rm = rec.then(|| t64(&(0..b * u).map(|i| if i % 4 == 0 { 0.0 } else { 1.25 }).collect::<Vec<_>>(), &[b, u]));
                let mut inputs = vec![rand64(&[b, t, d], 1 + n as u64), rand64(&[d, g * u], 2), rand64(&[u, g * u], 3), rand64(&bias_shape, 4), rand64(&[b, u], 5)];
                if cell == CellKind::Lstm {
                    inputs.push(rand64(&[b, u], 6));
                }
                check_grads(|x| rnn(&x[0], &x[1], &x[2], Some(&x[3]), &x[4], x.get(5), m.as_ref(), rm.as_ref(), s), &inputs);
            }
        }
    }

    #[test]
    fn rnn_gradients_with_other_activations() {
        // Keras's default activations run fused fast paths; any other pair runs the general
        // gate kernels.
        let (b, t, d, u) = (3, 4, 2, 3);
        let m = mask(b, t);
        for cell in [CellKind::Lstm, CellKind::Gru { reset_after: true }, CellKind::Gru { reset_after: false }] {
            let g = cell.gates();
            let bias_shape: Vec<usize> = if cell == (CellKind::Gru { reset_after: true }) { vec![2, g * u] } else { vec![g * u] };
            let s = RnnSpec { cell, activation: CellActivation::Sigmoid, recurrent_activation: CellActivation::Tanh, go_backwards: false, zero_output_for_mask: false };
            let mut inputs = vec![rand64(&[b, t, d], 31), rand64(&[d, g * u], 32), rand64(&[u, g * u], 33), rand64(&bias_shape, 34), rand64(&[b, u], 35)];
            if cell == CellKind::Lstm {
                inputs.push(rand64(&[b, u], 36));
            }
            check_grads(|x| rnn(&x[0], &x[1], &x[2], Some(&x[3]), &x[4], x.get(5), Some(&m), None, s), &inputs);
        }
    }

    #[test]
    fn rnn_gradients_with_two_batch_slices() {
        // 17 rows run as two slices (16 + 1) in the forward and in backward-through-time (and
        // each slice forms its share of the weight gradients, with its rows of the recurrent mask).
        let (b, t, d, u) = (17, 3, 2, 2);
        let m = mask(b, t);
        let rm = t64(&(0..b * u).map(|i| if i % 3 == 0 { 0.0 } else { 1.5 }).collect::<Vec<_>>(), &[b, u]);
        for cell in [CellKind::Lstm, CellKind::Gru { reset_after: false }, CellKind::Gru { reset_after: true }] {
            let g = cell.gates();
            let bias_shape: Vec<usize> = if cell == (CellKind::Gru { reset_after: true }) { vec![2, g * u] } else { vec![g * u] };
            let mut inputs = vec![rand64(&[b, t, d], 21), rand64(&[d, g * u], 22), rand64(&[u, g * u], 23), rand64(&bias_shape, 24), rand64(&[b, u], 25)];
            if cell == CellKind::Lstm {
                inputs.push(rand64(&[b, u], 26));
            }
            check_grads(|x| rnn(&x[0], &x[1], &x[2], Some(&x[3]), &x[4], x.get(5), Some(&m), Some(&rm), spec(cell, true, false)), &inputs);
        }
    }

    #[test]
    fn lstm_step_matches_the_equations() {
        let (b, d, u) = (2, 3, 2);
        let x = rand64(&[b, 1, d], 7);
        let (w, rk, bias, h0, c0) = (rand64(&[d, 4 * u], 8), rand64(&[u, 4 * u], 9), rand64(&[4 * u], 10), rand64(&[b, u], 11), rand64(&[b, u], 12));
        let y = vals(&rnn(&x, &w, &rk, Some(&bias), &h0, Some(&c0), None, None, spec(CellKind::Lstm, false, false)).unwrap());
        let (xv, wv, rv, bv, hv, cv) = (vals(&x), vals(&w), vals(&rk), vals(&bias), vals(&h0), vals(&c0));
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        for bi in 0..b {
            let z: Vec<f64> = (0..4 * u).map(|k| bv[k] + (0..d).map(|i| xv[bi * d + i] * wv[i * 4 * u + k]).sum::<f64>() + (0..u).map(|i| hv[bi * u + i] * rv[i * 4 * u + k]).sum::<f64>()).collect();
            for j in 0..u {
                let c = sig(z[u + j]) * cv[bi * u + j] + sig(z[j]) * z[2 * u + j].tanh();
                let h = sig(z[3 * u + j]) * c.tanh();
                // Rows: output step 0, final h, final c.
                assert!((y[(bi * 3) * u + j] - h).abs() < 1e-12);
                assert!((y[(bi * 3 + 1) * u + j] - h).abs() < 1e-12);
                assert!((y[(bi * 3 + 2) * u + j] - c).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn rnn_is_the_same_for_any_thread_count() {
        let (b, t, d, u) = (40, 5, 6, 7);
        let inputs = [rand64(&[b, t, d], 1), rand64(&[d, 4 * u], 2), rand64(&[u, 4 * u], 3), rand64(&[4 * u], 4), rand64(&[b, u], 5), rand64(&[b, u], 6)];
        let m = mask(b, t);
        assert_same_for_any_thread_count_and_simd_path(|| {
            let grads = analytic_grads(|x| rnn(&x[0], &x[1], &x[2], Some(&x[3]), &x[4], Some(&x[5]), Some(&m), None, spec(CellKind::Lstm, false, false)), &inputs);
            grads.iter().flat_map(vals).collect()
        });
    }

    #[test]
    fn bad_shapes_are_errors() {
        let s = spec(CellKind::Simple, false, false);
        let (w, rk, h0) = (rand64(&[3, 2], 1), rand64(&[2, 2], 2), rand64(&[2, 2], 3));
        assert!(rnn(&rand64(&[2, 3], 4), &w, &rk, None, &h0, None, None, None, s).is_err());
        assert!(rnn(&rand64(&[2, 4, 4], 4), &w, &rk, None, &h0, None, None, None, s).is_err());
        assert!(rnn(&rand64(&[2, 4, 3], 4), &w, &rk, None, &h0, None, Some(&rand64(&[2, 3], 5)), None, s).is_err());
        assert!(rnn(&rand64(&[2, 4, 3], 4), &w, &rk, None, &rand64(&[3, 2], 5), None, None, None, s).is_err());
        assert!(rnn(&rand64(&[2, 4, 3], 4), &w, &rk, None, &h0, Some(&h0), None, None, s).is_err());
    }
}
