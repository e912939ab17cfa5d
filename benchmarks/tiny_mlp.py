"""micrograd's demo, written once for any engine: a tiny MLP, two moons and an SGD step.

The classes take the engine's ``Value`` class as their first argument and draw their
weights from ``random.Random(seed)`` in a fixed order, so every engine starts from the
same numbers and performs the same float operations in the same order. The step is the
one in micrograd's ``demo.ipynb``: inputs wrapped in Values, a 2-16-16-1 ReLU MLP, the
SVM max-margin loss ``mean(relu(1 - y * score))`` plus ``1e-4 * sum(p * p)``, gradients
zeroed, ``backward``, then ``p.data -= lr * p.grad``.
"""
import random

import numpy as np

SEED = 1337
LEARNING_RATE = 0.5
ALPHA = 1e-4                # L2 weight


class Neuron:
    """``relu(b + sum(w_i * x_i))``, or linear, over Values of one engine."""

    def __init__(self, Value, nin, rng, nonlin=True):
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer:
    """``nout`` neurons reading the same inputs."""

    def __init__(self, Value, nin, nout, rng, nonlin=True):
        self.neurons = [Neuron(Value, nin, rng, nonlin) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP:
    """ReLU hidden layers and a linear output, weights drawn from ``Random(seed)``."""

    def __init__(self, Value, nin, nouts, seed=SEED):
        rng = random.Random(seed)
        self.Value = Value
        sizes = [nin] + list(nouts)
        self.layers = [Layer(Value, sizes[i], sizes[i + 1], rng, nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def two_moons(n_samples=100, noise=0.1, seed=SEED):
    """Two interleaved half circles with Gaussian noise, labels -1 and +1.

    The construction of scikit-learn's ``make_moons``, without scikit-learn. Returns
    plain Python floats (``X`` a list of ``[x0, x1]``, ``y`` a list), so no engine sees
    a numpy scalar.
    """
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    X += rng.normal(scale=noise, size=X.shape)
    y = np.concatenate([np.full(n_out, -1.0), np.full(n_in, 1.0)])
    order = rng.permutation(n_samples)
    return X[order].tolist(), y[order].tolist()


def train_step(model, X, y, backward, lr=LEARNING_RATE):
    """One SGD step on the whole batch; returns the loss before the update (a float)."""
    V = model.Value
    params = model.parameters()
    inputs = [[V(xi) for xi in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    loss = data_loss + reg_loss
    for p in params:
        p.grad = 0.0
    backward(loss)
    for p in params:
        p.data -= lr * p.grad
    return loss.data


def one_step(engine, X, y):
    """``(loss, [parameters after the step])`` of one step from the seeded weights."""
    model = MLP(engine.Value, 2, [16, 16, 1])
    loss = train_step(model, X, y, engine.backward)
    return float(loss), [float(p.data) for p in model.parameters()]
