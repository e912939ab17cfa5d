"""A scalar neural network on ``Value``, in micrograd's shape: Neuron, Layer, MLP.

Every weight is a ``Value``; a forward pass records one tape node per multiply, add and
activation, which makes these models small and slow by design: they are for learning
how backpropagation works, for drawing, and for benchmarks against micrograd. The
``value`` argument picks the engine (``fastgrad.Value`` or ``fastgrad.reference.Value``).
"""
import random

from .._scalar import Value

__all__ = ["Neuron", "Layer", "MLP"]


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
