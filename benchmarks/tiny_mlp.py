"""micrograd's demo, written once for any engine: a tiny MLP, two moons and an SGD step.

The model is ``fastgrad.nn.scalar.MLP`` built on the engine's ``Value`` class, with
weights drawn from ``random.Random(seed)`` in a fixed order, so every engine starts from
the same numbers and performs the same float operations in the same order. The step is the
one in micrograd's ``demo.ipynb``: inputs wrapped in Values, a 2-16-16-1 ReLU MLP, the
SVM max-margin loss ``mean(relu(1 - y * score))`` plus ``1e-4 * sum(p * p)``, gradients
zeroed, ``backward``, then ``p.data -= lr * p.grad``.
"""
from fastgrad.datasets import make_moons
from fastgrad.nn import scalar

SEED = 1337
LEARNING_RATE = 0.5
ALPHA = 1e-4                # L2 weight


def MLP(Value, nin, nouts, seed=SEED):
    """fastgrad's scalar MLP (micrograd's shape) built from the given engine's ``Value``."""
    model = scalar.MLP(nin, nouts, activation="relu", rng=seed, value=Value)
    model.Value = Value
    return model


def two_moons(n_samples=100, noise=0.1, seed=SEED):
    """``fastgrad.datasets.make_moons`` with labels -1 and +1, as plain Python floats
    (``X`` a list of ``[x0, x1]``, ``y`` a list), so no engine sees a numpy scalar."""
    X, y = make_moons(n_samples, noise=noise, seed=seed)
    return X.tolist(), (2.0 * y - 1.0).tolist()


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
