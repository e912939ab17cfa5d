"""autograd's names in fastgrad.core, fastgrad.misc and fastgrad.numpy: ``vspace``,
``primitive`` (with its deprecated methods), ``primitive_vjps``, ``const_graph`` and
``where``'s result types, with autograd's semantics and specific errors for bad input."""
import collections
import math
import warnings

import numpy as onp
import pytest

import fastgrad as fg
import fastgrad.numpy as np
from fastgrad import Tensor
from fastgrad.core import VSpace, primitive, primitive_vjps, vspace
from fastgrad.extend import defvjp
from fastgrad.extend import primitive as extend_primitive
from fastgrad.misc import const_graph
from fastgrad.test_util import check_grads

Pair = collections.namedtuple("Pair", "a b")


@pytest.fixture(autouse=True)
def _seed():
    onp.random.seed(0)          # vspace's randn and check_grads draw from numpy's RNG


# ---- vspace -------------------------------------------------------------------------

def test_array_space_has_shape_dtype_size():
    vs = vspace(onp.zeros((3, 2), dtype=onp.float32))
    assert (vs.shape, vs.dtype, vs.size, vs.ndim) == ((3, 2), onp.float32, 6, 2)
    for v in (vs.zeros(), vs.ones(), vs.randn()):
        assert v.shape == (3, 2) and v.dtype == onp.float32 and vspace(v) == vs
    assert onp.all(vs.zeros() == 0) and onp.all(vs.ones() == 1)


def test_float_is_a_zero_dim_array_space():
    vs = vspace(2.5)
    assert vs == vspace(onp.float64(1.0)) == vspace(onp.array(3.0))
    assert (vs.shape, vs.dtype, vs.size) == ((), onp.float64, 1)
    assert vs.inner_prod(2.0, 3.0) == 6.0
    assert vspace(onp.float32(1.0)) != vs          # the dtype is part of the space


def test_tensor_space_is_its_values():
    assert vspace(Tensor(onp.ones((2, 3)))) == vspace(onp.ones((2, 3)))
    assert vspace(Tensor(1.0)) == vspace(1.0)


def test_standard_basis_is_orthonormal_and_sums_to_ones():
    for value in (onp.zeros((2, 3)), 0.0, [1.0, onp.zeros(2)], {"a": onp.zeros(2), "b": 1.0},
                  1j * onp.zeros(2)):
        vs = vspace(value)
        basis = list(vs.standard_basis())
        assert len(basis) == vs.size
        for i, x in enumerate(basis):
            assert vspace(x) == vs
            for j, y in enumerate(basis):
                assert vs.inner_prod(x, y) == (1.0 if i == j else 0.0)
        total = basis[0]
        for x in basis[1:]:
            total = vs.add(total, x)
        assert vs.inner_prod(total, vs.ones()) == vs.inner_prod(vs.ones(), vs.ones())


def test_inner_prod_scalar_mul_add_on_arrays():
    vs = vspace(onp.zeros(3))
    x, y = onp.array([1.0, 2.0, 3.0]), onp.array([4.0, -5.0, 6.0])
    assert vs.inner_prod(x, y) == 12.0
    onp.testing.assert_array_equal(vs.add(x, y), [5.0, -3.0, 9.0])
    onp.testing.assert_array_equal(vs.scalar_mul(x, -2.0), [-2.0, -4.0, -6.0])
    onp.testing.assert_array_equal(vs.covector(x), x)
    onp.testing.assert_array_equal(vs.flatten(onp.ones((2, 2))), onp.ones(4))


def test_complex_space():
    vs = vspace(onp.zeros((2, 1), dtype=complex))
    assert vs.iscomplex and vs.size == 4 and vs.dtype == onp.complex128
    assert vspace(1j) == vspace(onp.complex128(2.0)) and vspace(1j).size == 2
    x, y = onp.array([1 + 2j, 3 - 1j]), onp.array([2 - 1j, 1j])
    assert vspace(x).inner_prod(x, y) == pytest.approx((1 * 2 + 2 * -1) + (3 * 0 + -1 * 1),
                                                       abs=1e-15)
    onp.testing.assert_array_equal(vspace(x).covector(x), onp.conj(x))
    onp.testing.assert_array_equal(vs.ones(), onp.full((2, 1), 1 + 1j))
    assert vs.randn().dtype == onp.complex128 and onp.all(onp.imag(vs.randn()) != 0)
    # flatten pairs real and imaginary parts so that inner_prod is a dot product
    assert onp.dot(vspace(x).flatten(x), vspace(y).flatten(y)) == pytest.approx(
        vspace(x).inner_prod(x, y), abs=1e-15)
    onp.testing.assert_array_equal(vspace(x).flatten(x, covector=True),
                                   [1.0, 3.0, -2.0, 1.0])


def test_container_spaces():
    value = {"x": [0.0, onp.zeros((3, 1))], "y": ({"a": 0.0}, [0.0]), "p": Pair(1.0, 2.0)}
    vs = vspace(value)
    assert vs.size == 1 + 3 + 1 + 1 + 2
    z = vs.zeros()
    assert type(z) is dict and type(z["x"]) is list and type(z["y"]) is tuple
    assert type(z["p"]) is Pair and z["x"][1].shape == (3, 1)
    assert vspace(vs.randn()) == vs == vspace(vs.ones())
    assert vs.inner_prod(vs.ones(), vs.ones()) == 8.0
    assert vs.flatten(vs.ones()).shape == (8,)
    assert vspace([1.0, 2.0]) != vspace((1.0, 2.0))          # list and tuple differ
    assert vspace([1.0, onp.zeros(2)]) != vspace([1.0, onp.zeros(3)])
    assert vspace([]).size == 0 and vspace([]).flatten([]).shape == (0,)
    x, y = [1.0, onp.array([1.0, 2.0])], [2.0, onp.array([3.0, 4.0])]
    assert vspace(x).inner_prod(x, y) == 2.0 + 11.0
    s = vspace(x).scalar_mul(vspace(x).add(x, y), 2.0)
    assert s[0] == 6.0 and list(s[1]) == [8.0, 12.0]


@pytest.mark.parametrize("value", [onp.zeros((3, 2)), 0.0, [1.0, onp.zeros((2, 1))],
                                   (1.0, onp.zeros((2, 1))),
                                   {"a": 1.0, "b": onp.zeros((2, 1))}])
def test_space_operations_differentiate_to_second_order(value):
    # autograd's test_vspaces: the operations are differentiable, in both modes
    vs = vspace(value)
    check_grads(vs.add)(vs.randn(), vs.randn())
    check_grads(vs.scalar_mul)(vs.randn(), float(onp.random.randn()))
    check_grads(vs.inner_prod)(vs.randn(), vs.randn())


def test_inner_prod_gradient_is_the_other_vector():
    vs = vspace([1.0, onp.zeros(2)])
    y = [3.0, onp.array([1.0, -2.0])]
    g = fg.grad(lambda x: vs.inner_prod(x, y))([0.0, onp.zeros(2)])
    assert g[0] == 3.0 and list(g[1]) == [1.0, -2.0]


@pytest.mark.parametrize("bad", [1, True, "text", None, object(), [1.0, "x"], {"a": 2}])
def test_vspace_of_a_value_without_one_raises_type_error(bad):
    with pytest.raises(TypeError, match="vspace: no vector space for a value of type"):
        vspace(bad)


def test_register_a_space_for_a_new_type():
    class Meters(float):
        pass

    class MetersSpace(VSpace):
        def __init__(self, value):
            self.unit = "m"

        @property
        def size(self):
            return 1

        def zeros(self):
            return Meters(0.0)

    MetersSpace.register(Meters)
    try:
        assert vspace(Meters(2.0)).zeros() == 0.0
        assert vspace(Meters(2.0)) == vspace(Meters(3.0))
        with pytest.raises(NotImplementedError, match="MetersSpace does not define ones"):
            vspace(Meters(1.0)).ones()
    finally:
        del VSpace.mappings[Meters]


# ---- primitive_vjps -------------------------------------------------------------------

def test_primitive_vjps_has_the_registry_rows_with_working_makers():
    assert np.sin in primitive_vjps and np.multiply in primitive_vjps
    assert np.vstack not in primitive_vjps          # composite, not one row
    assert np.iscomplex not in primitive_vjps and [1] not in primitive_vjps
    assert len(primitive_vjps) == len(list(primitive_vjps)) > 20
    x = onp.array([0.1, 0.7])
    vjp = primitive_vjps[np.sin]((0,), np.sin(x), (x,), {})
    (cot,) = vjp(onp.array([2.0, 3.0]))
    onp.testing.assert_allclose(cot, [2.0 * math.cos(0.1), 3.0 * math.cos(0.7)], rtol=1e-15)
    a, b = onp.array([1.0, 2.0]), onp.array([3.0, 5.0])
    ca, cb = primitive_vjps[np.multiply]((0, 1), a * b, (a, b), {})(onp.ones(2))
    onp.testing.assert_array_equal(ca, b)
    onp.testing.assert_array_equal(cb, a)
    s = primitive_vjps[np.sum]((0,), None, (onp.ones((2, 3)),), {"axis": 1})(onp.array([1.0, 2.0]))
    onp.testing.assert_array_equal(s[0], [[1.0] * 3, [2.0] * 3])


def test_primitive_vjps_lists_user_primitives_once_they_have_a_vjp():
    @extend_primitive
    def triple(x):
        return 3.0 * x

    assert triple not in primitive_vjps
    with pytest.raises(KeyError):
        primitive_vjps[triple]
    defvjp(triple, lambda ans, x: lambda g: 3.0 * g)
    assert triple in primitive_vjps and triple in list(primitive_vjps)
    assert primitive_vjps[triple]((0,), 6.0, (2.0,), {})(1.0) == (3.0,)


def test_primitive_vjps_is_read_only():
    assert primitive_vjps.pop(np.iscomplex, None) is None   # absent: nothing to remove
    with pytest.raises(KeyError):
        primitive_vjps.pop(np.iscomplex)
    with pytest.raises(TypeError, match="read-only view of fastgrad's registry"):
        primitive_vjps.pop(np.sin, None)
    with pytest.raises(TypeError, match="read-only"):
        primitive_vjps[np.sin] = lambda *a: None
    with pytest.raises(TypeError, match="read-only"):
        del primitive_vjps[np.sin]
    with pytest.raises(TypeError, match="read-only"):
        primitive_vjps.clear()
    assert np.sin in primitive_vjps


# ---- core.primitive: autograd's deprecated methods ---------------------------------------

def _mul_checked(new_mul):
    a, b = onp.array([[1.0, 2.0], [3.0, 4.0]]), onp.array([[0.5, -1.0], [2.0, 3.0]])
    ga, gb = fg.grad(lambda x, y: np.sum(new_mul(x, y) * b), (0, 1))(a, b)
    return a, b, ga, gb


def test_deprecated_defvjp_gets_g_ans_and_the_spaces():
    @primitive
    def new_mul(x, y):
        return x * y

    seen = []

    def vjp_x(g, ans, vs, gvs, x, y):
        seen.append((vs, gvs))
        return y * g

    with pytest.warns(DeprecationWarning, match="new_mul: the defvjp method is deprecated"):
        new_mul.defvjp(vjp_x)
    with pytest.warns(DeprecationWarning):
        new_mul.defvjp(lambda g, ans, vs, gvs, x, y: x * g, argnum=1)
    a, b, ga, gb = _mul_checked(new_mul)
    onp.testing.assert_array_equal(ga, b * b)
    onp.testing.assert_array_equal(gb, a * b)
    assert seen[0] == (vspace(a), vspace(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        check_grads(lambda x, y: new_mul(x, y), (0, 1), modes=["rev"])(a, b)


def test_deprecated_defgrad_and_defvjp_is_zero():
    @primitive
    def new_mul(x, y):
        return x * y

    with pytest.warns(DeprecationWarning, match="defgrad"):
        new_mul.defgrad(lambda ans, x, y: lambda g: y * g)
    with pytest.warns(DeprecationWarning, match="defvjp_is_zero"):
        new_mul.defvjp_is_zero(argnums=[1])
    a, b, ga, gb = _mul_checked(new_mul)
    onp.testing.assert_array_equal(ga, b * b)
    onp.testing.assert_array_equal(gb, onp.zeros((2, 2)))
    with pytest.raises(TypeError, match="argnum must be an int >= 0"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            new_mul.defgrad(lambda ans, x, y: lambda g: g, argnum="x")


# ---- const_graph ------------------------------------------------------------------------

def test_const_graph_replays_without_running_the_function():
    calls = []

    def f(x, y):
        calls.append(None)
        return np.sum(np.tanh(x) * y[0] + y[1] ** 2)

    g = const_graph(f)
    x, y = onp.array([0.1, -0.4]), [2.0, onp.array([1.0, 3.0])]
    assert g(x, y) == f(x, y) and len(calls) == 2
    x2, y2 = onp.array([1.5, 0.2]), [-1.0, onp.array([0.5, 0.25])]
    assert g(x2, y2) == pytest.approx(f(x2, y2), rel=1e-15) and len(calls) == 3
    # the replay is differentiable: its gradient is f's
    onp.testing.assert_allclose(fg.grad(g)(x2, y2), fg.grad(f)(x2, y2), rtol=1e-14)
    assert len(calls) == 4


def test_const_graph_keeps_bound_arguments_and_runs_only_the_needed_primitives():
    log = []

    @extend_primitive
    def process(var, name):
        log.append(name)
        return var

    def foo(x, y, z):
        return process(x, "x") + 2 * process(y, "y") + 3 * process(z, "z")

    g = const_graph(foo, 1.0, z=3.0)
    assert g(2.0) == 14.0 and log == ["x", "y", "z"]
    log.clear()
    assert g(5.0) == 20.0 and log == ["y"]


def test_const_graph_with_grad_inside():
    calls = []

    def foo(x, y):
        calls.append(None)
        return fg.grad(lambda t: np.sin(t) + t * 2)(x * y)

    g = const_graph(foo)
    assert g(0.0, 0.0) == 3.0
    assert g(1.0, 0.5) == pytest.approx(math.cos(0.5) + 2, rel=1e-15) and len(calls) == 1
    # second derivative through the replayed (recorded) grad
    assert fg.grad(g)(1.0, 0.5) == pytest.approx(-math.sin(0.5) * 0.5, rel=1e-14)


def test_const_graph_methods_indexing_operators_and_container_output():
    def f(x):
        return {"s": x.sum(axis=0), "t": x.T[0] - 1.0, "m": abs(-x) @ x.T, "n": (x > 0.5)}

    g = const_graph(f)
    a = onp.array([[0.2, 0.9], [0.7, 0.1]])
    g(a)
    b = onp.array([[1.0, -2.0], [3.0, 0.5]])
    got, want = g(b), f(b)
    assert got.keys() == want.keys()
    for k in want:
        onp.testing.assert_array_equal(got[k], want[k])


def test_const_graph_bad_uses_raise():
    with pytest.raises(TypeError, match=r"bool\(\) \(control flow on a value\)"):
        const_graph(lambda x: x if x > 0 else -x)(1.0)
    with pytest.raises(TypeError, match=r"float\(\)"):
        const_graph(lambda x: float(x) * 2)(1.0)
    w = Tensor(onp.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="a Tensor reached an argument of a traced operation"):
        const_graph(lambda x: x * w)(onp.ones(2))
    with pytest.raises(TypeError, match="conversion to a plain array"):
        const_graph(lambda x: w * x)(onp.ones(2))
    with pytest.raises(ValueError, match="does not depend on its arguments"):
        const_graph(lambda x: 2.0)(1.0)
    with pytest.raises(TypeError, match="an argument is a str"):
        const_graph(lambda x: x)("text")
    with pytest.raises(TypeError, match="cannot differentiate with respect to the argument: "
                                        "a value being traced by fastgrad.misc.const_graph"):
        const_graph(lambda x: fg.core.make_vjp(np.sin, x)[1])(1.0)

    def closes_over(x, y):
        return fg.grad(lambda t: t * (y * 2.0))(x)
    with pytest.raises(TypeError, match="other than through its arguments"):
        const_graph(closes_over)(1.0, 2.0)

    g = const_graph(lambda x: [x[0] * 2.0, x[1]])
    g([1.0, 2.0])
    with pytest.raises(TypeError, match=r"called with arguments \(\[a value, a value, a value\]\), "
                                        r"but the graph was traced with \(\[a value, a value\]\)"):
        g([1.0, 2.0, 3.0])


def test_const_graph_retraces_after_a_failed_first_call():
    calls = []

    def f(x):
        calls.append(None)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return x * 3.0

    g = const_graph(f)
    with pytest.raises(RuntimeError):
        g(1.0)
    assert g(2.0) == 6.0 and g(4.0) == 12.0 and len(calls) == 2


# ---- where: autograd's result types -------------------------------------------------------

@pytest.mark.parametrize(("kind", "condition", "x", "y"), [
    (int, True, 1, 2),
    (float, True, 3.0, 4.0),
    (float, False, 1, 2.0),
    (list, True, [1, 2], [3, 4]),
    (onp.float32, True, onp.array([1.0], dtype=onp.float32), onp.array([2.0], dtype=onp.float32)),
    (onp.float64, False, onp.array([1.0]), onp.array([2.0], dtype=onp.float32)),
    (onp.float64, True, onp.float64(1.0), 2.0),
])
def test_where_result_types(kind, condition, x, y):
    res = np.where(condition, x, y)
    if kind in (int, float, list):
        assert type(res) is kind
        assert res == onp.where(condition, x, y).tolist()
    else:
        assert res.dtype.type is kind


def test_where_keywords_one_argument_and_tensors():
    x, y = onp.array([1.0, 2.0, 3.0]), onp.array([4.0, 5.0, 6.0])
    cond = [True, False, True]
    for res in (np.where(cond, x, y), np.where(condition=cond, x=x, y=y),
                np.where(cond, x, y=y)):
        onp.testing.assert_array_equal(res, [1.0, 5.0, 3.0])
    onp.testing.assert_array_equal(np.where(cond)[0], [0, 2])
    t = Tensor(x, requires_grad=True)
    onp.testing.assert_array_equal(np.where(t > 1.5)[0], [1, 2])
    g = fg.grad(lambda v: np.sum(np.where(cond, x=v * v, y=0.0)))(x)
    onp.testing.assert_array_equal(g, [2.0, 0.0, 6.0])


def test_where_bad_arguments():
    with pytest.raises(ValueError, match="give both x and y"):
        np.where([True], [1.0])
    with pytest.raises(ValueError, match="give both x and y"):
        np.where([True], [1.0], x=[2.0])
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['z'\]"):
        np.where([True], [1.0], z=[2.0])


# ---- integer casts -----------------------------------------------------------------

def test_an_integer_cast_of_a_differentiated_array_is_a_constant_index():
    # autograd's test_cast_to_int, written our way: indices read off the input itself
    W = onp.random.RandomState(5).randn(5, 4)
    W[:, -1] = [0.5, 1.5, 1.5, 2.5, 0.5]       # truncated: rows 0 1 1 2 0, away from a jump

    def fun(W):
        rows = np.int64(W[:, -1])
        assert type(rows) is onp.ndarray and rows.dtype == onp.int64
        return np.sum(W[:, :-1][rows] ** 2)
    expected = onp.zeros_like(W)
    for r in (0, 1, 1, 2, 0):
        expected[r, :-1] += 2 * W[r, :-1]
    onp.testing.assert_allclose(fg.grad(fun)(W), expected, rtol=1e-14)
    check_grads(fun, modes=["fwd", "rev"], order=2)(W)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64"])
def test_integer_casts_behave_as_numpy_types(name):
    ours, theirs = getattr(np, name), getattr(onp, name)
    assert isinstance(theirs(3), ours) and issubclass(theirs, ours)
    assert isinstance(theirs(3), np.integer) and not isinstance(3.0, ours)
    assert type(ours(7)) is theirs and ours(7) == 7
    assert onp.zeros(2, dtype=ours).dtype == onp.dtype(theirs)
    t = Tensor([1.5, -2.7], requires_grad=True)
    out = ours(t)
    assert type(out) is onp.ndarray and out.dtype == onp.dtype(theirs)
    onp.testing.assert_array_equal(out, [1, -2])
    with pytest.raises(TypeError, match="numpy.integer"):
        np.integer(3)
