"""Neural-network building blocks on ``fastgrad.Tensor``, in PyTorch's shape.

``Module`` finds its parameters (Tensors that require gradients) and sub-modules among its
attributes, in the order they were set; ``Linear`` computes ``x @ weight + bias`` with
``weight`` of shape ``(n_in, n_out)``; ``MLP`` stacks them with activations. Models save
to and load from ``.npz`` files: plain arrays, never pickle, so loading a model file
cannot run code. ``fastgrad.nn.scalar`` has the same ideas on scalar ``Value``s.
"""
import os
from collections import OrderedDict

import numpy as np

from .._tensor import Tensor, cross_entropy, linear, mse_loss

__all__ = ["Module", "Linear", "MLP", "Sequential", "Tanh", "ReLU", "Sigmoid", "Identity",
           "mse_loss", "cross_entropy", "ACTIVATIONS", "INITS"]


class Module:
    """Base class: parameters, sub-modules, train/eval mode, state dicts and files."""

    training = True

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, x):
        return self.forward(x)

    # ---- parameters ---------------------------------------------------------------------

    def named_parameters(self, prefix=""):
        """``(name, Tensor)`` pairs, sub-modules' included, in the order they were set."""
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad:
                yield prefix + name, value
            elif isinstance(value, Module):
                yield from value.named_parameters(f"{prefix}{name}.")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{name}.{i}.")

    def parameters(self):
        """The parameters (Tensors that require gradients), as a list."""
        return [p for _, p in self.named_parameters()]

    def modules(self):
        """This module and every module inside it."""
        yield self
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Module):
                    yield from item.modules()

    def zero_grad(self):
        """Forget the accumulated gradients (``.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        """Training mode (the default); returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode; returns self."""
        return self.train(False)

    # ---- state ---------------------------------------------------------------------------

    def state_dict(self):
        """Parameter name -> a copy of its array."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state):
        """Set every parameter from ``state`` (names and shapes must match exactly)."""
        params = OrderedDict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if missing or unexpected:
            raise KeyError(f"state does not fit {type(self).__name__}: missing "
                           f"{missing or 'nothing'}, unexpected {unexpected or 'nothing'}")
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"state for {name!r} has shape {value.shape}, the "
                                 f"parameter has shape {p.shape}")
            p.data = value.astype(p.dtype, copy=True)
        return self

    def save(self, path, **extra):
        """Write the parameters (and ``extra`` arrays) to an ``.npz`` file, atomically.

        The file appears complete or not at all: it is written next to ``path`` and
        renamed into place.
        """
        arrays = dict(self.state_dict())
        for key, value in extra.items():
            arrays[f"__{key}__"] = np.asarray(value)
        save_npz(path, arrays)

    def load(self, path):
        """Set the parameters from a file written by ``save``; returns the extra arrays."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        extra = {k[2:-2]: v for k, v in arrays.items() if k.startswith("__")}
        self.load_state_dict({k: v for k, v in arrays.items() if not k.startswith("__")})
        return extra

    # ---- printing ------------------------------------------------------------------------

    def extra_repr(self):
        return ""

    def __repr__(self):
        children = [(name, value) for name, value in vars(self).items()
                    if isinstance(value, Module)]
        for name, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                children += [(f"{i}", m) for i, m in enumerate(value) if isinstance(m, Module)]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in children]
        return head + "\n" + "\n".join(lines) + "\n)"


def save_npz(path, arrays):
    """``numpy.savez`` to ``path``, atomically (a temporary file renamed into place)."""
    import tempfile
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastgrad-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---- layers ---------------------------------------------------------------------------

def _init_normal(rng, n_in, n_out, shape):
    # the reference notebook's choice, for weights and biases alike
    return rng.normal(0.0, 1.0 / np.sqrt(n_in + n_out), shape)


def _init_xavier(rng, n_in, n_out, shape):
    if len(shape) == 1:
        return np.zeros(shape)
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, shape)


def _init_he(rng, n_in, n_out, shape):
    if len(shape) == 1:
        return np.zeros(shape)
    return rng.normal(0.0, np.sqrt(2.0 / n_in), shape)


#: Weight initialisations for ``Linear``: name -> function(rng, n_in, n_out, shape).
INITS = {"normal": _init_normal, "xavier": _init_xavier, "he": _init_he}


class Linear(Module):
    """``y = x @ weight + bias``, with ``weight`` of shape ``(n_in, n_out)``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output features.
    bias : bool, default True
    init : {"normal", "xavier", "he"}, default "normal"
        ``normal``: weights and biases drawn from N(0, 1/sqrt(n_in + n_out)) (the
        reference notebook's choice); ``xavier``: Glorot uniform weights, zero biases;
        ``he``: N(0, sqrt(2/n_in)) weights, zero biases.
    rng : numpy.random.Generator or int, optional
        Random source (or seed) for the initial values.
    dtype : numpy floating dtype, default float64
    """

    def __init__(self, n_in, n_out, bias=True, init="normal", rng=None, dtype=np.float64):
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        if init not in INITS:
            raise ValueError(f"Linear: init must be one of {sorted(INITS)}, got {init!r}")
        rng = np.random.default_rng(rng)
        draw = INITS[init]
        self.n_in, self.n_out, self.init = int(n_in), int(n_out), init
        self.weight = Tensor(draw(rng, n_in, n_out, (n_in, n_out)), requires_grad=True,
                             dtype=dtype)
        self.bias = (Tensor(draw(rng, n_in, n_out, (n_out,)), requires_grad=True, dtype=dtype)
                     if bias else None)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.n_in}, {self.n_out}, bias={self.bias is not None}, init={self.init!r}"


class _Activation(Module):
    method = ""

    def forward(self, x):
        return getattr(x, self.method)()


class Tanh(_Activation):
    """Elementwise tanh."""
    method = "tanh"


class ReLU(_Activation):
    """Elementwise max(x, 0)."""
    method = "relu"


class Sigmoid(_Activation):
    """Elementwise logistic function."""
    method = "sigmoid"


class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x


#: Activation modules by name.
ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "identity": Identity}


class Sequential(Module):
    """Modules applied in order."""

    def __init__(self, *layers):
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, got {type(layer).__name__}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]


def _activation(name, what):
    if name is None:
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"MLP: {what} must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()


class MLP(Sequential):
    """A multi-layer perceptron: Linear layers with an activation between them.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, inputs first: ``[8, 25, 10, 2]`` is 8 inputs, two hidden layers
        of 25 and 10 units, 2 outputs.
    activation : {"tanh", "relu", "sigmoid"}, default "tanh"
        After every hidden layer.
    final_activation : {"tanh", "relu", "sigmoid", None}, default None
        After the output layer; None leaves it linear (logits, for cross-entropy). The
        reference notebook uses "tanh" with a mean-squared-error loss.
    init, rng, dtype
        Passed to every ``Linear``; ``rng`` may be a seed.
    """

    def __init__(self, sizes, activation="tanh", final_activation=None, init="normal",
                 rng=None, dtype=np.float64):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, "
                             f"got {sizes}")
        _activation(activation, "activation")
        _activation(final_activation, "final_activation")
        rng = np.random.default_rng(rng)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(Linear(n_in, n_out, init=init, rng=rng, dtype=dtype))
            last = i == len(sizes) - 2
            act = _activation(final_activation if last else activation, "activation")
            if act is not None:
                layers.append(act)
        super().__init__(*layers)
        self.sizes = sizes
        self.activation, self.final_activation = activation, final_activation

    def extra_repr(self):
        return (f"{self.sizes}, activation={self.activation!r}, "
                f"final_activation={self.final_activation!r}")
