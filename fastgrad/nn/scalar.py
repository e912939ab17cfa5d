"""A scalar neural network on ``Value``, in micrograd's shape: Neuron, Layer, MLP.

Every weight is a ``Value``; a forward pass records one tape node per multiply, add and
activation, which makes these models small and slow by design: they are for learning
how backpropagation works, for drawing, and for benchmarks against micrograd. The
``value`` argument picks the engine (``fastgrad.Value`` or ``fastgrad.reference.Value``).
"""
import random

from .._scalar import Value

__all__ = ["Neuron", "Layer", "MLP", "record_loss", "parameter_values",
           "set_parameter_values"]


class _Base:
    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(_Base):
    """``act(w . x + b)`` with ``act`` relu, tanh or none (linear)."""

    def __init__(self, n_in, activation="relu", rng=None, value=Value):
        if activation not in ("relu", "tanh", None):
            raise ValueError(f"Neuron: activation must be 'relu', 'tanh' or None, got "
                             f"{activation!r}")
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.w = [value(rng.uniform(-1, 1)) for _ in range(n_in)]
        self.b = value(0.0)
        self.activation = activation

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        out = self.b
        for wi, xi in zip(self.w, x):
            out = out + wi * xi
        return getattr(out, self.activation)() if self.activation else out

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{self.activation or 'linear'}Neuron({len(self.w)})"


class Layer(_Base):
    """``n_out`` neurons reading the same inputs."""

    def __init__(self, n_in, n_out, activation="relu", rng=None, value=Value):
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        self.neurons = [Neuron(n_in, activation, rng, value) for _ in range(n_out)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(_Base):
    """Layers of neurons: ``MLP(2, [16, 16, 1])``; hidden layers relu, the last linear."""

    def __init__(self, n_in, sizes, activation="relu", rng=None, value=Value):
        rng = rng if isinstance(rng, random.Random) else random.Random(rng)
        dims = [n_in] + list(sizes)
        self.layers = [Layer(dims[i], dims[i + 1],
                             activation if i < len(sizes) - 1 else None, rng, value)
                       for i in range(len(sizes))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def record_loss(model, loss, n_in):
    """The per-sample loss of ``model``, recorded once and batched over samples.

    Parameters
    ----------
    model : Neuron, Layer or MLP (on ``fastgrad.Value``)
    loss : callable
        ``loss(output, y) -> Value`` for one sample (``output`` is what ``model(x)``
        returns, ``y`` a Value holding the target).
    n_in : int
        Inputs per sample.

    Returns
    -------
    fastgrad.BatchedFunction
        Called as ``B(P, X, Y)`` or ``B.value_and_grad(P, X, Y)`` with ``P`` the
        parameter values (``parameter_values(model)``, shared by every sample), ``X``
        of shape ``(N, n_in)`` and ``Y`` of shape ``(N,)``: per-sample losses ``(N,)``
        and gradients w.r.t. ``P`` of shape ``(N, len(P))``.

    Notes
    -----
    The model is recorded as it is now: a comparison of Values inside it becomes a
    guard (``fastgrad.BranchChanged`` where a sample would take the other branch);
    relu, tanh and linear neurons have none.
    """
    from ..function import Function
    if isinstance(n_in, bool) or not isinstance(n_in, int) or n_in < 1:
        raise ValueError(f"record_loss: n_in must be a positive int, got {n_in!r}")
    params = model.parameters()
    if not params or not all(isinstance(p, Value) for p in params):
        raise TypeError("record_loss: the model's parameters must be fastgrad.Values "
                        "(the compiled engine)")
    x = [Value(0.0) for _ in range(n_in)]
    y = Value(0.0)
    out = loss(model(x), y)
    if not isinstance(out, Value):
        raise TypeError(f"record_loss: loss must return a Value, got {type(out).__name__}")
    return Function([params, x, y], out).vmap((None, 0, 0))


def parameter_values(model):
    """The model's parameter values as a float64 array, in ``parameters()`` order."""
    import numpy as np
    return np.array([p.data for p in model.parameters()], dtype=np.float64)


def set_parameter_values(model, values):
    """Write ``values`` (one per parameter, ``parameters()`` order) into the model."""
    params = model.parameters()
    if len(values) != len(params):
        raise ValueError(f"set_parameter_values: the model has {len(params)} parameters, "
                         f"got {len(values)} values")
    for p, v in zip(params, values):
        p.data = float(v)
