"""Neural-network building blocks on ``fastgrad.Tensor``, in PyTorch's shape.

``Module`` finds its parameters (Tensors that require gradients) and sub-modules among its
attributes, in the order they were set; ``Linear`` computes ``x @ weight + bias`` with
``weight`` of shape ``(n_in, n_out)``; ``MLP`` stacks them with activations (and can
standardize its input). Models save to and load from ``.npz`` files: plain arrays, never
pickle, so loading a model file cannot run code. An MLP's file also holds its sizes,
activations, dtype, standardization statistics, loss and the fastgrad version, so
``nn.load(path)`` rebuilds it from the file alone. ``fastgrad.nn.scalar`` has the same
ideas on scalar ``Value``s.
"""
import os
from collections import OrderedDict

import numpy as np

from .._tensor import Tensor, cross_entropy, linear, mse_loss

__all__ = ["Module", "Linear", "MLP", "load", "Sequential", "Tanh", "ReLU", "Sigmoid",
           "Identity", "mse_loss", "cross_entropy", "ACTIVATIONS", "INITS", "LOSSES",
           "MODEL_FORMAT"]


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

        The file appears complete or not at all (it is written next to ``path`` and
        renamed into place) and gets the mode a plain ``open()`` would give it. Besides
        the parameters it holds the fastgrad version and what the module's class records
        about itself (an ``MLP``: everything ``nn.load`` needs to rebuild it).

        Parameters
        ----------
        path : str or os.PathLike
        **extra : array_like
            More arrays to keep in the file; ``load`` returns them.
        """
        from .. import __version__
        arrays = dict(self.state_dict())
        meta = dict(self._metadata(), fastgrad_version=__version__)
        for key, value in extra.items():
            if key in meta:
                raise ValueError(f"save: {key!r} is a name the model file uses itself; "
                                 "give the extra array another name")
            arrays[f"__{key}__"] = np.asarray(value)
        arrays.update({f"__{key}__": np.asarray(value) for key, value in meta.items()})
        save_npz(path, arrays)

    def load(self, path):
        """Set the parameters from a file written by ``save``; returns the extra arrays.

        Raises
        ------
        ValueError
            The file does not fit this module (it names the file, the parameter and both
            shapes), or is not a model file.
        KeyError
            The file has parameters the module lacks, or lacks some it has.
        """
        params, meta, extra = _read_model_file(path)
        self._check_metadata(meta, path)
        try:
            self.load_state_dict(params)
        except (KeyError, ValueError) as exc:
            message = exc.args[0] if exc.args else str(exc)
            raise type(exc)(f"{os.fspath(path)}: {message}") from None
        self._apply_metadata(meta)
        return extra

    def _metadata(self):
        """Name -> value of what the file records about the module (a hook)."""
        return {}

    def _check_metadata(self, meta, path):
        """Raise ``ValueError`` if a file's metadata does not fit this module (a hook)."""

    def _apply_metadata(self, meta):
        """Take what the file records (a hook; called after the parameters are set)."""

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


#: Version of the model file layout (``__format__`` in the file).
MODEL_FORMAT = 1


def _read_model_file(path):
    """``(parameters, metadata, extra)`` dicts from an ``.npz`` model file (no pickle)."""
    import zipfile
    where = os.fspath(path)
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            raise ValueError(f"{where}: not an .npz model file (a single .npy array)")
        with data:
            arrays = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{where}: not an .npz model file ({exc})") from None
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"{where}: not an .npz model file (numpy would have to "
                             "unpickle it, which can run code: allow_pickle=False "
                             "refuses)") from None
        raise
    params = {k: v for k, v in arrays.items() if not k.startswith("__")}
    special = {k[2:-2]: v for k, v in arrays.items() if k.startswith("__")}
    meta_names = ("format", "fastgrad_version", "sizes", "activation", "final_activation",
                  "dtype", "loss", "input_mean", "input_std")
    if "format" not in special:         # before the format: train --save's mean and std
        meta_names += ("mean", "std")
    meta = {k: v for k, v in special.items() if k in meta_names}
    extra = {k: v for k, v in special.items()
             if k not in meta_names or k in ("mean", "std")}
    return params, meta, extra


def _text(array):
    """A string stored in a model file (``""`` stands for None)."""
    value = str(np.asarray(array)[()])
    return value or None


def save_npz(path, arrays):
    """``numpy.savez`` to ``path``, atomically (a temporary file renamed into place).

    The file gets the mode a plain ``open()`` would give it (``0o666 & ~umask``).
    """
    from .._io import atomic_write
    with atomic_write(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


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
    standardize : (mean, std), optional
        Feature statistics the model applies to its input, ``(x - mean) / std``, before
        the first layer (what ``datasets.standardize`` returns as its last item). A model
        trained on standardized features then predicts from raw ones, and its file
        carries the statistics.
    loss : {"mse", "xent", None}, default None
        The loss the model is trained with; recorded in its file (informational).

    Notes
    -----
    ``save`` writes, besides the parameters, the sizes, both activations, the dtype, the
    standardization statistics, the loss and the fastgrad version; ``nn.load(path)``
    (or ``MLP.from_file(path)``) rebuilds the model from the file alone, and
    ``model.load(path)`` refuses a file whose sizes or activations differ from the
    model's.
    """

    def __init__(self, sizes, activation="tanh", final_activation=None, init="normal",
                 rng=None, dtype=np.float64, standardize=None, loss=None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, "
                             f"got {sizes}")
        _activation(activation, "activation")
        _activation(final_activation, "final_activation")
        if loss not in LOSSES:
            raise ValueError(f"MLP: loss must be one of {LOSSES}, got {loss!r}")
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
        self.loss = loss
        self.input_mean = self.input_std = None
        if standardize is not None:
            self.set_standardization(*standardize)

    def set_standardization(self, mean, std):
        """Apply ``(x - mean) / std`` to every input from now on (None, None: stop)."""
        if mean is None and std is None:
            self.input_mean = self.input_std = None
            return self
        n = self.sizes[0]
        mean, std = (np.asarray(a, dtype=np.float64) for a in (mean, std))
        if mean.shape != (n,) or std.shape != (n,):
            raise ValueError(f"MLP: standardization statistics must have shape ({n},), one "
                             f"per input feature, got mean {mean.shape} and std {std.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise ValueError("MLP: standardization needs finite means and positive finite "
                             "standard deviations")
        self.input_mean, self.input_std = mean, std
        return self

    def forward(self, x):
        if self.input_mean is not None:
            if not isinstance(x, Tensor):
                x = np.asarray(x, dtype=np.float64)
            x = (x - self.input_mean) / self.input_std
        return super().forward(x)

    @classmethod
    def from_file(cls, path):
        """The model saved in ``path``, rebuilt from the file alone (see ``nn.load``)."""
        return load(path)

    def _metadata(self):
        meta = {"format": MODEL_FORMAT, "sizes": np.array(self.sizes),
                "activation": self.activation, "final_activation": self.final_activation or "",
                "dtype": np.dtype(self.layers[0].weight.dtype).name, "loss": self.loss or ""}
        if self.input_mean is not None:
            meta.update(input_mean=self.input_mean, input_std=self.input_std)
        return meta

    def _check_metadata(self, meta, path):
        where = os.fspath(path)
        if "format" not in meta:
            return                   # a file from before the format: the parameters decide
        sizes = [int(n) for n in meta["sizes"]]
        if sizes != self.sizes:
            raise ValueError(f"{where} holds an MLP of sizes {'-'.join(map(str, sizes))}, "
                             f"this model is {'-'.join(map(str, self.sizes))}; build it "
                             f"with those sizes, or use nn.load(path)")
        for name in ("activation", "final_activation"):
            theirs, ours = _text(meta[name]), getattr(self, name)
            if theirs != ours:
                raise ValueError(f"{where} was saved with {name}={theirs!r}, this model has "
                                 f"{name}={ours!r}; predictions would be wrong: build the "
                                 "model to match, or use nn.load(path)")

    def _apply_metadata(self, meta):
        if "format" in meta:
            self.loss = _text(meta["loss"])
            mean, std = meta.get("input_mean"), meta.get("input_std")
        else:                        # fastgrad train --save before the format
            mean, std = meta.get("mean"), meta.get("std")
        self.set_standardization(mean, std)

    def extra_repr(self):
        return (f"{self.sizes}, activation={self.activation!r}, "
                f"final_activation={self.final_activation!r}")


#: The losses an ``MLP`` can record as the one it was trained with.
LOSSES = (None, "mse", "xent")


def load(path):
    """Rebuild a model saved by ``MLP.save`` (or ``fastgrad train --save``) from its file.

    The file holds the layer sizes, the activations, the dtype, the standardization
    statistics (the returned model applies them to its input), the loss it was trained
    with and the fastgrad version that wrote it; it is read with
    ``np.load(allow_pickle=False)``, so loading cannot run code.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    MLP

    Raises
    ------
    ValueError
        ``path`` is not a model file, or a model file from before fastgrad recorded the
        architecture (it holds only parameters: build the model with
        ``nn.MLP(sizes, activation=...)`` and call its ``load(path)``).
    """
    params, meta, _ = _read_model_file(path)
    where = os.fspath(path)
    if "format" not in meta:
        raise ValueError(f"{where}: a model file without its architecture (written by a "
                         "fastgrad before model files recorded it, or by Module.save of a "
                         "module that is not an MLP); build the model with "
                         "nn.MLP(sizes, activation=..., final_activation=...) and call "
                         "its .load(path)")
    if int(meta["format"]) > MODEL_FORMAT:
        raise ValueError(f"{where}: model format {int(meta['format'])} is newer than this "
                         f"fastgrad reads ({MODEL_FORMAT}); upgrade fastgrad")
    model = MLP([int(n) for n in meta["sizes"]], activation=_text(meta["activation"]),
                final_activation=_text(meta["final_activation"]),
                dtype=np.dtype(_text(meta["dtype"])))
    model.load(path)
    return model
