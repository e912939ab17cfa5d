"""Optimisers: ``SGD`` (momentum, weight decay) and ``Adam``, for Tensor and Value parameters.

Both follow PyTorch's update rules. ``step()`` reads each parameter's ``.grad`` (skipping
Tensors whose ``.grad`` is None) and updates ``.data`` in place; ``zero_grad()`` clears the
gradients (None for Tensors, 0 for Values).
"""
import math

import numpy as np

from ._scalar import Value
from ._tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]


def _positive(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    ok = value >= 0 if allow_zero else value > 0
    if not ok or not math.isfinite(value):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {need} finite number, got {value!r}")
    return float(value)


def _is_parameter(p):
    return isinstance(p, (Tensor, Value)) or hasattr(p, "_fastgrad_engine")


class Optimizer:
    """Holds the parameters and the per-parameter state; subclasses define ``_update``."""

    def __init__(self, params, lr):
        name = type(self).__name__
        if _is_parameter(params) or isinstance(params, (str, bytes, dict)) or \
                not hasattr(params, "__iter__"):
            # a Tensor iterates over its rows, which are new Tensors: never updated
            raise TypeError(f"{name}: params must be an iterable of Tensors or Values, "
                            f"got {type(params).__name__}; pass a list, e.g. [w] or "
                            "model.parameters()")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list (model.parameters() "
                             "of a model without parameters?); give at least one "
                             "Tensor or Value")
        for i, p in enumerate(self.params):
            if not _is_parameter(p):
                raise TypeError(f"{name}: params must be an iterable of Tensors or Values, "
                                f"but item {i} is {type(p).__name__}")
            if isinstance(p, Tensor) and not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} "
                                 "does not require grad")
        self.lr = _positive("lr", lr)
        self.state = [None] * len(self.params)
        self.steps = 0

    def zero_grad(self):
        """Clear the gradients: None on Tensors, 0 on Values."""
        for p in self.params:
            p.grad = None if isinstance(p, Tensor) else 0.0

    def step(self):
        """Update every parameter from its gradient."""
        self.steps += 1
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if isinstance(p, Tensor):
                p.data -= self._update(i, p.data, g)
            else:
                p.data = p.data - float(self._update(i, p.data, g))

    def _update(self, i, data, g):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * v`` with ``v = momentum * v + g``.

    Parameters
    ----------
    params : iterable of Tensor or Value
    lr : float
        Learning rate (positive).
    momentum : float, default 0
    weight_decay : float, default 0
        Adds ``weight_decay * p`` to the gradient (L2 regularisation).
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _positive("momentum", momentum, allow_zero=True)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)

    def _update(self, i, data, g):
        if self.weight_decay:
            g = g + self.weight_decay * data
        if self.momentum:
            v = self.state[i]
            v = g if v is None else self.momentum * v + g
            self.state[i] = v
            g = v
        return self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba), with bias correction, as ``torch.optim.Adam``.

    Parameters
    ----------
    params : iterable of Tensor or Value
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
        Adds ``weight_decay * p`` to the gradient.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas!r}")
        self.betas = (float(b1), float(b2))
        self.eps = _positive("eps", eps)
        self.weight_decay = _positive("weight_decay", weight_decay, allow_zero=True)

    def _update(self, i, data, g):
        if self.weight_decay:
            g = g + self.weight_decay * data
        b1, b2 = self.betas
        m, v, t = self.state[i] or (0.0 * g, 0.0 * g, 0)
        t += 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g)
        self.state[i] = (m, v, t)
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
