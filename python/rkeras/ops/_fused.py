"""Fused layer ops: one Rust call (and one backward node) per layer forward."""

from rkeras._core import dense as _dense

# Activations the dense epilogue applies itself (their derivatives need only the output).
FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")


def dense(x, kernel, bias=None, activation="linear"):
    """activation(x @ kernel + bias) over the last axis of `x`."""
    return _dense(x, kernel, bias, activation)
