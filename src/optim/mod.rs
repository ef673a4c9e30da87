//! Fused optimizer updates: one call updates every variable of a model in place (parameters and
//! slot variables), with Keras 3's update rules. The work is split into fixed-size pieces across
//! all variables at once, so many small variables (biases) and a few big ones (kernels) share the
//! pool evenly. Elementwise rules are one pass; Lamb and Adafactor also need per-variable norms
//! (and row/column means), computed as per-piece partial sums combined in piece order. Pieces
//! depend only on the shapes, so results do not depend on the thread count.

mod adafactor;
mod lamb;

use crate::error::{Error, Result};
use crate::multiversion;
use crate::runtime::{num_threads, par_map_mut};
use crate::tensor::Float;

/// An update rule and its hyperparameters (Keras 3's `update_step` of each optimizer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// Slots: `[momentum]` when `momentum != 0`, else none.
    Sgd { momentum: f64, nesterov: bool },
    /// Slots: `[m, v]`, plus `[v_hat]` with amsgrad.
    Adam { beta_1: f64, beta_2: f64, epsilon: f64, amsgrad: bool },
    /// Slots: `[velocity]`, then `momentum` if `momentum > 0`, then `average_gradient` if centered.
    RmsProp { rho: f64, momentum: f64, epsilon: f64, centered: bool },
    /// Slots: `[accumulator]` (Keras starts it at `initial_accumulator_value`).
    Adagrad { epsilon: f64 },
    /// Slots: `[accumulated_grad, accumulated_delta_var]`.
    Adadelta { rho: f64, epsilon: f64 },
    /// Slots: `[m, u]` (u: the decayed infinity norm).
    Adamax { beta_1: f64, beta_2: f64, epsilon: f64 },
    /// Slots: `[m, v]`. `u_product` is Keras's running product of the momentum schedule
    /// μ_1·…·μ_t, already including this step's factor.
    Nadam { beta_1: f64, beta_2: f64, epsilon: f64, u_product: f64 },
    /// Slots: `[m]`.
    Lion { beta_1: f64, beta_2: f64 },
    /// Slots: `[accumulator, linear]`. `l2` is the stabilization penalty (Keras adds
    /// `beta / (2·lr)` to it), `l2_shrinkage` the magnitude penalty added to the gradient.
    Ftrl { learning_rate_power: f64, l1: f64, l2: f64, l2_shrinkage: f64, beta: f64 },
    /// Slots: `[r, c, v]` for variables of rank ≥ 2 (r: shape[:-1], c: shape[:-2] + shape[-1:],
    /// the decayed means of g² + ε₁ over the last and second-last axis; v: the full second
    /// moment rebuilt from them), `[v]` for rank < 2.
    Adafactor { beta_2_decay: f64, epsilon_1: f64, epsilon_2: f64, clip_threshold: f64 },
    /// Slots: `[m, v]`; the Adam direction is scaled by ‖θ‖/‖direction‖ per variable.
    Lamb { beta_1: f64, beta_2: f64, epsilon: f64 },
}

impl Rule {
    /// Shapes of the slot variables a parameter of shape `shape` needs, in the order `apply`
    /// expects them.
    pub fn slot_shapes(&self, shape: &[usize]) -> Vec<Vec<usize>> {
        let count = match *self {
            Rule::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            Rule::Adam { amsgrad, .. } => 2 + usize::from(amsgrad),
            Rule::RmsProp { momentum, centered, .. } => 1 + usize::from(momentum > 0.0) + usize::from(centered),
            Rule::Adagrad { .. } | Rule::Lion { .. } => 1,
            Rule::Adadelta { .. } | Rule::Adamax { .. } | Rule::Nadam { .. } | Rule::Ftrl { .. } | Rule::Lamb { .. } => 2,
            Rule::Adafactor { .. } => {
                return match shape {
                    [lead @ .., m, n] => {
                        let (r, mut c) = ([lead, &[*m]].concat(), lead.to_vec());
                        c.push(*n);
                        vec![r, c, shape.to_vec()]
                    }
                    _ => vec![shape.to_vec()],
                };
            }
        };
        vec![shape.to_vec(); count]
    }
}

/// One variable's update: the parameter, its gradient, its slots, its shape and its decoupled
/// weight decay (`θ ← θ − θ·wd·lr` before the rule, 0 for none).
pub struct VarUpdate<'a, T> {
    pub param: &'a mut [T],
    pub grad: &'a [T],
    pub slots: Vec<&'a mut [T]>,
    pub shape: Vec<usize>,
    pub weight_decay: f64,
}

/// Elements per piece of work (a piece never spans two variables).
const PIECE: usize = 1 << 14;

/// Coefficients of one step, in the variables' precision (as Keras computes them in float32).
#[derive(Clone, Copy)]
struct Coef<T> {
    lr: T,
    /// Adam: the bias-corrected step size α = lr·√(1−β₂ᵗ)/(1−β₁ᵗ); Adamax: lr/(1−β₁ᵗ).
    alpha: T,
    /// Nadam: m̂ = a·m + b·g and v̂ = v / (1 − β₂ᵗ) as (a, b, 1/(1 − β₂ᵗ)).
    nadam: (T, T, T),
}

/// Apply `rule` with learning rate `learning_rate` to every variable. `iterations` is the number
/// of steps taken before this one (bias corrections use `iterations + 1`).
pub fn apply<T: Float>(rule: Rule, learning_rate: f64, iterations: u64, updates: Vec<VarUpdate<'_, T>>) -> Result<()> {
    for (i, u) in updates.iter().enumerate() {
        let len: usize = u.shape.iter().product();
        if u.param.len() != len || u.grad.len() != len {
            return Err(Error::Shape(format!(
                "optimizer update: variable {i} of shape {:?} has {} elements and its gradient {}",
                u.shape,
                u.param.len(),
                u.grad.len()
            )));
        }
        let shapes = rule.slot_shapes(&u.shape);
        if u.slots.len() != shapes.len() || u.slots.iter().zip(&shapes).any(|(s, shape)| s.len() != shape.iter().product::<usize>()) {
            return Err(Error::Shape(format!("optimizer update: variable {i} of shape {:?} needs slot variables of shapes {shapes:?}", u.shape)));
        }
    }
    let lr = T::c(learning_rate);
    let t = T::c(iterations as f64 + 1.0);
    match rule {
        Rule::Lamb { beta_1, beta_2, epsilon } => {
            let (inv_c1, inv_c2) = (T::one() / (T::one() - T::c(beta_1).powf(t)), T::one() / (T::one() - T::c(beta_2).powf(t)));
            lamb::apply(lamb::Hyper { lr, one_b1: T::c(1.0 - beta_1), one_b2: T::c(1.0 - beta_2), inv_c1, inv_c2, eps: T::c(epsilon) }, updates);
            return Ok(());
        }
        Rule::Adafactor { beta_2_decay, epsilon_1, epsilon_2, clip_threshold } => {
            // Keras: ρ = min(lr, 1/√t) (its `relative_step` clamp gives the same), β₂ₜ = 1 − t^decay.
            let rho = lr.min(T::one() / t.sqrt());
            let beta = T::one() - t.powf(T::c(beta_2_decay));
            adafactor::apply(adafactor::Hyper { rho, beta, eps1: T::c(epsilon_1), eps2: T::c(epsilon_2), clip: T::c(clip_threshold), lr }, updates);
            return Ok(());
        }
        _ => {}
    }
    let alpha = match rule {
        Rule::Adam { beta_1, beta_2, .. } => lr * (T::one() - T::c(beta_2).powf(t)).sqrt() / (T::one() - T::c(beta_1).powf(t)),
        Rule::Adamax { beta_1, .. } => lr / (T::one() - T::c(beta_1).powf(t)),
        _ => lr,
    };
    let nadam = match rule {
        Rule::Nadam { beta_1, beta_2, u_product, .. } => {
            // Keras: μ_t = β₁(1 − ½·0.96ᵗ), m̂ = μ_{t+1}·m/(1 − Πμ·μ_{t+1}) + (1 − μ_t)·g/(1 − Πμ).
            let decay = T::c(0.96);
            let (b1, up) = (T::c(beta_1), T::c(u_product));
            let u_t = b1 * (T::one() - T::c(0.5) * decay.powf(t));
            let u_next = b1 * (T::one() - T::c(0.5) * decay.powf(t + T::one()));
            (u_next / (T::one() - up * u_next), (T::one() - u_t) / (T::one() - up), T::one() / (T::one() - T::c(beta_2).powf(t)))
        }
        _ => (T::zero(), T::zero(), T::zero()),
    };
    let coef = Coef { lr, alpha, nadam };
    let (mut pieces, total) = split(updates);
    for_pieces(&mut pieces, total, |p| update_piece(rule, coef, p));
    Ok(())
}

/// A run of at most `PIECE` elements of one variable (`var`: its index in the update list).
struct Piece<'a, T> {
    var: usize,
    param: &'a mut [T],
    grad: &'a [T],
    slots: Vec<&'a mut [T]>,
    wd: T,
}

/// Cut every variable (and its same-shaped slots) into pieces; also returns the element total.
fn split<T: Float>(updates: Vec<VarUpdate<'_, T>>) -> (Vec<Piece<'_, T>>, usize) {
    let mut pieces = Vec::new();
    let mut total = 0usize;
    for (var, u) in updates.into_iter().enumerate() {
        total += u.param.len();
        let wd = T::c(u.weight_decay);
        let mut slot_chunks: Vec<std::slice::ChunksMut<'_, T>> = u.slots.into_iter().map(|s| s.chunks_mut(PIECE)).collect();
        for (param, grad) in u.param.chunks_mut(PIECE).zip(u.grad.chunks(PIECE)) {
            let slots = slot_chunks.iter_mut().map(|c| c.next().unwrap_or_default()).collect();
            pieces.push(Piece { var, param, grad, slots, wd });
        }
    }
    (pieces, total)
}

/// Run `f` on every piece, in parallel when there is enough work; results come back in piece
/// order (so sums combined from them do not depend on the thread count).
fn for_pieces<P: Send, R: Send>(pieces: &mut [P], total: usize, f: impl Fn(&mut P) -> R + Sync + Send) -> Vec<R> {
    if pieces.len() > 1 && total >= 2 * PIECE && num_threads() > 1 {
        par_map_mut(pieces, f)
    } else {
        pieces.iter_mut().map(f).collect()
    }
}

/// `Σ f(a[i], b[i])` with 8 independent accumulators (one vector register), added up in lane
/// order at the end: LLVM vectorizes this shape fully, while a tree of lane pairs at the end
/// makes it split the loop into half-width vectors and shuffles. Inline it into a
/// `multiversion!` kernel to get the vector build.
#[inline(always)]
fn sum_pairs<T: Float>(a: &[T], b: &[T], f: impl Fn(T, T) -> T) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::zero(); 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for j in 0..8 {
            acc[j] = acc[j] + f(x[j], y[j]);
        }
    }
    let mut s = T::zero();
    for a in acc {
        s = s + a;
    }
    for k in n - n % 8..n {
        s = s + f(a[k], b[k]);
    }
    s
}

/// `Σ f(x[i])`, as `sum_pairs`.
#[inline(always)]
fn sum_map<T: Float>(x: &[T], f: impl Fn(T) -> T) -> T {
    sum_pairs(x, x, |v, _| f(v))
}

fn update_piece<T: Float>(rule: Rule, c: Coef<T>, p: &mut Piece<'_, T>) {
    let Piece { param, grad, slots, wd, .. } = p;
    let (param, grad, wd) = (&mut **param, *grad, *wd);
    if wd != T::zero() {
        decay(param, wd * c.lr);
    }
    match rule {
        Rule::Sgd { momentum, nesterov } => match slots.as_mut_slice() {
            [] => sgd(param, grad, c.lr),
            [m] => sgd_momentum(param, grad, m, c.lr, T::c(momentum), nesterov),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Adam { beta_1, beta_2, epsilon, .. } => {
            let (b1, b2, eps) = (T::c(beta_1), T::c(beta_2), T::c(epsilon));
            match slots.as_mut_slice() {
                [m, v] => adam(param, grad, m, v, c.alpha, b1, b2, eps),
                [m, v, v_hat] => adam_amsgrad(param, grad, m, v, v_hat, c.alpha, b1, b2, eps),
                _ => unreachable!("slot count checked in apply"),
            }
        }
        Rule::RmsProp { rho, momentum, epsilon, centered } => {
            let (rho, mom, eps) = (T::c(rho), T::c(momentum), T::c(epsilon));
            let mut slots = slots.iter_mut();
            let velocity = slots.next().expect("slot count checked in apply");
            let momentum_slot: &mut [T] = if momentum > 0.0 { slots.next().map(|s| &mut **s).unwrap_or_default() } else { &mut [] };
            let average: &mut [T] = if centered { slots.next().map(|s| &mut **s).unwrap_or_default() } else { &mut [] };
            rmsprop(param, grad, velocity, average, momentum_slot, c.lr, rho, mom, eps);
        }
        Rule::Adagrad { epsilon } => match slots.as_mut_slice() {
            [acc] => adagrad(param, grad, acc, c.lr, T::c(epsilon)),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Adadelta { rho, epsilon } => match slots.as_mut_slice() {
            [acc_grad, acc_delta] => adadelta(param, grad, acc_grad, acc_delta, c.lr, T::c(rho), T::c(epsilon)),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Adamax { beta_1, beta_2, epsilon } => match slots.as_mut_slice() {
            [m, u] => adamax(param, grad, m, u, c.alpha, T::c(beta_1), T::c(beta_2), T::c(epsilon)),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Nadam { beta_1, beta_2, epsilon, .. } => match slots.as_mut_slice() {
            [m, v] => nadam(param, grad, m, v, c.lr, c.nadam, T::c(beta_1), T::c(beta_2), T::c(epsilon)),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Lion { beta_1, beta_2 } => match slots.as_mut_slice() {
            [m] => lion(param, grad, m, c.lr, T::c(beta_1), T::c(beta_2)),
            _ => unreachable!("slot count checked in apply"),
        },
        Rule::Ftrl { learning_rate_power, l1, l2, l2_shrinkage, beta } => {
            // As Keras computes them in the variable's dtype: l2 + β/(2·lr), and the exponent −p.
            let two_l2 = T::c(2.0) * (T::c(l2) + T::c(beta) / (T::c(2.0) * c.lr));
            let k = FtrlCoef { inv_lr: T::one() / c.lr, l1: T::c(l1), two_l2, two_shrinkage: T::c(2.0 * l2_shrinkage) };
            let power = T::c(-learning_rate_power);
            match slots.as_mut_slice() {
                [acc, linear] if learning_rate_power == -0.5 => ftrl(param, grad, acc, linear, k, |x: T| x.sqrt()),
                [acc, linear] => ftrl(param, grad, acc, linear, k, |x: T| x.powf(power)),
                _ => unreachable!("slot count checked in apply"),
            }
        }
        Rule::Lamb { .. } | Rule::Adafactor { .. } => unreachable!("layer-wise rules run in their own modules"),
    }
}

#[derive(Clone, Copy)]
struct FtrlCoef<T> {
    /// 1/lr: Keras divides by lr twice per element; multiplying moves the result by an ulp and
    /// leaves one division.
    inv_lr: T,
    l1: T,
    /// 2·(l2 + β/(2·lr)).
    two_l2: T,
    two_shrinkage: T,
}

multiversion! {
    /// Keras's FTRL-proximal step; `pow(n)` is n^(−learning_rate_power).
    fn ftrl[T: Float, P: Fn(T) -> T](param: &mut [T], grad: &[T], acc: &mut [T], linear: &mut [T], k: FtrlCoef<T>, pow: P) {
        for (((p, &g), a), z) in param.iter_mut().zip(grad).zip(acc.iter_mut()).zip(linear.iter_mut()) {
            let w = *p;
            let new_acc = *a + g * g;
            let (pow_new, pow_old) = (pow(new_acc), pow(*a));
            *z = *z + ((g + k.two_shrinkage * w) - (pow_new - pow_old) * k.inv_lr * w);
            let quadratic = pow_new * k.inv_lr + k.two_l2;
            *p = (z.max(-k.l1).min(k.l1) - *z) / quadratic;
            *a = new_acc;
        }
    }
}

multiversion! {
    fn adagrad[T: Float](param: &mut [T], grad: &[T], acc: &mut [T], lr: T, eps: T) {
        for ((p, &g), a) in param.iter_mut().zip(grad).zip(acc.iter_mut()) {
            *a = *a + g * g;
            *p = *p - lr * g / (*a + eps).sqrt();
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn adadelta[T: Float](param: &mut [T], grad: &[T], acc_grad: &mut [T], acc_delta: &mut [T], lr: T, rho: T, eps: T) {
        let one_rho = T::one() - rho;
        for (((p, &g), ag), ad) in param.iter_mut().zip(grad).zip(acc_grad.iter_mut()).zip(acc_delta.iter_mut()) {
            *ag = rho * *ag + one_rho * g * g;
            let delta = -((*ad + eps).sqrt() * g) / (*ag + eps).sqrt();
            *ad = rho * *ad + one_rho * delta * delta;
            *p = *p + lr * delta;
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn adamax[T: Float](param: &mut [T], grad: &[T], m: &mut [T], u: &mut [T], alpha: T, b1: T, b2: T, eps: T) {
        let one_b1 = T::one() - b1;
        for (((p, &g), m), u) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(u.iter_mut()) {
            *m = *m + (g - *m) * one_b1;
            *u = (b2 * *u).max(g.abs());
            *p = *p - alpha * *m / (*u + eps);
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn nadam[T: Float](param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], lr: T, k: (T, T, T), b1: T, b2: T, eps: T) {
        let (one_b1, one_b2) = (T::one() - b1, T::one() - b2);
        let (a, b, inv_bias2) = k;
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = *m + (g - *m) * one_b1;
            *v = *v + (g * g - *v) * one_b2;
            let m_hat = a * *m + b * g;
            *p = *p - m_hat * lr / ((*v * inv_bias2).sqrt() + eps);
        }
    }
}

multiversion! {
    fn lion[T: Float](param: &mut [T], grad: &[T], m: &mut [T], lr: T, b1: T, b2: T) {
        for ((p, &g), m) in param.iter_mut().zip(grad).zip(m.iter_mut()) {
            let c = *m * b1 + g * (T::one() - b1);
            let sign = if c > T::zero() { T::one() } else if c < T::zero() { -T::one() } else { T::zero() };
            *p = *p - lr * sign;
            *m = *m * b2 + g * (T::one() - b2);
        }
    }
}

multiversion! {
    fn decay[T: Float](param: &mut [T], rate: T) {
        for p in param.iter_mut() {
            *p = *p - *p * rate;
        }
    }
}

multiversion! {
    fn sgd[T: Float](param: &mut [T], grad: &[T], lr: T) {
        for (p, &g) in param.iter_mut().zip(grad) {
            *p = *p - lr * g;
        }
    }
}

multiversion! {
    fn sgd_momentum[T: Float](param: &mut [T], grad: &[T], m: &mut [T], lr: T, mu: T, nesterov: bool) {
        if nesterov {
            for ((p, &g), m) in param.iter_mut().zip(grad).zip(m.iter_mut()) {
                *m = mu * *m - lr * g;
                *p = *p + (mu * *m - lr * g);
            }
        } else {
            for ((p, &g), m) in param.iter_mut().zip(grad).zip(m.iter_mut()) {
                *m = mu * *m - lr * g;
                *p = *p + *m;
            }
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn adam[T: Float](param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], alpha: T, b1: T, b2: T, eps: T) {
        let (one_b1, one_b2) = (T::one() - b1, T::one() - b2);
        for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m = *m + (g - *m) * one_b1;
            *v = *v + (g * g - *v) * one_b2;
            *p = *p - (*m * alpha) / (v.sqrt() + eps);
        }
    }
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn adam_amsgrad[T: Float](param: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], v_hat: &mut [T], alpha: T, b1: T, b2: T, eps: T) {
        let (one_b1, one_b2) = (T::one() - b1, T::one() - b2);
        for ((((p, &g), m), v), vh) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()).zip(v_hat.iter_mut()) {
            *m = *m + (g - *m) * one_b1;
            *v = *v + (g * g - *v) * one_b2;
            *vh = vh.max(*v);
            *p = *p - (*m * alpha) / (vh.sqrt() + eps);
        }
    }
}

multiversion! {
    /// `average` is empty unless centered and `momentum` empty unless momentum > 0.
    #[allow(clippy::too_many_arguments)]
    fn rmsprop[T: Float](param: &mut [T], grad: &[T], velocity: &mut [T], average: &mut [T], momentum: &mut [T], lr: T, rho: T, mom: T, eps: T) {
        let one_rho = T::one() - rho;
        let (centered, with_momentum) = (!average.is_empty(), !momentum.is_empty());
        for i in 0..param.len() {
            let g = grad[i];
            velocity[i] = rho * velocity[i] + one_rho * g * g;
            // ε inside the square root (Keras 3's RMSprop).
            let denominator = if centered {
                average[i] = rho * average[i] + one_rho * g;
                velocity[i] - average[i] * average[i] + eps
            } else {
                velocity[i] + eps
            };
            let increment = lr * g / denominator.sqrt();
            if with_momentum {
                momentum[i] = mom * momentum[i] + increment;
                param[i] = param[i] - momentum[i];
            } else {
                param[i] = param[i] - increment;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rule: Rule, lr: f64, iterations: u64, p: &mut Vec<f64>, g: &[f64], slots: &mut [Vec<f64>]) {
        let shape = vec![p.len()];
        let u = VarUpdate { param: p.as_mut_slice(), grad: g, slots: slots.iter_mut().map(|s| s.as_mut_slice()).collect(), shape, weight_decay: 0.0 };
        apply(rule, lr, iterations, vec![u]).unwrap();
    }

    #[test]
    fn sgd_plain_and_momentum() {
        let mut p = vec![1.0, 2.0];
        run(Rule::Sgd { momentum: 0.0, nesterov: false }, 0.1, 0, &mut p, &[1.0, -1.0], &mut []);
        assert_eq!(p, vec![0.9, 2.1]);
        let mut p = vec![1.0];
        let mut s = vec![vec![0.5]];
        run(Rule::Sgd { momentum: 0.9, nesterov: false }, 0.1, 0, &mut p, &[1.0], &mut s);
        // m = 0.9·0.5 − 0.1 = 0.35; θ = 1.35
        assert!((s[0][0] - 0.35).abs() < 1e-12 && (p[0] - 1.35).abs() < 1e-12);
        let mut p = vec![1.0];
        let mut s = vec![vec![0.5]];
        run(Rule::Sgd { momentum: 0.9, nesterov: true }, 0.1, 0, &mut p, &[1.0], &mut s);
        // θ += 0.9·0.35 − 0.1
        assert!((p[0] - (1.0 + 0.9 * 0.35 - 0.1)).abs() < 1e-12);
    }

    #[test]
    fn adagrad_adamax_lion_first_steps() {
        // Adagrad: a = 0.1 + 4, θ = 1 − 0.5·2/√(4.1 + ε).
        let mut p = vec![1.0];
        let mut s = vec![vec![0.1]];
        run(Rule::Adagrad { epsilon: 0.0 }, 0.5, 0, &mut p, &[2.0], &mut s);
        assert!((p[0] - (1.0 - 1.0 / 4.1f64.sqrt())).abs() < 1e-12 && (s[0][0] - 4.1).abs() < 1e-12);
        // Adamax at t=1: m = 0.1·g, u = |g|, θ −= lr·m/((1−β₁)(u)) = lr·sign(g).
        let mut p = vec![0.0];
        let mut s = vec![vec![0.0], vec![0.0]];
        run(Rule::Adamax { beta_1: 0.9, beta_2: 0.999, epsilon: 0.0 }, 0.1, 0, &mut p, &[-3.0], &mut s);
        assert!((p[0] - 0.1).abs() < 1e-12);
        // Lion: θ −= lr·sign(β₁m + (1−β₁)g); m = β₂m + (1−β₂)g.
        let mut p = vec![1.0];
        let mut s = vec![vec![-1.0]];
        run(Rule::Lion { beta_1: 0.9, beta_2: 0.99 }, 0.1, 0, &mut p, &[2.0], &mut s);
        assert!((p[0] - 1.1).abs() < 1e-12 && (s[0][0] - (-0.99 + 0.02)).abs() < 1e-12);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // At t=1 with zero slots, Adam moves each weight by ≈ lr·sign(g).
        let mut p = vec![0.0, 0.0];
        let mut s = vec![vec![0.0; 2], vec![0.0; 2]];
        run(Rule::Adam { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false }, 0.01, 0, &mut p, &[3.0, -0.5], &mut s);
        assert!((p[0] + 0.01).abs() < 1e-7 && (p[1] - 0.01).abs() < 1e-7, "{p:?}");
        assert!((s[0][0] - 0.3).abs() < 1e-12 && (s[1][0] - 0.009).abs() < 1e-12);
    }

    #[test]
    fn rmsprop_centered_with_momentum() {
        let mut p = vec![1.0];
        let mut s = vec![vec![0.0], vec![0.0], vec![0.0]];
        run(Rule::RmsProp { rho: 0.9, momentum: 0.5, epsilon: 1e-7, centered: true }, 0.1, 0, &mut p, &[2.0], &mut s);
        let v: f64 = 0.1 * 4.0;
        let a: f64 = 0.1 * 2.0;
        let inc = 0.1 * 2.0 / (v - a * a + 1e-7).sqrt();
        assert!((s[0][0] - v).abs() < 1e-12 && (s[1][0] - inc).abs() < 1e-12 && (s[2][0] - a).abs() < 1e-12);
        assert!((p[0] - (1.0 - inc)).abs() < 1e-12);
    }

    #[test]
    fn pieces_cover_big_variables_and_agree_across_threads() {
        let n = 3 * PIECE + 17;
        let g: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        let rule = Rule::Adam { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: true };
        let mut results = Vec::new();
        for threads in [1, 2] {
            crate::runtime::set_num_threads(threads);
            let mut p = vec![1.0f32; n];
            let mut s = vec![vec![0.0f32; n]; 3];
            let u = VarUpdate { param: &mut p, grad: &g, slots: s.iter_mut().map(|s| s.as_mut_slice()).collect(), shape: vec![n], weight_decay: 0.01 };
            apply(rule, 0.001, 4, vec![u]).unwrap();
            assert!(p.iter().all(|&v| v != 1.0 || g[0] == 0.0));
            results.push(p);
        }
        crate::runtime::set_num_threads(0);
        assert_eq!(results[0], results[1]);
    }

    #[test]
    fn ftrl_first_step() {
        let mut p = vec![0.5];
        let mut s = vec![vec![0.1], vec![0.0]];
        let rule = Rule::Ftrl { learning_rate_power: -0.5, l1: 0.0, l2: 0.0, l2_shrinkage: 0.0, beta: 0.0 };
        run(rule, 0.1, 0, &mut p, &[1.0], &mut s);
        let linear = 1.0 - (1.1f64.sqrt() - 0.1f64.sqrt()) / 0.1 * 0.5;
        assert!((s[0][0] - 1.1).abs() < 1e-12 && (s[1][0] - linear).abs() < 1e-12);
        assert!((p[0] + linear / (1.1f64.sqrt() / 0.1)).abs() < 1e-12, "{p:?}");
        // A large enough l1 zeroes the weight; learning_rate_power = 0 takes the powf path.
        let mut p = vec![0.5];
        let mut s = vec![vec![0.1], vec![0.0]];
        run(Rule::Ftrl { learning_rate_power: 0.0, l1: 10.0, l2: 0.0, l2_shrinkage: 0.0, beta: 0.0 }, 0.1, 0, &mut p, &[1.0], &mut s);
        assert!(p[0] == 0.0 && (s[1][0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn lamb_scales_the_adam_direction_by_the_trust_ratio() {
        // From zero moments with ε = 0 the direction is sign(g); ‖θ‖ = 5, ‖u‖ = √2.
        let mut p = vec![3.0, 4.0];
        let mut s = vec![vec![0.0; 2], vec![0.0; 2]];
        run(Rule::Lamb { beta_1: 0.9, beta_2: 0.999, epsilon: 0.0 }, 0.1, 0, &mut p, &[1.0, -2.0], &mut s);
        let k = 0.1 * 5.0 / 2f64.sqrt();
        assert!((p[0] - (3.0 - k)).abs() < 1e-12 && (p[1] - (4.0 + k)).abs() < 1e-12, "{p:?}");
        // A zero variable keeps ratio 1.
        let mut p = vec![0.0, 0.0];
        let mut s = vec![vec![0.0; 2], vec![0.0; 2]];
        run(Rule::Lamb { beta_1: 0.9, beta_2: 0.999, epsilon: 0.0 }, 0.1, 0, &mut p, &[1.0, -2.0], &mut s);
        assert!((p[0] + 0.1).abs() < 1e-12 && (p[1] - 0.1).abs() < 1e-12, "{p:?}");
    }

    #[test]
    fn adafactor_factors_the_second_moment_of_matrices() {
        // At t = 1, β₂ₜ = 0: r = row means of g², c = column means, v = r/mean(r)·c.
        let g = [1.0f64, 2.0, 3.0, 4.0];
        let mut p = vec![1.0, -1.0, 2.0, 0.5];
        let (mut r, mut c, mut v) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 4]);
        let rule = Rule::Adafactor { beta_2_decay: -0.8, epsilon_1: 0.0, epsilon_2: 1e-3, clip_threshold: 1.0 };
        let u = VarUpdate { param: &mut p, grad: &g, slots: vec![&mut r, &mut c, &mut v], shape: vec![2, 2], weight_decay: 0.0 };
        apply(rule, 0.5, 0, vec![u]).unwrap();
        assert_eq!((r.clone(), c.clone()), (vec![2.5, 12.5], vec![5.0, 10.0]));
        let expect_v: [f64; 4] = [2.5 / 7.5 * 5.0, 2.5 / 7.5 * 10.0, 12.5 / 7.5 * 5.0, 12.5 / 7.5 * 10.0];
        assert!(v.iter().zip(expect_v).all(|(a, b)| (a - b).abs() < 1e-12), "{v:?}");
        let u: Vec<f64> = g.iter().zip(expect_v).map(|(g, v)| g / v.sqrt()).collect();
        let rms_u = (u.iter().map(|x| x * x).sum::<f64>() / 4.0).sqrt();
        let alpha = ((1.0f64 + 1.0 + 4.0 + 0.25) / 4.0).sqrt() * 0.5;
        let p0 = [1.0, -1.0, 2.0, 0.5];
        for i in 0..4 {
            assert!((p[i] - (p0[i] - alpha * u[i] / rms_u.max(1.0))).abs() < 1e-12, "{p:?}");
        }
    }

    #[test]
    fn layerwise_rules_agree_across_threads() {
        // Big matrices (row blocks), many small ones (groups of matrices) and a vector.
        let shapes: [&[usize]; 3] = [&[3, 300, 200], &[50, 20, 30], &[3 * PIECE + 5]];
        let rules = [
            Rule::Adafactor { beta_2_decay: -0.8, epsilon_1: 1e-30, epsilon_2: 1e-3, clip_threshold: 1.0 },
            Rule::Lamb { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 },
        ];
        for rule in rules {
            let mut results = Vec::new();
            for threads in [1, 3] {
                crate::runtime::set_num_threads(threads);
                let mut params: Vec<Vec<f32>> = shapes.iter().map(|s| (0..s.iter().product()).map(|i: usize| ((i * 31) % 97) as f32 / 50.0 - 1.0).collect()).collect();
                let grads: Vec<Vec<f32>> = shapes.iter().map(|s| (0..s.iter().product()).map(|i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect()).collect();
                let mut slots: Vec<Vec<Vec<f32>>> = shapes.iter().map(|s| rule.slot_shapes(s).iter().map(|t| vec![0.0f32; t.iter().product()]).collect()).collect();
                for step in 0..2 {
                    let updates = params
                        .iter_mut()
                        .zip(&grads)
                        .zip(slots.iter_mut())
                        .zip(shapes)
                        .map(|(((p, g), s), shape)| VarUpdate { param: p, grad: g, slots: s.iter_mut().map(|v| v.as_mut_slice()).collect(), shape: shape.to_vec(), weight_decay: 0.01 })
                        .collect();
                    apply(rule, 0.01, step, updates).unwrap();
                }
                assert!(params.iter().flatten().all(|v| v.is_finite()));
                results.push((params, slots));
            }
            crate::runtime::set_num_threads(0);
            assert!(results[0] == results[1], "{rule:?} depends on the thread count");
        }
    }

    #[test]
    fn mismatched_sizes_are_errors() {
        let mut p = vec![0.0f64; 3];
        let u = VarUpdate { param: &mut p, grad: &[1.0, 2.0], slots: vec![], shape: vec![3], weight_decay: 0.0 };
        assert!(apply(Rule::Sgd { momentum: 0.0, nesterov: false }, 0.1, 0, vec![u]).is_err());
        // Adafactor's factored slots of a matrix are its row and column means, not full size.
        let (mut p, mut r, mut c, mut v) = (vec![0.0f64; 6], vec![0.0; 6], vec![0.0; 3], vec![0.0; 6]);
        let u = VarUpdate { param: &mut p, grad: &[1.0; 6], slots: vec![&mut r, &mut c, &mut v], shape: vec![2, 3], weight_decay: 0.0 };
        let rule = Rule::Adafactor { beta_2_decay: -0.8, epsilon_1: 1e-30, epsilon_2: 1e-3, clip_threshold: 1.0 };
        assert!(apply(rule, 0.1, 0, vec![u]).is_err());
    }
}
