//! Elementwise unary ops (math and activations), one module per op.
