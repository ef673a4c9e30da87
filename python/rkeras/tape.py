"""`GradientTape`, with TensorFlow's interface."""

import contextlib

from rkeras import _core, tree
from rkeras import ops


class GradientTape:
    """Records ops on watched tensors (and, by default, trainable variables) for differentiation.

    with rkeras.GradientTape() as tape:
        loss = ops.sum(ops.square(w * x))
    grads = tape.gradient(loss, [w])
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._tape = _core._Tape(persistent, watch_accessed_variables)
        self._persistent = persistent
        self._recording = False

    def __enter__(self):
        self._tape.push()
        self._recording = True
        return self

    def __exit__(self, *exc):
        self._tape.pop()
        self._recording = False
        return False

    def watch(self, tensor):
        """Make the tape record ops on `tensor` (a tensor, variable or nested structure of them)."""
        for t in tree.flatten(tensor):
            self._tape.watch(t)

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops inside this block are not recorded."""
        _core._pause_recording()
        try:
            yield
        finally:
            _core._resume_recording()

    def reset(self):
        """Forget everything recorded so far."""
        self._tape.reset()

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradient of `target` (summed if several) with respect to `sources` (same structure back).

        Sources that `target` does not depend on get None, or zeros with
        `unconnected_gradients="zero"`.
        """
        mode = getattr(unconnected_gradients, "value", unconnected_gradients)
        if mode not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}. Expected 'none' or 'zero'.")
        flat_sources = tree.flatten(sources)
        flat_targets = tree.flatten(target)
        seeds = None if output_gradients is None else tree.flatten(output_gradients)
        grads = self._tape.gradient(flat_targets, flat_sources, seeds)
        if mode == "zero":
            grads = [ops.zeros_like(s) if g is None else g for g, s in zip(grads, flat_sources)]
        return tree.pack_sequence_as(sources, grads)
