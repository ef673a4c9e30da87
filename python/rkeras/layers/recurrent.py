"""Recurrent layers under Keras 3's names, arguments, defaults and weight layouts: the cells
SimpleRNNCell, LSTMCell (gates i, f, c, o), GRUCell (gates z, r, h; `reset_after`), the generic
`RNN(cell)` wrapper, StackedRNNCells, and SimpleRNN / LSTM / GRU.

A built-in cell with built-in activations runs a whole sequence as one Rust call
(`rkeras._core.rnn`: one gemm for the input projections, a small gemm and a fused gate pass per
step, and backward-through-time as one node); a single cell step is the same call on one
timestep. Any other cell (for instance one written in Python) runs the Python loop over time.

Dropout: as Keras, masks are drawn once per sequence (rates clipped to [0, 1], applied for
0 < rate < 1). One known difference: with `recurrent_dropout > 0` Keras switches to its
per-gate implementation and draws a separate input and recurrent mask for every gate, while the
fused kernel here shares one input and one recurrent mask across the gates (the same expected
rate, a different correlation between gates).
"""

from rkeras import activations, constraints, initializers, ops, random, regularizers, tree
from rkeras import _core
from rkeras.layers.core import _positive_int
from rkeras.layers.layer import InputSpec, Layer, name_scope
from rkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells"]

_FUSED_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "hard_sigmoid")


def _activation_name(fn):
    for name in _FUSED_ACTIVATIONS:
        if fn is activations.get(name):
            return name
    return None


def _rate(value, name, layer):
    """A dropout rate, clipped to [0, 1] as Keras does (a rate of 1 then disables dropout)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{layer}: `{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return min(1.0, max(0.0, float(value)))


def _active(rate):
    # As Keras: dropout applies only for 0 < rate < 1.
    return 0.0 < rate < 1.0


class _Cell(Layer):
    """Shared by the built-in cells: arguments, weights and the fused one-step call."""

    kind = None
    gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.units = _positive_int(units, "units", name)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout", name)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", name)
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)

    @property
    def state_size(self):
        return [self.units, self.units] if self.kind == "lstm" else self.units

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer {self.name!r}: the last dimension of the inputs should be defined. Found None.")
        width = self.gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, width), initializer=self.kernel_initializer, regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, width), initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_initializer(), regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def fused_activations(self):
        """(activation, recurrent_activation) names for the Rust kernel, or None."""
        act, ract = _activation_name(self.activation), _activation_name(self.recurrent_activation)
        return None if act is None or ract is None else (act, ract)

    def run_sequence(self, x, states, mask=None, recurrent_mask=None, go_backwards=False, zero_output_for_mask=False):
        """The fused sequence call: (per-step outputs, final states)."""
        act, ract = self.fused_activations()
        c0 = states[1] if self.kind == "lstm" else None
        y = _core.rnn(x, self.kernel, self.recurrent_kernel, self.bias, states[0], c0, mask, recurrent_mask, self.kind, getattr(self, "reset_after", True), act, ract, go_backwards, zero_output_for_mask)
        steps = x.shape[1]
        final = [y[:, steps]] + ([y[:, steps + 1]] if self.kind == "lstm" else [])
        return y[:, :steps], final

    # Dropout masks, as Keras's DropoutRNNCell: drawn on first use and kept (the same for every
    # timestep) until reset; RNN resets them around each sequence.
    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = random.dropout(ops.ones_like(step_input), self.dropout, seed=self.seed_generator)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = random.dropout(ops.ones_like(step_input), self.recurrent_dropout, seed=self.seed_generator)
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if training and _active(self.dropout):
            inputs = inputs * self.get_dropout_mask(inputs)
        rec_mask = None
        if training and _active(self.recurrent_dropout):
            rec_mask = self.get_recurrent_dropout_mask(states[0])
        if self.fused_activations() is None:
            h, new_states = self._step_with_ops(inputs, states, rec_mask)
        else:
            outputs, new_states = self.run_sequence(ops.expand_dims(inputs, 1), states, recurrent_mask=rec_mask)
            h = outputs[:, 0]
        # As Keras: the states come back as a list when they went in as one.
        return h, (new_states if nested or self.kind == "lstm" else new_states[0])

    def _step_with_ops(self, x, states, rec_mask):
        """One step composed of ops (any activation): the cell's equations, as Keras writes them."""
        u = self.units
        h_prev = states[0]
        h_in = h_prev if rec_mask is None else h_prev * rec_mask
        xw = ops.matmul(x, self.kernel)
        bias_in = self.bias if not (self.kind == "gru" and self.reset_after) else (None if self.bias is None else self.bias[0])
        if bias_in is not None:
            xw = xw + bias_in
        if self.kind == "simple":
            h = self.activation(xw + ops.matmul(h_in, self.recurrent_kernel))
            return h, [h]
        if self.kind == "lstm":
            z = xw + ops.matmul(h_in, self.recurrent_kernel)
            i, f = self.recurrent_activation(z[:, :u]), self.recurrent_activation(z[:, u:2 * u])
            c = f * states[1] + i * self.activation(z[:, 2 * u:3 * u])
            h = self.recurrent_activation(z[:, 3 * u:]) * self.activation(c)
            return h, [h, c]
        if self.reset_after:
            hu = ops.matmul(h_in, self.recurrent_kernel)
            if self.bias is not None:
                hu = hu + self.bias[1]
            z = self.recurrent_activation(xw[:, :u] + hu[:, :u])
            r = self.recurrent_activation(xw[:, u:2 * u] + hu[:, u:2 * u])
            hh = self.activation(xw[:, 2 * u:] + r * hu[:, 2 * u:])
        else:
            hu = ops.matmul(h_in, self.recurrent_kernel[:, :2 * u])
            z = self.recurrent_activation(xw[:, :u] + hu[:, :u])
            r = self.recurrent_activation(xw[:, u:2 * u] + hu[:, u:])
            hh = self.activation(xw[:, 2 * u:] + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * u:]))
        h = z * h_prev + (1 - z) * hh
        return h, [h]

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, s), dtype=self.compute_dtype) for s in sizes]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": serialize_keras_object(self.kernel_regularizer),
                "recurrent_regularizer": serialize_keras_object(self.recurrent_regularizer),
                "bias_regularizer": serialize_keras_object(self.bias_regularizer),
                "kernel_constraint": serialize_keras_object(self.kernel_constraint),
                "recurrent_constraint": serialize_keras_object(self.recurrent_constraint),
                "bias_constraint": serialize_keras_object(self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


class SimpleRNNCell(_Cell):
    """h = activation(x·W + b + h_prev·U)."""

    kind, gates = "simple", 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, "sigmoid", use_bias, kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("recurrent_activation")
        return config


class LSTMCell(_Cell):
    """Gates i, f, c, o in the kernel's columns; `unit_forget_bias` starts the forget bias at 1."""

    kind, gates = "lstm", 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def init(shape, dtype=None):
            return ops.concatenate([base((units,), dtype=dtype), ops.ones((units,), dtype=dtype), base((2 * units,), dtype=dtype)], axis=0)

        return init

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRUCell(_Cell):
    """Gates z, r, h; with `reset_after` (default) the bias is (2, 3·units): input and recurrent."""

    kind, gates = "gru", 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True, seed=None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config


class StackedRNNCells(Layer):
    """Several cells run one after the other at every timestep (a deep RNN in one layer)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
                raise ValueError(f"All cells must have a `call` method and a `state_size` attribute. Received cell without them: {cell!r}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return getattr(self.cells[-1], "output_size", None) or _flat_sizes(self.cells[-1].state_size)[0]

    def get_initial_state(self, batch_size=None):
        return [_initial_state(cell, batch_size) for cell in self.cells]

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                with name_scope(self.name, caller=self):
                    cell.build(shape)
                if isinstance(cell, Layer):
                    cell.built = True
            shape = shape[:-1] + (getattr(cell, "output_size", None) or _flat_sizes(cell.state_size)[0],)
        self.built = True

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, state in zip(self.cells, states):
            state = state if isinstance(state, (list, tuple)) else [state]
            inputs, cell_states = _call_cell(cell, inputs, list(state), training)
            new_states.append(cell_states)
        return inputs, new_states

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_keras_object(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_keras_object(c, custom_objects=custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def _flat_sizes(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def _initial_state(cell, batch_size):
    if hasattr(cell, "get_initial_state"):
        state = cell.get_initial_state(batch_size=batch_size)
        return list(state) if isinstance(state, (list, tuple)) else [state]
    return [ops.zeros((batch_size, s)) for s in _flat_sizes(cell.state_size)]


def _reset_dropout_masks(cells):
    for cell in cells:
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(cell, reset):
                getattr(cell, reset)()


def _call_cell(cell, inputs, states, training):
    """One step of any cell: (output, list of new states)."""
    import inspect

    kwargs = {"training": training} if "training" in inspect.signature(cell.call).parameters else {}
    output, new_states = cell(inputs, states, **kwargs) if isinstance(cell, Layer) else cell.call(inputs, states, **kwargs)
    return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]


class RNN(Layer):
    """Runs `cell` over the time axis of (batch, timesteps, features) inputs. Built-in cells with
    built-in activations run fused in Rust; any other cell runs the Python loop over time."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell!r}")
        if not hasattr(cell, "state_size"):
            raise ValueError(f"The RNN cell should have a `state_size` attribute (single integer or list of integers, one per state). Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    @property
    def state_size(self):
        return self.cell.state_size

    def build(self, sequences_shape, initial_state_shape=None, **kwargs):
        if len(sequences_shape) < 3:
            raise ValueError(f"Input 0 of layer {self.name!r} is incompatible with the layer: expected ndim=3, found ndim={len(sequences_shape)}. Full shape received: {tuple(sequences_shape)}")
        if self.stateful and sequences_shape[0] is None:
            raise ValueError(f"When using `stateful=True` in a RNN, the batch size must be static. Found dynamic batch size: sequence.shape={tuple(sequences_shape)}")
        if isinstance(self.cell, Layer) and not self.cell.built:
            with name_scope(self.name, caller=self):
                self.cell.build((sequences_shape[0],) + tuple(sequences_shape[2:]))
            self.cell.built = True
        self.built = True

    def _nest_states(self, flat):
        """The final states as Keras returns them: one entry per state, and for stacked cells one
        entry per cell (a list of its states; a bare tensor for a user cell with an integer
        `state_size` and no `get_initial_state`)."""
        if not isinstance(self.cell, StackedRNNCells):
            return list(flat)
        nested, i = [], 0
        for cell in self.cell.cells:
            n = len(_flat_sizes(cell.state_size))
            bare = isinstance(cell.state_size, int) and not hasattr(cell, "get_initial_state")
            nested.append(flat[i] if bare else list(flat[i:i + n]))
            i += n
        return nested

    def compute_output_shape(self, sequences_shape, initial_state_shape=None, **kwargs):
        out_size = getattr(self.cell, "output_size", None) or _flat_sizes(self.cell.state_size)[0]
        batch = sequences_shape[0]
        output = (batch, sequences_shape[1], out_size) if self.return_sequences else (batch, out_size)
        if not self.return_state:
            return output
        sizes = [s for state in _flat_sizes(self.cell.state_size) for s in _flat_sizes(state)]
        return [output] + self._nest_states([(batch, s) for s in sizes])

    def compute_mask(self, inputs, mask=None):
        mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(_flat_sizes(self.cell.state_size))
        return output_mask

    def get_initial_state(self, batch_size):
        return _initial_state(self.cell, batch_size)

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            for v in self.states:
                v.assign(ops.zeros_like(v))

    def _fusable(self):
        return isinstance(self.cell, _Cell) and self.cell.fused_activations() is not None

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if len(sequences.shape) != 3:
            raise ValueError(f"Layer {self.name!r} expects a 3-D input (batch, timesteps, features), received shape {tuple(sequences.shape)}")
        batch, steps = sequences.shape[0], sequences.shape[1]
        if mask is not None:
            mask = mask[0] if isinstance(mask, (list, tuple)) else mask
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(f"Layer {self.name!r}: the mask must have shape (batch, timesteps) = {(batch, steps)}, received {tuple(mask.shape)}")
        if initial_state is None:
            if self.stateful:
                if self.states is None:
                    from rkeras.variables import Variable

                    # Not tracked as weights (Keras leaves a stateful RNN's states out of `weights`
                    # and its weights files).
                    object.__setattr__(self, "states", [Variable(s, trainable=False, name="rnn_state") for s in tree.flatten(self.get_initial_state(batch))])
                elif self.states[0].shape[0] != batch:
                    raise ValueError(f"If an RNN is stateful, the batch size of the input sequences must be the same as the batch size of the initial state.\n- Expected batch size: {self.states[0].shape[0]}\n- Received batch size: {batch}")
                initial_state = list(self.states)
            else:
                initial_state = self.get_initial_state(batch)
        initial_state = [ops.cast(ops.convert_to_tensor(s), self.compute_dtype) for s in tree.flatten(initial_state)]
        expected = sum(len(_flat_sizes(s)) for s in _flat_sizes(self.cell.state_size))
        if len(initial_state) != expected:
            raise ValueError(f"Layer {self.name!r} expects {expected} initial state tensor(s) (its cell's state_size is {self.cell.state_size}), received {len(initial_state)}.")

        if self._fusable():
            outputs, states = self._fused(sequences, initial_state, mask, training)
            # The final h is the last output unless masked steps output zeros.
            last = outputs[:, -1] if self.zero_output_for_mask else states[0]
        else:
            outputs, states = self._loop(sequences, initial_state, mask, training)
            last = outputs[:, -1]
        if self.stateful:
            for variable, value in zip(self.states, states):
                variable.assign(ops.stop_gradient(value))
        output = outputs if self.return_sequences else last
        if self.return_state:
            return [output] + self._nest_states(states)
        return output

    def _fused(self, sequences, initial_state, mask, training):
        cell = self.cell
        x = sequences
        if training and _active(cell.dropout):
            keep = random.dropout(ops.ones((x.shape[0], x.shape[2]), dtype=str(x.dtype)), cell.dropout, seed=cell.seed_generator)
            x = x * ops.expand_dims(keep, 1)
        rec_mask = None
        if training and _active(cell.recurrent_dropout):
            rec_mask = random.dropout(ops.ones((x.shape[0], cell.units), dtype=str(x.dtype)), cell.recurrent_dropout, seed=cell.seed_generator)
        return cell.run_sequence(x, initial_state, mask, rec_mask, self.go_backwards, self.zero_output_for_mask)

    def _loop(self, sequences, initial_state, mask, training):
        """The generic path: the cell called at every timestep from Python. Returns the stacked
        outputs (processing order) and the flat list of final states."""
        steps = sequences.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        if isinstance(self.cell, StackedRNNCells):
            # Regroup the flat states per cell.
            states, i = [], 0
            for size in self.cell.state_size:
                n = len(_flat_sizes(size))
                states.append(initial_state[i:i + n])
                i += n
        else:
            states = initial_state
        cells = self.cell.cells if isinstance(self.cell, StackedRNNCells) else [self.cell]
        _reset_dropout_masks(cells)
        outputs = []
        for t in order:
            output, new_states = _call_cell(self.cell, sequences[:, t], states, training)
            if mask is not None:
                # Masked rows keep their states and output the previous output (or zeros).
                keep = ops.expand_dims(ops.cast(mask[:, t], output.dtype), -1)
                if self.zero_output_for_mask:
                    held = ops.zeros_like(output)
                else:
                    held = outputs[-1] if outputs else (states[-1][0] if isinstance(self.cell, StackedRNNCells) else states[0])
                output = output * keep + held * (1 - keep)
                new_states = tree.map_structure(lambda new, old: new * keep + old * (1 - keep), new_states, states)
            states = new_states
            outputs.append(output)
        _reset_dropout_masks(cells)
        return ops.stack(outputs, axis=1), list(tree.flatten(states))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
            }
        )
        if type(self) is RNN:
            config["cell"] = serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cell"] = deserialize_keras_object(config["cell"], custom_objects=custom_objects)
        return cls(**config)



class _RecurrentLayer(RNN):
    """SimpleRNN / LSTM / GRU: an RNN over their own cell, with the cell's arguments flattened
    into the layer's (as Keras, in Keras's positional order)."""

    cell_class = None

    def _setup(self, units, arguments, return_sequences, return_state, go_backwards, stateful, unroll, activity_regularizer, kwargs):
        """`arguments`: the subclass's own arguments (its `locals()`); the cell's go to the cell."""
        import inspect

        names = [p for p in inspect.signature(self.cell_class.__init__).parameters if p not in ("self", "units", "kwargs")]
        cell_args = {name: arguments[name] for name in names if name in arguments}
        kwargs.pop("input_length", None)
        if kwargs.pop("time_major", False):
            # A Keras 2 argument; `False` (in old configs) is the only layout there is.
            raise ValueError(f"{type(self).__name__}: `time_major=True` is not supported by Keras 3 layers; pass (batch, timesteps, features) inputs.")
        if "implementation" in kwargs:  # Keras's LSTM/GRU kernel choice; one implementation here.
            cell_args["implementation"] = kwargs.pop("implementation")
        cell = self.cell_class(units, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True), name=self.cell_name, **cell_args)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards, stateful=stateful, unroll=unroll, activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # units, activation, kernel, ... live on the cell.
        if name in _CELL_ATTRIBUTES and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = serialize_keras_object(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


_CELL_ATTRIBUTES = {"units", "activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "unit_forget_bias", "reset_after", "seed", "kernel", "recurrent_kernel", "bias"}


def _check_use_cudnn(use_cudnn):
    # Only validated (as Keras): the CPU kernels are the one implementation.
    if use_cudnn not in ("auto", True, False):
        raise ValueError(f"Invalid valid received for argument `use_cudnn`. Expected one of {{'auto', True, False}}. Received: use_cudnn={use_cudnn}")


class SimpleRNN(_RecurrentLayer):
    """Fully connected RNN: h_t = activation(x_t·W + b + h_{t-1}·U)."""

    cell_class, cell_name = SimpleRNNCell, "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        # Keras's SimpleRNN accepts `activity_regularizer` but never applies it (its config says
        # None); LSTM and GRU apply theirs.
        self._setup(units, locals(), return_sequences, return_state, go_backwards, stateful, unroll, None, kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("seed")  # Keras's SimpleRNN config has no seed (its cell's has).
        return config


class LSTM(_RecurrentLayer):
    """Long short-term memory; kernel (input_dim, 4·units) with gates i, f, c, o."""

    cell_class, cell_name = LSTMCell, "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        _check_use_cudnn(use_cudnn)
        self._setup(units, locals(), return_sequences, return_state, go_backwards, stateful, unroll, activity_regularizer, kwargs)
        self.use_cudnn = use_cudnn


class GRU(_RecurrentLayer):
    """Gated recurrent unit; gates z, r, h; `reset_after=True` (default) as Keras 3 / cuDNN."""

    cell_class, cell_name = GRUCell, "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False, reset_after=True, use_cudnn="auto", **kwargs):
        _check_use_cudnn(use_cudnn)
        self._setup(units, locals(), return_sequences, return_state, go_backwards, stateful, unroll, activity_regularizer, kwargs)
        self.use_cudnn = use_cudnn
