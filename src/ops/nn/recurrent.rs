//! `rnn(x, kernel, recurrent_kernel, bias, initial states, mask, recurrent mask, spec)`: a whole
//! LSTM, GRU or SimpleRNN sequence in one call, with Keras's weight layouts (gate order i, f, c, o
//! for LSTM and z, r, h for GRU) and masking rules (a masked step carries the states over and
//! outputs the previous output, or zeros with `zero_output_for_mask`).
//!
//! Forward: the input projection of every timestep is one gemm (x·W + b); then per step one
//! small gemm for the recurrent projection h·U and one fused gate pass over the batch that also
//! keeps what backward needs. Backward (one node) runs the steps in reverse with the fused gate
//! backward and one small gemm per step for dh·Uᵀ, then forms the weight gradients with three
//! large gemms over all timesteps (dW = xᵀ·dZ, dU = hᵀ·dZ, dx = dZ·Wᵀ).
//!
//! The result is one tensor (batch, timesteps + states, units): the per-step outputs in
//! processing order (reversed input order with `go_backwards`, as Keras), then the final h (and
//! c for LSTM). Callers slice it; the tape then carries the gradients of every part.

use std::sync::Arc;

use crate::autograd::{record, Backward};
use crate::error::Result;
use crate::kernels::gemm::{gemm, Mat};
use crate::kernels::math;
use crate::ops::common::{grad_if, promote_float};
use crate::runtime::par_ranges;
use crate::tensor::{DType, Float, Tensor};
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

    #[inline(always)]
    fn apply<T: Float>(self, v: T) -> T {
        match self {
            CellActivation::Linear => v,
            CellActivation::Relu => v.max(T::zero()),
            CellActivation::Sigmoid => math::sigmoid(v),
            CellActivation::Tanh => math::tanh(v),
            // Keras 3: relu6(x + 3) / 6.
            CellActivation::HardSigmoid => ((v + T::c(3.0)).max(T::zero()).min(T::c(6.0))) / T::c(6.0),
        }
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnSpec {
    pub cell: CellKind,
    pub activation: CellActivation,
    pub recurrent_activation: CellActivation,
    pub go_backwards: bool,
    pub zero_output_for_mask: bool,
}

/// Batch rows per parallel task of a step's gate pass (fixed: results never depend on threads).
const ROWS_PER_TASK: usize = 16;

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
    /// LSTM: c before the step and after it.
    cprev: Vec<T>,
    cnew: Vec<T>,
    /// GRU: reset_after → the recurrent h-part h·U_h + b_h; otherwise r·h (the input of U_h).
    extra: Vec<T>,
}

/// The saved buffers as tensors (so the backward node holds them type-erased).
struct SavedTensors {
    gates: Tensor,
    hprev: Tensor,
    cprev: Tensor,
    cnew: Tensor,
    extra: Tensor,
}

impl<T: Float> Saved<T> {
    fn into_tensors(self) -> Result<SavedTensors> {
        let t = |v: Vec<T>| {
            let n = v.len();
            Tensor::from_vec(v, &[n])
        };
        Ok(SavedTensors { gates: t(self.gates)?, hprev: t(self.hprev)?, cprev: t(self.cprev)?, cnew: t(self.cnew)?, extra: t(self.extra)? })
    }
}

struct Forward<'a, T> {
    dims: Dims,
    spec: RnnSpec,
    x: &'a [T],
    w: &'a [T],
    rk: &'a [T],
    bias: Option<Vec<T>>,
    rmask: Option<Vec<T>>,
    keep: Option<&'a [bool]>,
}

/// One batch row's results of a step, computed in parallel and then stored.
struct RowOut<T> {
    h: Vec<T>,
    c: Vec<T>,
    gates: Vec<T>,
    extra: Vec<T>,
}

impl<T: Float> Forward<'_, T> {
    fn run(&self, h0: &[T], c0: Option<&[T]>) -> (Vec<T>, Saved<T>) {
        let Dims { b, t, d, u, g } = self.dims;
        let gu = g * u;
        let cell = self.spec.cell;
        let states = cell.states();
        // Input projections of all timesteps at once (+ the input bias).
        let mut xw = vec![T::zero(); b * t * gu];
        gemm(b * t, gu, d, Mat::row_major(self.x, 0, d), Mat::row_major(self.w, 0, gu), &mut xw, 0, gu, false, true);
        let (bias_in, bias_rec): (Option<&[T]>, Option<&[T]>) = match (&self.bias, cell) {
            (Some(bias), CellKind::Gru { reset_after: true }) => (Some(&bias[..gu]), Some(&bias[gu..])),
            (Some(bias), _) => (Some(&bias[..]), None),
            (None, _) => (None, None),
        };
        if let Some(bias) = bias_in {
            for row in xw.chunks_mut(gu) {
                row.iter_mut().zip(bias).for_each(|(v, &bv)| *v += bv);
            }
        }

        let mut saved = Saved {
            gates: vec![T::zero(); b * t * gu],
            hprev: vec![T::zero(); b * t * u],
            cprev: vec![T::zero(); if cell == CellKind::Lstm { b * t * u } else { 0 }],
            cnew: vec![T::zero(); if cell == CellKind::Lstm { b * t * u } else { 0 }],
            extra: vec![T::zero(); if matches!(cell, CellKind::Gru { .. }) { b * t * u } else { 0 }],
        };
        let mut out = vec![T::zero(); b * (t + states) * u];
        let mut h = h0.to_vec();
        let mut c = c0.map_or_else(Vec::new, |c| c.to_vec());
        let mut hm = vec![T::zero(); b * u];
        let mut hu = vec![T::zero(); b * gu];
        let mut hh_lin = vec![T::zero(); if cell == (CellKind::Gru { reset_after: false }) { b * u } else { 0 }];
        for s in 0..t {
            let ti = self.dims.t_in(s, self.spec.go_backwards);
            // Recurrent projection: (h ⊙ recurrent mask)·U, the GRU without reset_after only
            // for z and r (its h-part needs r first).
            let hin: &[T] = match &self.rmask {
                Some(m) => {
                    hm.iter_mut().zip(h.iter().zip(m)).for_each(|(o, (&hv, &mv))| *o = hv * mv);
                    &hm
                }
                None => &h,
            };
            let cols = if cell == (CellKind::Gru { reset_after: false }) { 2 * u } else { gu };
            gemm(b, cols, u, Mat::row_major(hin, 0, u), Mat::row_major(self.rk, 0, gu), &mut hu, 0, gu, false, true);
            if let Some(bias) = bias_rec {
                for row in hu.chunks_mut(gu) {
                    row.iter_mut().zip(bias).for_each(|(v, &bv)| *v += bv);
                }
            }
            if cell == (CellKind::Gru { reset_after: false }) {
                // r = σ(x_r + (h⊙m)·U_r), then (r ⊙ h⊙m)·U_h.
                let mut rh = vec![T::zero(); b * u];
                for bi in 0..b {
                    let row = bi * t + ti;
                    for j in 0..u {
                        let r = self.spec.recurrent_activation.apply(xw[row * gu + u + j] + hu[bi * gu + u + j]);
                        rh[bi * u + j] = r * hin[bi * u + j];
                    }
                }
                gemm(b, u, u, Mat::row_major(&rh, 0, u), Mat { data: self.rk, offset: 2 * u, rs: gu, cs: 1 }, &mut hh_lin, 0, u, false, true);
                for bi in 0..b {
                    let row = bi * t + ti;
                    saved.extra[row * u..(row + 1) * u].copy_from_slice(&rh[bi * u..(bi + 1) * u]);
                }
            }
            let rows = par_ranges(b, ROWS_PER_TASK, |range| {
                range.map(|bi| self.cell_row(bi * t + ti, &xw, &hu[bi * gu..(bi + 1) * gu], &h[bi * u..(bi + 1) * u], if c.is_empty() { &[] } else { &c[bi * u..(bi + 1) * u] }, if hh_lin.is_empty() { &[] } else { &hh_lin[bi * u..(bi + 1) * u] })).collect::<Vec<_>>()
            });
            for (bi, row_out) in rows.into_iter().flatten().enumerate() {
                let row = bi * t + ti;
                let kept = self.keep.is_none_or(|k| k[row]);
                saved.hprev[row * u..(row + 1) * u].copy_from_slice(&h[bi * u..(bi + 1) * u]);
                if cell == CellKind::Lstm {
                    saved.cprev[row * u..(row + 1) * u].copy_from_slice(&c[bi * u..(bi + 1) * u]);
                }
                let o = &mut out[(bi * (t + states) + s) * u..(bi * (t + states) + s + 1) * u];
                if kept {
                    saved.gates[row * gu..(row + 1) * gu].copy_from_slice(&row_out.gates);
                    if !row_out.extra.is_empty() {
                        saved.extra[row * u..(row + 1) * u].copy_from_slice(&row_out.extra);
                    }
                    h[bi * u..(bi + 1) * u].copy_from_slice(&row_out.h);
                    if cell == CellKind::Lstm {
                        c[bi * u..(bi + 1) * u].copy_from_slice(&row_out.c);
                        saved.cnew[row * u..(row + 1) * u].copy_from_slice(&row_out.c);
                    }
                    o.copy_from_slice(&row_out.h);
                } else {
                    // Masked: states carry over; the output is the previous output (or zeros).
                    if cell == CellKind::Lstm {
                        saved.cnew[row * u..(row + 1) * u].copy_from_slice(&c[bi * u..(bi + 1) * u]);
                    }
                    if !self.spec.zero_output_for_mask {
                        o.copy_from_slice(&h[bi * u..(bi + 1) * u]);
                    }
                }
            }
        }
        for bi in 0..b {
            let base = bi * (t + states);
            out[(base + t) * u..(base + t + 1) * u].copy_from_slice(&h[bi * u..(bi + 1) * u]);
            if cell == CellKind::Lstm {
                out[(base + t + 1) * u..(base + t + 2) * u].copy_from_slice(&c[bi * u..(bi + 1) * u]);
            }
        }
        (out, saved)
    }

    /// The gates and new states of one batch row (`row` = b·T + t into the input projections).
    fn cell_row(&self, row: usize, xw: &[T], hu: &[T], hp: &[T], cp: &[T], hh_lin: &[T]) -> RowOut<T> {
        let u = self.dims.u;
        let gu = self.dims.g * u;
        let xr = &xw[row * gu..(row + 1) * gu];
        let (act, ract) = (self.spec.activation, self.spec.recurrent_activation);
        let mut gates = vec![T::zero(); gu];
        let mut h = vec![T::zero(); u];
        let mut c = Vec::new();
        let mut extra = Vec::new();
        match self.spec.cell {
            CellKind::Lstm => {
                c = vec![T::zero(); u];
                for j in 0..u {
                    let i = ract.apply(xr[j] + hu[j]);
                    let f = ract.apply(xr[u + j] + hu[u + j]);
                    let gg = act.apply(xr[2 * u + j] + hu[2 * u + j]);
                    let o = ract.apply(xr[3 * u + j] + hu[3 * u + j]);
                    let cn = f * cp[j] + i * gg;
                    c[j] = cn;
                    h[j] = o * act.apply(cn);
                    gates[j] = i;
                    gates[u + j] = f;
                    gates[2 * u + j] = gg;
                    gates[3 * u + j] = o;
                }
            }
            CellKind::Gru { reset_after } => {
                if reset_after {
                    extra = hu[2 * u..3 * u].to_vec();
                }
                for j in 0..u {
                    let z = ract.apply(xr[j] + hu[j]);
                    let r = ract.apply(xr[u + j] + hu[u + j]);
                    let hh = if reset_after { act.apply(xr[2 * u + j] + r * hu[2 * u + j]) } else { act.apply(xr[2 * u + j] + hh_lin[j]) };
                    h[j] = z * hp[j] + (T::one() - z) * hh;
                    gates[j] = z;
                    gates[u + j] = r;
                    gates[2 * u + j] = hh;
                }
            }
            CellKind::Simple => {
                for j in 0..u {
                    h[j] = act.apply(xr[j] + hu[j]);
                    gates[j] = h[j];
                }
            }
        }
        RowOut { h, c, gates, extra }
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
        let states = cell.states();
        let (act, ract) = (self.spec.activation, self.spec.recurrent_activation);
        let grad = if grad.dtype() == T::DTYPE { grad.clone() } else { crate::ops::cast(grad, T::DTYPE)? };
        let dy = grad.data::<T>()?;
        let gates = self.saved.gates.data::<T>()?;
        let hprev = self.saved.hprev.data::<T>()?;
        let cprev = self.saved.cprev.data::<T>()?;
        let cnew = self.saved.cnew.data::<T>()?;
        let extra = self.saved.extra.data::<T>()?;
        let rk = self.recurrent_kernel.data::<T>()?;
        let rmask = self.rmask.as_ref().map(|m| m.to_vec::<T>()).transpose()?;
        let gru_plain = cell == (CellKind::Gru { reset_after: false });

        // dZx: gradient of the input projections (row b·T + t); dZh: of the recurrent ones.
        let mut dzx = vec![T::zero(); b * t * gu];
        let mut dzh = if matches!(cell, CellKind::Gru { .. }) { vec![T::zero(); b * t * gu] } else { Vec::new() };
        let mut dh = vec![T::zero(); b * u];
        let mut dc = vec![T::zero(); if cell == CellKind::Lstm { b * u } else { 0 }];
        for bi in 0..b {
            let base = bi * (t + states);
            dh[bi * u..(bi + 1) * u].copy_from_slice(&dy[(base + t) * u..(base + t + 1) * u]);
            if cell == CellKind::Lstm {
                dc[bi * u..(bi + 1) * u].copy_from_slice(&dy[(base + t + 1) * u..(base + t + 2) * u]);
            }
        }
        let mut dh_direct = vec![T::zero(); b * u];
        let mut tmp = vec![T::zero(); b * u];
        let mut d_rh = vec![T::zero(); if gru_plain { b * u } else { 0 }];
        for s in (0..t).rev() {
            let ti = self.dims.t_in(s, self.spec.go_backwards);
            // 1. The output gradient of this step joins dh; masked rows pass everything through.
            for bi in 0..b {
                let row = bi * t + ti;
                let kept = self.keep.as_ref().is_none_or(|k| k[row]);
                let o = &dy[(bi * (t + states) + s) * u..(bi * (t + states) + s + 1) * u];
                if kept || !self.spec.zero_output_for_mask {
                    dh[bi * u..(bi + 1) * u].iter_mut().zip(o).for_each(|(a, &v)| *a += v);
                }
            }
            // 2. The fused gate backward of the kept rows; dh_direct gets the non-matmul paths.
            for bi in 0..b {
                let row = bi * t + ti;
                let kept = self.keep.as_ref().is_none_or(|k| k[row]);
                let dhr = &dh[bi * u..(bi + 1) * u];
                let direct = &mut dh_direct[bi * u..(bi + 1) * u];
                if !kept {
                    direct.copy_from_slice(dhr);
                    continue;
                }
                let gr = &gates[row * gu..(row + 1) * gu];
                let dzr = &mut dzx[row * gu..(row + 1) * gu];
                match cell {
                    CellKind::Lstm => {
                        let dcr = &mut dc[bi * u..(bi + 1) * u];
                        for j in 0..u {
                            let (i, f, gg, o) = (gr[j], gr[u + j], gr[2 * u + j], gr[3 * u + j]);
                            let ac = act.apply(cnew[row * u + j]);
                            let dcj = dcr[j] + dhr[j] * o * act.grad_from_output(ac);
                            dzr[j] = dcj * gg * ract.grad_from_output(i);
                            dzr[u + j] = dcj * cprev[row * u + j] * ract.grad_from_output(f);
                            dzr[2 * u + j] = dcj * i * act.grad_from_output(gg);
                            dzr[3 * u + j] = dhr[j] * ac * ract.grad_from_output(o);
                            dcr[j] = dcj * f;
                            direct[j] = T::zero();
                        }
                    }
                    CellKind::Gru { reset_after } => {
                        let dzhr = &mut dzh[row * gu..(row + 1) * gu];
                        for j in 0..u {
                            let (z, hh) = (gr[j], gr[2 * u + j]);
                            let dahh = dhr[j] * (T::one() - z) * act.grad_from_output(hh);
                            let daz = dhr[j] * (hprev[row * u + j] - hh) * ract.grad_from_output(z);
                            dzr[j] = daz;
                            dzr[2 * u + j] = dahh;
                            dzhr[j] = daz;
                            direct[j] = dhr[j] * z;
                            if reset_after {
                                let r = gr[u + j];
                                let dar = dahh * extra[row * u + j] * ract.grad_from_output(r);
                                dzr[u + j] = dar;
                                dzhr[u + j] = dar;
                                dzhr[2 * u + j] = dahh * r;
                            } else {
                                dzhr[2 * u + j] = dahh;
                            }
                        }
                    }
                    CellKind::Simple => {
                        for j in 0..u {
                            dzr[j] = dhr[j] * act.grad_from_output(gr[j]);
                            direct[j] = T::zero();
                        }
                    }
                }
            }
            if gru_plain {
                // d(r⊙h) = dahh·U_hᵀ, then dr and the direct r path into h.
                let dzh_step = Mat { data: &dzh[..], offset: ti * gu + 2 * u, rs: t * gu, cs: 1 };
                gemm(b, u, u, dzh_step, Mat { data: &rk[..], offset: 2 * u, rs: gu, cs: 1 }.t(), &mut d_rh, 0, u, false, true);
                for bi in 0..b {
                    let row = bi * t + ti;
                    if !self.keep.as_ref().is_none_or(|k| k[row]) {
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
            // 3. dh_prev = direct + (dZh_step·Uᵀ) ⊙ recurrent mask (the matmul part only over
            //    the columns that went through U: all of them but GRU-plain's h-part).
            let (dz_rec, cols) = if matches!(cell, CellKind::Gru { .. }) { (&dzh, if gru_plain { 2 * u } else { gu }) } else { (&dzx, gu) };
            let dz_step = Mat { data: &dz_rec[..], offset: ti * gu, rs: t * gu, cs: 1 };
            gemm(b, u, cols, dz_step, Mat::row_major(&rk, 0, gu).t(), &mut tmp, 0, u, false, true);
            for i in 0..b * u {
                let m = rmask.as_ref().map_or(T::one(), |m| m[i]);
                dh[i] = dh_direct[i] + tmp[i] * m;
            }
        }

        let xd = self.x.data::<T>()?;
        let w = self.kernel.data::<T>()?;
        let bt = b * t;
        let dx = grad_if(needs[0], || {
            let mut dx = vec![T::zero(); bt * d];
            gemm(bt, d, gu, Mat::row_major(&dzx, 0, gu), Mat::row_major(&w, 0, gu).t(), &mut dx, 0, d, false, true);
            Tensor::from_vec(dx, &[b, t, d])
        })?;
        let dw = grad_if(needs[1], || {
            let mut dw = vec![T::zero(); d * gu];
            gemm(d, gu, bt, Mat::row_major(&xd, 0, d).t(), Mat::row_major(&dzx, 0, gu), &mut dw, 0, gu, false, true);
            Tensor::from_vec(dw, &[d, gu])
        })?;
        let du = grad_if(needs[2], || {
            // The recurrent kernel saw h ⊙ mask (and GRU-plain's h-part saw r ⊙ h ⊙ mask).
            let hin: Vec<T> = match &rmask {
                Some(m) => hprev.chunks(u).enumerate().flat_map(|(row, hr)| hr.iter().zip(&m[(row / t) * u..(row / t + 1) * u]).map(|(&a, &mv)| a * mv).collect::<Vec<_>>()).collect(),
                None => hprev.to_vec(),
            };
            let dz_rec = if matches!(cell, CellKind::Gru { .. }) { &dzh } else { &dzx };
            let mut du = vec![T::zero(); u * gu];
            let cols = if gru_plain { 2 * u } else { gu };
            gemm(u, cols, bt, Mat::row_major(&hin, 0, u).t(), Mat::row_major(dz_rec, 0, gu), &mut du, 0, gu, false, true);
            if gru_plain {
                gemm(u, u, bt, Mat::row_major(&extra, 0, u).t(), Mat { data: &dz_rec[..], offset: 2 * u, rs: gu, cs: 1 }, &mut du, 2 * u, gu, false, true);
            }
            Tensor::from_vec(du, &[u, gu])
        })?;
        let mut out = vec![dx, dw, du];
        let mut k = 3;
        if self.has_bias {
            out.push(grad_if(needs[k], || {
                let mut db = super::dense::column_sums(&dzx, bt, gu);
                if cell == (CellKind::Gru { reset_after: true }) {
                    db.extend(super::dense::column_sums(&dzh, bt, gu));
                    return Tensor::from_vec(db, &[2, gu]);
                }
                Tensor::from_vec(db, &[gu])
            })?);
            k += 1;
        }
        out.push(grad_if(needs[k], || Tensor::from_vec(dh.clone(), &[b, u]))?);
        if cell == CellKind::Lstm {
            out.push(grad_if(needs[k + 1], || Tensor::from_vec(dc.clone(), &[b, u]))?);
        }
        Ok(out)
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
