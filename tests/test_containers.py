"""autograd's container helpers: fastgrad.builtins and fastgrad.misc.flatten."""
import numpy as onp
import pytest

import fastgrad
import fastgrad.numpy as np
from fastgrad import grad
from fastgrad.builtins import isinstance as ag_isinstance
from fastgrad.builtins import type as ag_type
from fastgrad.misc import flatten, flatten_func


def test_builtins_see_through_tensors():
    seen = []

    def f(x, y):
        seen.append((ag_isinstance(x, onp.ndarray), ag_isinstance(y, float),
                     ag_isinstance(x, (list, onp.ndarray)), ag_type(x),
                     ag_isinstance(x, fastgrad.Tensor)))
        return np.sum(x) * y
    grad(f, (0, 1))(onp.ones(2), 2.0)
    assert seen == [(True, True, True, onp.ndarray, True)]
    assert ag_isinstance([], fastgrad.list) and not ag_isinstance((), list)
    assert fastgrad.dict is dict and fastgrad.tuple is tuple and ag_type(1.0) is float
    assert "isinstance" not in fastgrad.__all__       # `import *` shadows no builtin


def test_flatten_round_trip():
    rng = onp.random.default_rng(0)
    x = (1.0, rng.normal(size=(2, 3)), [rng.normal(size=(1, 4)),
                                        {"x": 2.0, "y": rng.normal(size=(4, 2))}], ())
    flat, unflatten = flatten(x)
    assert flat.shape == (20,) and flat[0] == 1.0
    back = unflatten(flat)
    assert back[0] == 1.0 and back[2][1]["x"] == 2.0 and back[3] == ()
    onp.testing.assert_array_equal(back[1], x[1])
    onp.testing.assert_array_equal(flatten(back)[0], flat)
    assert flatten([])[0].shape == (0,)
    assert flatten(1 + 1j)[0][0] == 1 + 1j


def test_flatten_and_unflatten_are_differentiable():
    def f(a, b):
        v, _ = flatten([a, {"b": b}])
        return np.sum(v ** 2)
    ga, gb = grad(f, (0, 1))(1.5, onp.array([1.0, -2.0]))
    assert ga == 3.0
    onp.testing.assert_array_equal(gb, [2.0, -4.0])
    params = {"w": onp.ones((2, 2)), "b": 0.5}
    loss, unflatten, x0 = flatten_func(lambda p, s: s * (np.sum(p["w"] ** 3) + p["b"]),
                                       params)
    g = grad(loss)(x0, 2.0)
    onp.testing.assert_array_equal(g, [6.0, 6.0, 6.0, 6.0, 2.0])   # w's 4, then b
    assert unflatten(x0)["b"] == 0.5


def test_isbox_tells_tensors_from_plain_values():
    from fastgrad.tracer import isbox
    seen = []
    grad(lambda x: seen.append(isbox(x)) or x * 2.0)(1.0)
    assert seen == [True] and not isbox(1.0) and not isbox(onp.ones(2))
