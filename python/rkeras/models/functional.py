"""Functional models: `Model(inputs, outputs)` over a graph of layer calls on KerasTensors."""

from rkeras import ops, tree
from rkeras.layers.input_layer import InputLayer
from rkeras.layers.layer import InputSpec, _to_tensor
from rkeras.layers.op_layer import OpLayer
from rkeras.models.model import Model
from rkeras.symbolic import KerasTensor

__all__ = ["Functional"]


def adjust_input_rank(x, ref_shape):
    """As Keras's Functional: an input one rank short of an input whose last axis is 1 gets that
    axis (`(N,)` feeds `Input(shape=(1,))`), one with an extra trailing axis of 1 loses it."""
    if x is None or not hasattr(x, "shape"):
        return x
    rank, ref_rank = len(x.shape), len(ref_shape)
    if rank == ref_rank:
        return x
    if rank == ref_rank + 1 and x.shape[-1] == 1:
        return ops.squeeze(_to_tensor(x, None), axis=-1)
    if rank == ref_rank - 1 and ref_rank and ref_shape[-1] == 1:
        return ops.expand_dims(_to_tensor(x, None), axis=-1)
    raise ValueError(f"Invalid input shape for input {x!r}. Expected shape {tuple(ref_shape)}, but input has incompatible shape {tuple(x.shape)}")


def map_graph(inputs, outputs):
    """Nodes in execution order, operations in Keras's order (by decreasing depth, ties by
    discovery from the outputs) and the nodes by depth (input nodes included), as Keras's
    `_build_map`/`map_graph` compute them."""
    finished, in_progress = set(), set()
    nodes_post_order = []
    op_index = {}

    def visit(tensor):
        op, node_index, _ = tensor._keras_history
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"The tensor {tensor} at layer '{op.name}' is part of a cycle.")
        op_index.setdefault(op, len(op_index))
        in_progress.add(id(node))
        if not any(tensor is i for i in inputs):
            for t in node.arguments_flat:
                if t._keras_history is None:
                    raise ValueError(f"Tensor {t} was not produced by a Keras layer; it cannot be part of a functional model.")
                visit(t)
        in_progress.discard(id(node))
        finished.add(id(node))
        nodes_post_order.append(node)

    for out in outputs:
        if not isinstance(out, KerasTensor) or out._keras_history is None:
            raise ValueError(f"All `outputs` of a functional model must be KerasTensors produced by layers. Received: {out!r}")
        visit(out)

    node_depth, op_depth = {}, {}
    for node in reversed(nodes_post_order):
        depth = max(node_depth.setdefault(id(node), 0), op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        op = t._keras_history[0]
        op_depth.setdefault(op, 0)

    # Nodes to execute: deepest first; inputs' own nodes are not executed.
    input_ids = {id(t) for t in inputs}
    by_depth = {}
    for node in nodes_post_order:
        by_depth.setdefault(node_depth[id(node)], []).append(node)
    order = []
    for depth in sorted(by_depth, reverse=True):
        for node in by_depth[depth]:
            if node.is_input or all(id(o) in input_ids for o in node.outputs):
                continue
            order.append(node)
    ops_sorted = sorted(op_depth, key=lambda op: (-op_depth[op], op_index.get(op, 0)))
    return order, ops_sorted, by_depth


class Functional(Model):
    """A model defined by its input and output KerasTensors."""

    _keras_module = "keras.src.models.functional"
    _from_config_takes_safe_mode = True  # a Lambda inside loads only with safe_mode=False

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, dict):
            for k, v in inputs.items():
                if not isinstance(v, KerasTensor):
                    raise ValueError(f"All `inputs` values must be KerasTensors. Received: inputs={inputs!r} including invalid value {v!r} of type {type(v)}")
        flat_inputs = tree.flatten(inputs)
        for t in flat_inputs:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"All `inputs` values must be KerasTensors. Received: inputs={inputs!r} including invalid value {t!r} of type {type(t)}")
        flat_outputs = tree.flatten(outputs)
        for t in flat_outputs:
            if not isinstance(t, KerasTensor):
                raise ValueError(f"All `outputs` values must be KerasTensors. Received: outputs={outputs!r} including invalid value {t!r} of type {type(t)}")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = flat_inputs
        self._outputs = flat_outputs
        self._nodes, operations, self._nodes_by_depth = map_graph(flat_inputs, flat_outputs)
        self._operations = operations
        self.built = True
        self._input_layers_meta = [t._keras_history for t in flat_inputs]
        self._output_layers_meta = [t._keras_history for t in flat_outputs]
        self.output_names = [t._keras_history[0].name for t in flat_outputs]

    # ----- structure -----------------------------------------------------------------------------
    @property
    def layers(self):
        """The graph's layers (operators applied to KerasTensors are not layers, as in Keras)."""
        return [op for op in self._operations if not isinstance(op, OpLayer)]

    @property
    def _layers(self):
        return self.layers

    @property
    def inputs(self):
        return self._inputs

    @property
    def outputs(self):
        return self._outputs

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_spec(self):
        specs = [InputSpec(shape=t.shape, allow_last_axis_squeeze=True, name=t.name) for t in self._inputs]
        return specs[0] if len(specs) == 1 else specs

    @input_spec.setter
    def input_spec(self, value):
        pass  # derived from the inputs; Keras ignores assignments too

    # ----- running -------------------------------------------------------------------------------
    def _flatten_call_inputs(self, inputs):
        if isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict):
                if len(self._inputs) == 1 and not tree.is_nested(inputs):
                    return [inputs]
                flat = tree.flatten(inputs)
                if len(flat) == len(self._inputs):
                    return flat
                raise ValueError(f"Model {self.name!r} expects a dict of inputs with keys {sorted(self._inputs_struct)}; received {type(inputs).__name__}.")
            missing = [k for k in self._inputs_struct if k not in inputs]
            if missing:
                raise ValueError(f"Model {self.name!r}: missing input(s) {missing}; expected keys {sorted(self._inputs_struct)}, received {sorted(inputs)}.")
            return [inputs[k] for k in sorted(self._inputs_struct)]
        if isinstance(inputs, dict):
            by_name = {t.name: i for i, t in enumerate(self._inputs)}
            if all(k in by_name for k in inputs) and len(inputs) == len(self._inputs):
                flat = [None] * len(self._inputs)
                for k, v in inputs.items():
                    flat[by_name[k]] = v
                return flat
            raise ValueError(f"Model {self.name!r} expects inputs named {list(by_name)}; received a dict with keys {list(inputs)}.")
        flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self._inputs)} input(s), but it received {len(flat)} input tensors. '
                f"Inputs received: {[getattr(x, 'shape', x) for x in flat]}"
            )
        return flat

    def call(self, inputs, training=None, mask=None):
        flat = [adjust_input_rank(x, kt.shape) for x, kt in zip(self._flatten_call_inputs(inputs), self._inputs)]
        return self._run_graph(flat, masks=tree.flatten(mask) if mask is not None else None)

    def _run_graph(self, flat_inputs, masks=None, symbolic=False):
        values = {}
        for i, (kt, x) in enumerate(zip(self._inputs, flat_inputs)):
            if symbolic:
                values[id(kt)] = x
                continue
            dtype = kt.dtype if kt.dtype in ("float32", "float64") else None
            x = _to_tensor(x, dtype, self.name)
            if masks is not None and i < len(masks) and masks[i] is not None:
                x._keras_mask = masks[i]
            values[id(kt)] = x
        for node in self._nodes:
            args, kwargs = tree.map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, (list(node.call_args), node.call_kwargs))
            if symbolic:
                spec_kwargs = {k: v for k, v in kwargs.items() if k != "training"}
                out = node.operation.compute_output_spec(*args, **spec_kwargs)
            else:
                out = node.operation(*args, **kwargs)
            for kt, o in zip(node.outputs, tree.flatten(out)):
                values[id(kt)] = o
        outs = [values[id(t)] for t in self._outputs]
        return tree.pack_sequence_as(self._outputs_struct, outs)

    def compute_output_spec(self, inputs, training=None, mask=None):
        flat = self._flatten_call_inputs(inputs)
        return self._run_graph(flat, symbolic=True)

    def _maybe_build(self, inputs):
        self.built = True

    def get_build_config(self):
        return {"input_shape": None}  # built from its graph, as Keras records it

    # ----- config --------------------------------------------------------------------------------
    def get_config(self):
        from rkeras.saving.serialization_lib import serialize_keras_object

        node_keys = {}
        layer_configs = []
        for op in self._operations:
            is_op = isinstance(op, OpLayer)
            entry = serialize_keras_object(op)
            entry["name"] = op.name
            nodes = []
            for node_index, node in enumerate(op._inbound_nodes):
                if not self._node_in_model(node):
                    continue
                node_keys[(id(op), node_index)] = len(nodes)
                if node.is_input:
                    continue
                nodes.append(
                    {
                        "args": serialize_keras_object(_encode_history(list(node.call_args), node_keys, keep_tuples=is_op)),
                        "kwargs": serialize_keras_object(_encode_history(_recorded_kwargs(node), node_keys, keep_tuples=is_op)),
                    }
                )
            entry["inbound_nodes"] = nodes
            layer_configs.append(entry)

        def ref(t):
            op, node_index, tensor_index = t._keras_history
            return [op.name, node_keys.get((id(op), node_index), node_index), tensor_index]

        config = {"name": self.name, "trainable": self.trainable, "layers": layer_configs}
        config["input_layers"] = _map_struct_refs(self._inputs_struct, ref)
        config["output_layers"] = _map_struct_refs(self._outputs_struct, ref)
        return config

    def _node_in_model(self, node):
        if not hasattr(self, "_node_ids"):
            ids = {id(n) for n in self._nodes}
            for t in self._inputs:
                op, idx, _ = t._keras_history
                ids.add(id(op._inbound_nodes[idx]))
            self._node_ids = ids
        return id(node) in self._node_ids

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        return functional_from_config(cls, config, custom_objects=custom_objects, safe_mode=safe_mode)



def _recorded_kwargs(node):
    """A node's keyword arguments as Keras records them: a layer whose `call` takes `mask`,
    called on one tensor without a mask, gets `mask=None`."""
    kwargs = dict(node.call_kwargs)
    op = node.operation
    if "mask" not in kwargs and not isinstance(op, OpLayer) and op._signature()[1] and len(node.arguments_flat) == 1:
        if getattr(node.arguments_flat[0], "_keras_mask", None) is None:
            kwargs["mask"] = None
    return kwargs


def _encode_history(structure, node_keys, keep_tuples=False):
    """Node arguments for the config: KerasTensors become Keras's `__keras_tensor__` records.
    With `keep_tuples` (an op's constant arguments, e.g. an index `x[:, 0]`), tuples stay
    tuples through JSON as `__tuple__` records."""

    def encode(x):
        if isinstance(x, KerasTensor):
            op, node_index, tensor_index = x._keras_history
            history = [op.name, node_keys.get((id(op), node_index), node_index), tensor_index]
            return {"class_name": "__keras_tensor__", "config": {"shape": list(x.shape), "dtype": x.dtype, "keras_history": history}}
        if isinstance(x, tuple) and keep_tuples:
            return {"class_name": "__tuple__", "config": {"value": [encode(v) for v in x]}}
        if isinstance(x, (list, tuple)):
            return [encode(v) for v in x]
        if isinstance(x, dict):
            return {k: encode(v) for k, v in x.items()}
        return x

    return encode(structure)


def _map_struct_refs(structure, ref):
    if isinstance(structure, dict):
        return {k: ref(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [ref(t) for t in tree.flatten(structure)]
    return ref(structure)


def functional_from_config(cls, config, custom_objects=None, safe_mode=True):
    """Rebuild a functional model: create every layer, then replay the recorded calls in an order
    where each call's inputs exist (Keras 3 dict nodes and Keras 2 list nodes both accepted)."""
    from rkeras.saving.serialization_lib import deserialize_keras_object

    created = {}
    pending = []
    for layer_data in config["layers"]:
        layer = deserialize_keras_object(layer_data, custom_objects=custom_objects, safe_mode=safe_mode)
        name = layer_data.get("name") or layer_data["config"].get("name")
        created[name] = layer
        nodes = layer_data.get("inbound_nodes", [])
        pending.append((layer, list(nodes)))

    outputs_by_node = {}  # (layer name, node index) -> output KerasTensors
    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            outputs_by_node[(name, 0)] = [layer._output_tensor]

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            lname, nidx, tidx = value["config"]["keras_history"]
            key = (lname, nidx)
            if key not in outputs_by_node:
                raise _NotReady()
            return outputs_by_node[key][tidx]
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            return tuple(resolve(v) for v in value["config"]["value"])
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            return deserialize_keras_object(value, custom_objects=custom_objects, safe_mode=safe_mode)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    def legacy_args(node):
        # Keras 2: [[layer_name, node_index, tensor_index, kwargs], ...]
        tensors = []
        kwargs = {}
        for item in node:
            lname, nidx, tidx = item[0], item[1], item[2]
            if len(item) > 3 and item[3]:
                kwargs.update(item[3])
            key = (lname, nidx)
            if key not in outputs_by_node:
                raise _NotReady()
            tensors.append(outputs_by_node[key][tidx])
        return ([tensors[0]] if len(tensors) == 1 else [tensors]), kwargs

    node_counts = {name: (1 if isinstance(layer, InputLayer) else 0) for name, layer in created.items()}
    progress = True
    while progress:
        progress = False
        for layer, nodes in pending:
            while nodes:
                node = nodes[0]
                try:
                    if isinstance(node, dict):
                        args = resolve(node.get("args", []))
                        # `mask=None` (Keras records it) is what a call without a mask does.
                        kwargs = {k: v for k, v in resolve(node.get("kwargs", {})).items() if not (k == "mask" and v is None)}
                    else:
                        args, kwargs = legacy_args(node)
                except _NotReady:
                    break
                out = layer(*args, **kwargs)
                outputs_by_node[(layer.name, node_counts[layer.name])] = tree.flatten(out)
                node_counts[layer.name] += 1
                nodes.pop(0)
                progress = True
    unresolved = [layer.name for layer, nodes in pending if nodes]
    if unresolved:
        raise ValueError(f"Could not rebuild the functional model: the inputs of layers {unresolved} are never produced.")

    def lookup(ref):
        lname, nidx, tidx = ref
        return outputs_by_node[(lname, nidx)][tidx]

    def refs(struct):
        if isinstance(struct, dict):
            return {k: lookup(v) for k, v in struct.items()}
        if struct and isinstance(struct[0], (list, tuple)):
            return [lookup(r) for r in struct]
        return lookup(struct)

    inputs = refs(config["input_layers"])
    outputs = refs(config["output_layers"])
    legacy = any(nodes and not isinstance(nodes[0], dict) for nodes in (d.get("inbound_nodes") for d in config["layers"]))
    if legacy:
        # Keras 2 wrote every input/output list as a list, even for one tensor.
        inputs = inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else inputs
        outputs = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
    model = cls(inputs=inputs, outputs=outputs, name=config.get("name"), trainable=config.get("trainable", True))
    return model


class _NotReady(Exception):
    pass
