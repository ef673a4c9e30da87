//! Reductions (mean, max, min, prod, var, std, logsumexp, argmax, argmin), softmax/log_softmax
//! and fused losses, one module per op.
