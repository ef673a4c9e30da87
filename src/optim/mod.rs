//! Fused optimizer updates: one call updates every variable of a model in place (parameters and
//! slot variables), with Keras 3's update rules. The work is split into fixed-size pieces across
//! all variables at once, so many small variables (biases) and a few big ones (kernels) share the
//! pool evenly; the arithmetic is elementwise, so the result does not depend on the thread count.

use crate::error::{Error, Result};
use crate::multiversion;
use crate::runtime::{num_threads, par_for_each};
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
}

impl Rule {
    /// Slot variables each parameter needs, in the order `update` expects them.
    pub fn slot_count(&self) -> usize {
        match *self {
            Rule::Sgd { momentum, .. } => usize::from(momentum != 0.0),
            Rule::Adam { amsgrad, .. } => 2 + usize::from(amsgrad),
            Rule::RmsProp { momentum, centered, .. } => 1 + usize::from(momentum > 0.0) + usize::from(centered),
            Rule::Adagrad { .. } | Rule::Lion { .. } => 1,
            Rule::Adadelta { .. } | Rule::Adamax { .. } | Rule::Nadam { .. } => 2,
        }
    }
}

/// One variable's update: the parameter, its gradient, its slots and its decoupled weight decay
/// (`θ ← θ − θ·wd·lr` before the rule, 0 for none).
pub struct VarUpdate<'a, T> {
    pub param: &'a mut [T],
    pub grad: &'a [T],
    pub slots: Vec<&'a mut [T]>,
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
/// of steps taken before this one (Adam's bias correction uses `iterations + 1`).
pub fn apply<T: Float>(rule: Rule, learning_rate: f64, iterations: u64, updates: Vec<VarUpdate<'_, T>>) -> Result<()> {
    let slots = rule.slot_count();
    for (i, u) in updates.iter().enumerate() {
        if u.grad.len() != u.param.len() {
            return Err(Error::Shape(format!(
                "optimizer update: variable {i} has {} elements but its gradient has {}",
                u.param.len(),
                u.grad.len()
            )));
        }
        if u.slots.len() != slots || u.slots.iter().any(|s| s.len() != u.param.len()) {
            return Err(Error::Shape(format!("optimizer update: variable {i} needs {slots} slot variables of its own size")));
        }
    }
    let lr = T::c(learning_rate);
    let t = T::c(iterations as f64 + 1.0);
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

    let mut pieces: Vec<Piece<'_, T>> = Vec::new();
    let mut total = 0usize;
    for u in updates {
        total += u.param.len();
        let wd = T::c(u.weight_decay);
        let mut slot_chunks: Vec<std::slice::ChunksMut<'_, T>> = u.slots.into_iter().map(|s| s.chunks_mut(PIECE)).collect();
        for (param, grad) in u.param.chunks_mut(PIECE).zip(u.grad.chunks(PIECE)) {
            let slots = slot_chunks.iter_mut().map(|c| c.next().unwrap_or_default()).collect();
            pieces.push(Piece { param, grad, slots, wd });
        }
    }
    let run = |p: Piece<'_, T>| update_piece(rule, coef, p);
    if pieces.len() > 1 && total >= 2 * PIECE && num_threads() > 1 {
        par_for_each(pieces, run);
    } else {
        pieces.into_iter().for_each(run);
    }
    Ok(())
}

struct Piece<'a, T> {
    param: &'a mut [T],
    grad: &'a [T],
    slots: Vec<&'a mut [T]>,
    wd: T,
}

fn update_piece<T: Float>(rule: Rule, c: Coef<T>, p: Piece<'_, T>) {
    let Piece { param, grad, mut slots, wd } = p;
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
            let mut slots = slots.into_iter();
            let velocity = slots.next().expect("slot count checked in apply");
            let momentum_slot: &mut [T] = if momentum > 0.0 { slots.next().unwrap_or_default() } else { &mut [] };
            let average: &mut [T] = if centered { slots.next().unwrap_or_default() } else { &mut [] };
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
        let u = VarUpdate { param: p.as_mut_slice(), grad: g, slots: slots.iter_mut().map(|s| s.as_mut_slice()).collect(), weight_decay: 0.0 };
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
            let u = VarUpdate { param: &mut p, grad: &g, slots: s.iter_mut().map(|s| s.as_mut_slice()).collect(), weight_decay: 0.01 };
            apply(rule, 0.001, 4, vec![u]).unwrap();
            assert!(p.iter().all(|&v| v != 1.0 || g[0] == 0.0));
            results.push(p);
        }
        crate::runtime::set_num_threads(0);
        assert_eq!(results[0], results[1]);
    }

    #[test]
    fn mismatched_sizes_are_errors() {
        let mut p = vec![0.0f64; 3];
        let u = VarUpdate { param: &mut p, grad: &[1.0, 2.0], slots: vec![], weight_decay: 0.0 };
        assert!(apply(Rule::Sgd { momentum: 0.0, nesterov: false }, 0.1, 0, vec![u]).is_err());
    }
}
