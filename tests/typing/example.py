"""A small user script, fully annotated: tests/test_typing.py type-checks it with mypy
against the installed package (``--strict``; see there) and runs it.

It uses fastgrad the way the README does: scalar Values, Tensors and their gradients,
``grad``/``value_and_grad`` on numpy functions, an ``nn.MLP`` trained with ``optim.Adam``,
``no_grad`` as a context manager and as a decorator.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

import fastgrad
from fastgrad import Tensor, Value, cross_entropy, grad, nn, no_grad, optim, value_and_grad

FloatArray = npt.NDArray[np.float64]
Gradient = npt.NDArray[np.floating[Any]]       # float32 Tensors have float32 gradients


# ---- scalars --------------------------------------------------------------------------

def neuron() -> tuple[float, float, float]:
    """micrograd's neuron: the output and d(output)/d(w1), d(output)/d(x1)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o: Value = n.tanh()
    o.backward()
    return o.data, w1.grad, x1.grad


def fit_line(steps: int = 200, lr: float = 0.05) -> tuple[float, float, float]:
    """Fit y = 2x + 1 with two scalar parameters by plain gradient descent."""
    w, b = Value(0.0, label="w"), Value(np.float32(0.0), label="b")
    xs = [0.0, 1.0, 2.0, 3.0]
    ys = [2.0 * x + 1.0 for x in xs]
    loss = Value(0.0)
    for _ in range(steps):
        residuals = [w * x + b - y for x, y in zip(xs, ys)]
        loss = sum((r ** 2 for r in residuals), Value(0.0)) / len(xs)
        w.grad = 0.0
        b.grad = 0
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
    # numbers on either side, unary operators, comparisons, float()
    distance = abs(2.0 - w) + abs(-b + 1)
    assert distance < 0.01 and float(distance) == distance.data
    return w.data, b.data, loss.data


# ---- tensors --------------------------------------------------------------------------

def tensor_gradients() -> tuple[Gradient, Gradient]:
    """Gradients of mean(tanh(x @ w).sum(axis=1)) with respect to x and w."""
    x = Tensor(np.arange(6.0).reshape(2, 3) / 6, requires_grad=True)
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    out: Tensor = (x @ w).tanh().sum(axis=1).mean()
    out.backward()
    assert x.grad is not None and w.grad is not None     # None until backward()
    return x.grad, w.grad


def loss_of(params: Sequence[Tensor], x: FloatArray, target: FloatArray) -> Tensor:
    """A loss written on Tensors: ``grad`` calls it with the arrays made Tensors."""
    weight, bias = params
    prediction = fastgrad.linear(x, weight, bias).sigmoid()
    return ((prediction - target) ** 2).mean()


def functional_gradients() -> tuple[float, list[FloatArray]]:
    """``value_and_grad`` and ``grad`` of ``loss_of`` with respect to its parameters."""
    rng = np.random.default_rng(0)
    x: FloatArray = rng.normal(size=(8, 3))
    target: FloatArray = rng.uniform(size=(8, 1))
    params = [rng.normal(size=(3, 1)), np.zeros(1)]
    value, grads = value_and_grad(loss_of)(params, x, target)
    again: list[FloatArray] = grad(loss_of)(params, x, target)
    assert all(np.array_equal(g, h) for g, h in zip(grads, again))
    return float(value), again


# ---- a network ------------------------------------------------------------------------

class Result(NamedTuple):
    first_loss: float
    last_loss: float
    accuracy: float


@no_grad()
def predict(model: nn.Module, x: FloatArray) -> npt.NDArray[np.intp]:
    logits: Tensor = model(x)
    assert not logits.requires_grad                     # nothing recorded under no_grad
    labels: npt.NDArray[np.intp] = np.argmax(logits.numpy(), axis=1)
    return labels


def train(steps: int = 150, seed: int = 0) -> Result:
    """A two-class problem (the sign of x0 * x1) learnt by an MLP with Adam."""
    rng = np.random.default_rng(seed)
    x: FloatArray = rng.uniform(-1.0, 1.0, size=(256, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = nn.MLP([2, 16, 16, 2], activation="tanh", rng=seed)
    opt = optim.Adam(model.parameters(), lr=0.03)
    losses: list[float] = []
    for _ in range(steps):
        loss: Tensor = cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with no_grad():
        assert not fastgrad.is_grad_enabled()
        logits: Tensor = model(x)
        val_loss = fastgrad.mse_loss(logits.softmax(), np.eye(2)[y])
    assert val_loss.is_leaf
    accuracy = float(np.mean(predict(model, x) == y))
    return Result(losses[0], losses[-1], accuracy)


def main() -> None:
    print("neuron:", neuron())
    print("line fit (w, b, loss):", fit_line())
    print("tensor grads:", *tensor_gradients(), sep="\n")
    print("functional:", functional_gradients()[0])
    print("training:", train())


if __name__ == "__main__":
    main()
