"""The product rows (``fastgrad/ops/products.py``): einsum and the products built on it."""
import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor
from fastgrad.test_util import check_grads
from opcheck import ANY, Case, parametrize_cases


def _torch(name):
    return lambda *a, **k: getattr(__import__("torch"), name)(*a, **k)


def _einsum(spec, shapes, torch=True):
    return Case(lambda *xs: np.einsum(spec, *xs), shapes, ANY,
                (lambda *xs: __import__("torch").einsum(spec, *xs)) if torch else None,
                rows=["einsum"], call=lambda f, *ts: f(spec, *ts))


def _tensordot(axes, shapes):
    return Case(lambda a, b: np.tensordot(a, b, axes), shapes, ANY,
                lambda a, b: __import__("torch").tensordot(
                    a, b, axes if isinstance(axes, int) else [list(onp.atleast_1d(x))
                                                              for x in axes]),
                rows=["tensordot"], call=lambda f, a, b: f(a, b, axes))


CASES = {
    # einsum: explicit and implicit outputs, ellipses (leading, trailing, inside),
    # broadcasting of length-1 axes, traces and diagonals, indices summed away
    "einsum_matmul": _einsum("ij,jk->ik", [(2, 3), (3, 4)]),
    "einsum_implicit": _einsum("ij,jk", [(2, 3), (3, 4)]),
    "einsum_implicit_order": _einsum("ba,Ab", [(2, 3), (4, 2)], torch=False),
    "einsum_transpose": _einsum("ij->ji", [(3, 4)]),
    "einsum_trace": _einsum("ii", [(3, 3)]),
    "einsum_diagonal": _einsum("ii->i", [(3, 3)]),
    "einsum_repeated_thrice": _einsum("iij,iki->jk", [(3, 3, 2), (3, 4, 3)], torch=False),
    "einsum_batched": _einsum("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    "einsum_ellipsis_tail": _einsum("jk...,lj...->lk...", [(3, 2, 4), (2, 3, 4)], torch=False),
    "einsum_ellipsis_center": _einsum("j...k,lj...->lk...", [(2, 2, 2), (2, 2)], torch=False),
    "einsum_ellipsis_implicit": _einsum("...k,...nk", [(3, 5), (3, 2, 5)], torch=False),
    "einsum_broadcast_ones": _einsum("ij,ij->ij", [(1, 3), (2, 3)], torch=False),
    "einsum_three": _einsum("ijk,lji,lli->lki", [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
    "einsum_naked_sum": _einsum("k,nk->", [(5,), (4, 5)]),
    "einsum_naked_sum2": _einsum("abcd->bd", [(3, 2, 3, 2)]),
    "einsum_outer": _einsum("ij,k", [(3, 4), (3,)], torch=False),
    "einsum_scalar": _einsum(",ij->ij", [(), (2, 3)]),
    "einsum_sublists": Case(lambda a, b: np.einsum(a, [0, 1], b, [1, Ellipsis], [Ellipsis, 0]),
                            [(2, 3), (3, 4)], ANY, rows=["einsum"],
                            call=lambda f, a, b: f(a, [0, 1], b, [1, Ellipsis], [Ellipsis, 0])),
    "einsum_sublists_implicit": Case(lambda a, b: np.einsum(a, (27, 1), b, (1, 2)),
                                     [(2, 3), (3, 4)], ANY),
    "einsum_optimize": Case(lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c,
                                                      optimize="greedy"),
                            [(2, 3), (3, 4), (4, 2)], ANY),
    # tensordot: an int, pairs of ints, pairs of lists (out of order, negative)
    "tensordot_2": _tensordot(2, [(4, 2, 3), (2, 3, 5)]),
    "tensordot_0": _tensordot(0, [(4,), (3,)]),
    "tensordot_pair_ints": _tensordot((-1, 0), [(2, 6), (6, 3)]),
    "tensordot_pairs": _tensordot(((1, 0), (2, 1)), [(2, 3, 4), (2, 2, 3, 4)]),
    "tensordot_scalar": Case(lambda a, b: np.tensordot(a, b, 0), [(4,), ()], ANY),
    # dot of n-d operands (the row; 1-D/2-D is the compiled matmul)
    "dot_nd": Case(lambda a, b: np.dot(a, b), [(2, 2, 3), (2, 3, 4)], ANY,
                   lambda a, b: __import__("torch").tensordot(a, b, ([-1], [1])),
                   rows=["dot"]),
    "dot_nd_vector": Case(lambda a, b: np.dot(a, b), [(2, 2, 3), (3,)], ANY,
                          lambda a, b: __import__("torch").matmul(a, b)),
    "dot_vector_nd": Case(lambda a, b: np.dot(a, b), [(3,), (2, 3, 4)], ANY),
    "dot_2d": Case(lambda a, b: np.dot(a, b), [(2, 3), (3, 4)], ANY, _torch("matmul")),
    "inner": Case(lambda a, b: np.inner(a, b), [(2, 3), (4, 3)], ANY,
                  _torch("inner"), rows=["inner"]),
    "inner_3d": Case(lambda a, b: np.inner(a, b), [(2, 1, 3), (3,)], ANY, _torch("inner")),
    "inner_scalar": Case(lambda a, b: np.inner(a, b), [(), (2, 3)], ANY),
    "outer": Case(lambda a, b: np.outer(a, b), [(3,), (4,)], ANY, _torch("outer")),
    "outer_flattens": Case(lambda a, b: np.outer(a, b), [(2, 3), (2, 2)], ANY),
    "kron": Case(lambda a, b: np.kron(a, b), [(2, 3), (3, 2)], ANY, _torch("kron")),
    "kron_dims": Case(lambda a, b: np.kron(a, b), [(3,), (2, 1, 2)], ANY, _torch("kron")),
    "kron_scalar": Case(lambda a, b: np.kron(a, b), [(), (2, 2)], ANY),
    "vdot": Case(lambda a, b: np.vdot(a, b), [(2, 3), (3, 2)], ANY),
    "cross": Case(lambda a, b: np.cross(a, b), [(4, 3), (3,)], ANY,
                  lambda a, b: __import__("torch").linalg.cross(a, b.expand(4, 3)),
                  rows=["cross"]),
    "cross_axes": Case(lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0),
                       [(3, 1, 2), (2, 3)], ANY),
    "cross_axis": Case(lambda a, b: np.cross(a, b, axis=0), [(3, 2), (3, 2)], ANY),
    "multi_dot": Case(lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]),
                      [(3,), (3, 5), (5, 2), (2, 4)], ANY,
                      lambda a, b, c, d: __import__("torch").linalg.multi_dot([a, b, c, d]),
                      rows=["multi_dot"], call=lambda f, *ts: f(list(ts))),
    "multi_dot_vectors": Case(lambda a, b, c: np.linalg.multi_dot([a, b, c]),
                              [(4, 3), (3, 5), (5,)], ANY),
}

test_products = parametrize_cases(CASES)


def _rand(*shape):
    return onp.random.default_rng(3).uniform(-1, 1, shape)


def test_third_order_einsum_and_tensordot():
    a, b = _rand(2, 3), _rand(3, 2)
    check_grads(lambda a, b: np.einsum("ij,jk->ik", a, b) ** 2, (0, 1), modes=["fwd", "rev"],
                order=3)(a, b)
    check_grads(lambda a, b: np.tensordot(a, b, ((0,), (1,))) ** 2, (0, 1),
                modes=["fwd", "rev"], order=3)(a, b)


def test_dot_front_numbers_and_the_compiled_path():
    t = Tensor(_rand(2, 2, 3), requires_grad=True)
    out = np.dot(t, 2.0)
    onp.testing.assert_array_equal(out.data, onp.dot(t.data, 2.0))
    assert onp.dot(t, _rand(3, 4)).op == "dot"
    assert onp.dot(Tensor(_rand(2, 3), requires_grad=True), _rand(3)).op == "@"


def test_zero_length_axes():
    a = Tensor(onp.zeros((0, 2, 3)), requires_grad=True)
    out = np.einsum("...ij,...jk->...ik", a, _rand(3, 4))
    assert out.shape == (0, 2, 4)
    out.sum().backward()
    assert a.grad.shape == (0, 2, 3)


@pytest.mark.parametrize("call, error, match", [
    (lambda t: np.einsum("ij,jk->ik", t, t), ValueError, "operands"),
    (lambda t: np.einsum("ij->i", t, out=onp.zeros(2)), TypeError, "out"),
    (lambda t: np.einsum("ij->i", t, dtype=onp.float32), TypeError, "dtype"),
    (lambda t: np.einsum(t, [0, 99]), ValueError, r"\[0, 52\)"),
    (lambda t: np.dot(t[None], t, out=onp.zeros(1)), TypeError, "out"),
    (lambda t: np.linalg.multi_dot([t]), ValueError, "at least two"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(Tensor(_rand(2, 3), requires_grad=True))


def test_tensordot_negative_axes_count_is_numpys_outer_product():
    a, b = Tensor(_rand(2, 3), requires_grad=True), _rand(2)
    out = np.tensordot(a, b, -1)
    onp.testing.assert_array_equal(out.data, onp.tensordot(a.data, b, -1))
    (out * 2).sum().backward()
    onp.testing.assert_allclose(a.grad, 2 * b.sum() * onp.ones((2, 3)), rtol=1e-14)


def test_cross_of_2_vectors_has_no_derivative():
    a = Tensor(_rand(4, 2), requires_grad=True)
    with pytest.warns(DeprecationWarning):
        out = onp.cross(a, _rand(4, 2))
    with pytest.raises(NotImplementedError, match="3-component"):
        out.sum().backward()
