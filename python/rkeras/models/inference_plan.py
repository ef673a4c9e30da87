"""The lean path for inference calls (`predict`, `predict_on_batch`, `evaluate`, `model(x)`) of
Sequential and functional models made of rkeras's own layers: the layers' `call`s run back to
back on Tensors, without `Layer.__call__`'s per-layer work (structure walks, input-spec checks,
mask bookkeeping, the call context), which costs more than the kernels for small batches.

It is taken only where it computes exactly what the generic path computes:
- every layer is a built rkeras layer (user-written layers keep the generic path), without an
  activity regularizer, and none creates a mask (Masking, Embedding(mask_zero=True), Lambda with
  `mask=`), so no mask ever flows and mask handling is a no-op;
- the model has one input, called with one array or Tensor, no `mask`, `training` False or None,
  outside any training-mode call;
- the input matches the shape the model was built for (the known dimensions), so every layer's
  input spec holds as it did when the model was built. Anything else takes the generic path,
  which also gives the usual errors.

Layers with a `_native_step()` (Dense, Conv*D, pooling, Flatten with fused activations, channels
last) describe their step to Rust instead: consecutive ones in a chain run as one
`_core.NativeChain` call (one GIL release, no per-layer Python), which at batch 1 costs less
than the Python steps it replaces.
"""

import numpy as np

from rkeras import tree
from rkeras._core import NativeChain, convert_to_tensor
from rkeras.layers.input_layer import InputLayer
from rkeras.layers.layer import Layer, _to_tensor
from rkeras.symbolic import KerasTensor

__all__ = ["inference_plan"]

# Returned by a plan that cannot run these inputs: the caller takes the generic path.
SKIP = object()


class _Native(tuple):
    """A layer's step as `NativeChain` describes it (see `Layer._native_step`s)."""


def _runnable(fns):
    """The steps as callables: each run of consecutive native steps becomes one NativeChain."""
    out, pending = [], []
    for fn in list(fns) + [None]:
        if isinstance(fn, _Native):
            pending.append(fn)
            continue
        if pending:
            out.append(NativeChain([tuple(spec) for spec in pending]).run)
            pending = []
        if fn is not None:
            out.append(fn)
    return out


def _makes_masks(layer):
    from rkeras.layers.core import Lambda
    from rkeras.layers.sequence import Embedding, Masking

    return isinstance(layer, Masking) or (isinstance(layer, Embedding) and layer.mask_zero) or (isinstance(layer, Lambda) and layer.mask is not None)


def _layer_step(layer, dtype):
    """`fn(x)` running `layer` in inference mode like `layer(x, training=False)`, a `_Native`
    step, or None."""
    from rkeras.models.functional import Functional
    from rkeras.models.sequential import Sequential

    if isinstance(layer, (Sequential, Functional)):
        plan = inference_plan(layer)
        if plan is None or plan.dtype != dtype:
            return None
        return plan.run_tensor
    if not layer.built or layer.activity_regularizer is not None or _makes_masks(layer):
        return None
    cls = type(layer)
    if not cls.__module__.startswith("rkeras.layers.") or cls.__call__ is not Layer.__call__:
        return None
    if layer.autocast and layer.compute_dtype != dtype:
        return None
    native = getattr(layer, "_native_step", None)
    if native is not None:
        spec = native()
        if spec is not None:
            return _Native(spec)
    call = layer.call
    if layer._signature()[0]:
        return lambda x: call(x, training=False)
    return call


class _Plan:
    """Steps over value slots: slot 0 is the input; each step reads its argument slot(s) and
    writes its output slot(s)."""

    def __init__(self, model, input_tensor, steps, output_slots, outputs_struct):
        self.model = model
        self.dtype = input_tensor.dtype if input_tensor.dtype in ("float32", "float64") else None
        self.np_dtype = np.dtype(input_tensor.dtype)
        self.shape = tuple(input_tensor.shape)
        # The non-batch dimensions the input must have; when all are known, the input's shape
        # after the batch dimension must equal `tail` (one tuple comparison).
        self.known = [(i, size) for i, size in enumerate(self.shape) if i > 0 and size is not None]
        self.tail = self.shape[1:] if len(self.known) == len(self.shape) - 1 else None
        self.output_slots = output_slots
        self.outputs_struct = outputs_struct
        self.slot_count = 1 + sum(len(outs) for _, _, outs in steps)
        # A plain chain (each step reads the previous step's single output): no slots needed,
        # and consecutive native steps run as one call.
        is_chain = outputs_struct is None and all(args == i and outs == [i + 1] for i, (_, args, outs) in enumerate(steps))
        self.chain = _runnable(fn for fn, _, _ in steps) if is_chain else None
        # Otherwise slots; each native step is then a chain of one.
        self.steps = None if is_chain else [(_runnable([fn])[0], args, outs) for fn, args, outs in steps]
        # A NativeChain takes the array itself (zero copy), so the common case needs no Tensor.
        self.array_in = bool(self.chain) and isinstance(getattr(self.chain[0], "__self__", None), NativeChain)

    def run(self, x):
        if type(x) is np.ndarray and x.dtype == self.np_dtype:
            if not self.array_in:
                x = convert_to_tensor(x)  # the common case, without `_to_tensor`'s checks
        elif isinstance(x, (KerasTensor, list, tuple, dict)):
            return SKIP
        else:
            x = _to_tensor(x, self.dtype)
        shape = x.shape
        if self.tail is not None:
            if shape[1:] != self.tail or not shape:
                return SKIP
        elif len(shape) != len(self.shape) or any(shape[i] != size for i, size in self.known):
            return SKIP
        return self.run_tensor(x)

    def run_tensor(self, x):
        if self.chain is not None:
            for fn in self.chain:
                x = fn(x)
            return x
        slots = [None] * self.slot_count
        slots[0] = x
        for fn, args, outs in self.steps:
            value = fn(slots[args] if isinstance(args, int) else [slots[i] for i in args])
            if len(outs) == 1 and not isinstance(value, (list, tuple, dict)):
                slots[outs[0]] = value
            else:
                for slot, v in zip(outs, tree.flatten(value)):
                    slots[slot] = v
        if self.outputs_struct is None:
            return slots[self.output_slots[0]]
        return tree.pack_sequence_as(self.outputs_struct, [slots[i] for i in self.output_slots])


def _sequential_plan(model):
    functional = model._functional
    if functional is None or len(functional._inputs) != 1:
        return None
    input_tensor = functional._inputs[0]
    dtype = input_tensor.dtype if input_tensor.dtype in ("float32", "float64") else None
    steps = []
    for i, layer in enumerate(layer for layer in model._stack if not isinstance(layer, InputLayer)):
        fn = _layer_step(layer, dtype)
        if fn is None:
            return None
        steps.append((fn, i, [i + 1]))
    return _Plan(model, input_tensor, steps, [len(steps)], None)


def _functional_plan(model):
    if len(model._inputs) != 1:
        return None
    input_tensor = model._inputs[0]
    dtype = input_tensor.dtype if input_tensor.dtype in ("float32", "float64") else None
    slot_of = {id(input_tensor): 0}
    steps = []
    for node in model._nodes:
        if node.call_kwargs and (set(node.call_kwargs) != {"training"} or node.call_kwargs["training"]):
            return None
        if len(node.call_args) != 1:
            return None
        arg = node.call_args[0]
        if isinstance(arg, KerasTensor):
            if id(arg) not in slot_of:
                return None
            args = slot_of[id(arg)]
        elif isinstance(arg, (list, tuple)) and arg and all(isinstance(a, KerasTensor) and id(a) in slot_of for a in arg):
            args = [slot_of[id(a)] for a in arg]
        else:
            return None
        fn = _layer_step(node.operation, dtype)
        if fn is None:
            return None
        outs = []
        for kt in node.outputs:
            slot_of[id(kt)] = len(slot_of)
            outs.append(slot_of[id(kt)])
        steps.append((fn, args, outs))
    if any(id(t) not in slot_of for t in model._outputs):
        return None
    return _Plan(model, input_tensor, steps, [slot_of[id(t)] for t in model._outputs], model._outputs_struct)


def inference_plan(model):
    """The model's plan (cached), or None when its calls must take the generic path."""
    cached = model.__dict__.get("_inference_plan_cache")
    if cached is not None:
        return cached or None
    if not model.built:
        return None
    from rkeras.models.functional import Functional
    from rkeras.models.sequential import Sequential

    if type(model) is Sequential:
        plan = _sequential_plan(model)
    elif type(model) is Functional:
        plan = _functional_plan(model)
    else:
        plan = None
    object.__setattr__(model, "_inference_plan_cache", plan or False)
    return plan
