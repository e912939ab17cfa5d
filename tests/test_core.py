"""fastgrad.core: make_vjp / make_jvp, derivatives of any order, levels, create_graph.

``check`` is a small numeric checker (autograd's ``check_grads`` idea, written here):
along a random direction ``v`` and against a random output weight ``u``, the reverse
mode's ``vjp(u) . v`` and the forward mode's ``u . jvp(v)`` must equal the central
difference ``u . (f(x + h v) - f(x - h v)) / 2h``; order 2 repeats the check on the
functions ``x -> vjp_x(u)`` and ``x -> jvp_x(v)``, in both modes, which covers
reverse-over-reverse, forward-over-reverse, reverse-over-forward and forward-over-forward.
"""
import math
import warnings

import numpy as onp
import pytest

import fastgrad as fg
import fastgrad.numpy as np
from fastgrad import Tensor
from fastgrad.core import make_jvp, make_vjp

from test_tensor_ops import CASES, inputs


def grad(f):
    """d f / dx of a scalar function, on make_vjp (as fastgrad.functional builds it)."""
    return lambda x: make_vjp(f, x)[0](1.0)


def deriv(f):
    """d f / dx of a function of one number, on make_jvp."""
    return lambda x: make_jvp(f, x)(1.0)[1]


# ---- the numeric checker ------------------------------------------------------------

def _flat(values):
    """A list of arrays (or outer Tensors) as one 1-D array, differentiably."""
    return np.concatenate([np.reshape(v, (-1,)) for v in values])


def _num(x):
    return onp.asarray(x, dtype=onp.float64)


def _directional(f, xs, v, h=1e-6):
    up = f([x + h * d for x, d in zip(xs, v)])
    down = f([x - h * d for x, d in zip(xs, v)])
    return (_num(up) - _num(down)) / (2 * h)


def check(f, xs, order=2, seed=0, rtol=1e-6, atol=1e-7):
    """Check f (a function of a list of float64 arrays) in both modes up to ``order``."""
    rng = onp.random.default_rng(seed)
    v = [rng.standard_normal(onp.shape(x)) for x in xs]
    out = _num(f(xs))
    u = rng.standard_normal(out.shape)
    numeric = float(onp.sum(u * _directional(f, xs, v)))
    vjp, ans = make_vjp(f, xs)
    onp.testing.assert_allclose(_num(ans), out, rtol=1e-13)
    reverse = sum(float(onp.sum(c * d)) for c, d in zip(vjp(u), v))
    ans2, tangent = make_jvp(f, xs)(v)
    assert onp.shape(tangent) == out.shape
    forward = float(onp.sum(u * _num(tangent)))
    onp.testing.assert_allclose(_num(ans2), out, rtol=1e-13)
    onp.testing.assert_allclose(reverse, numeric, rtol=rtol, atol=atol, err_msg="rev")
    onp.testing.assert_allclose(forward, numeric, rtol=rtol, atol=atol, err_msg="fwd")
    onp.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12)
    if order > 1:
        with warnings.catch_warnings():
            # a linear op's derivative does not depend on x: zeros, rightly, and a warning
            warnings.simplefilter("ignore", UserWarning)
            check(lambda ys: _flat(make_vjp(f, ys)[0](u)), xs, order - 1, seed + 1,
                  rtol, atol)
            check(lambda ys: make_jvp(f, ys)(v)[1], xs, order - 1, seed + 2, rtol, atol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_op_to_second_order_in_both_modes(case):
    fn = CASES[case][0]        # written with Tensor methods: plain arrays become Tensors
    check(lambda xs: fn(*[x if isinstance(x, Tensor) else Tensor(x) for x in xs]),
          inputs(case))


# ---- the examples of issue 12, with their right answers -----------------------------

def test_second_derivative_of_sin():
    assert grad(grad(np.sin))(0.5) == -math.sin(0.5)
    assert deriv(deriv(np.sin))(0.5) == -math.sin(0.5)
    assert deriv(grad(np.sin))(0.5) == -math.sin(0.5)
    assert grad(deriv(np.sin))(0.5) == -math.sin(0.5)


def test_cube_twice_and_three_times():
    cube = lambda x: x ** 3                            # noqa: E731
    assert grad(grad(cube))(2.0) == 12.0
    assert grad(grad(grad(cube)))(2.0) == 6.0
    assert deriv(deriv(deriv(cube)))(2.0) == 6.0
    assert grad(deriv(grad(cube)))(2.0) == 6.0
    with pytest.warns(UserWarning, match="Output seems independent of input."):
        assert grad(grad(grad(grad(cube))))(2.0) == 0.0    # 6 is a constant


def test_third_derivatives_against_closed_forms():
    f = lambda x: np.sin(x) * np.exp(x)               # noqa: E731
    x = 0.3
    # (sin e^x)''' = 2 e^x (cos x - sin x)
    expected = 2 * math.exp(x) * (math.cos(x) - math.sin(x))
    for d1 in (grad, deriv):
        for d2 in (grad, deriv):
            for d3 in (grad, deriv):
                assert d1(d2(d3(f)))(x) == pytest.approx(expected, rel=1e-13)
    g = lambda x: np.tanh(x)                           # noqa: E731
    t = math.tanh(x)                                   # tanh''' = -2 (1 - t^2)(1 - 3 t^2)
    assert grad(grad(grad(g)))(x) == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t),
                                                   rel=1e-13)


# ---- perturbation confusion: each differentiation has its own level -----------------

def test_closure_over_the_outer_variable_is_a_constant_inside():
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0
    assert grad(lambda x: grad(lambda y: x * y)(3.0))(5.0) == 1.0
    # inner derivative at y = x itself: d/dx [2 x y]_{y=x} = 4x
    assert grad(lambda x: grad(lambda y: x * y ** 2)(x))(2.0) == 8.0


@pytest.mark.parametrize("outer", [grad, deriv], ids=["rev", "fwd"])
@pytest.mark.parametrize("inner", [grad, deriv], ids=["rev", "fwd"])
def test_nested_modes_do_not_confuse_perturbations(outer, inner):
    assert outer(lambda x: x * inner(lambda y: x * y)(2.0))(1.0) == 2.0
    # d/dx [ x * d/dy (x + y)^2 at y=1 ] = d/dx [2x(x+1)] = 4x + 2
    assert outer(lambda x: x * inner(lambda y: (x + y) ** 2)(1.0))(3.0) == 14.0


def test_a_vjp_called_inside_an_outer_trace_is_recorded_there():
    # make_vjp made outside, its vjp called with g depending on the outer variable
    vjp, _ = make_vjp(lambda y: np.sin(y), 0.7)
    assert grad(lambda x: vjp(x * x))(3.0) == pytest.approx(2 * 3.0 * math.cos(0.7),
                                                            rel=1e-15)


def test_hessian_vector_product_forward_over_reverse():
    rng = onp.random.default_rng(3)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: np.sum(np.tanh(x) ** 2)              # noqa: E731
    g = lambda x: make_vjp(f, x)[0](1.0)               # noqa: E731
    _, hv = make_jvp(g, x)(v)
    t = onp.tanh(x)
    h = 2 * (1 - t ** 2) * (1 - 3 * t ** 2)            # the Hessian is diagonal
    onp.testing.assert_allclose(hv, h * v, rtol=1e-12)
    hv_rev, _ = make_vjp(g, x)
    onp.testing.assert_allclose(hv_rev(v), h * v, rtol=1e-12)


# ---- make_vjp / make_jvp: structures, types, shapes -----------------------------------

def test_structures_and_types():
    x = {"a": [1.0, onp.array([1.0, 2.0], dtype=onp.float32)], "b": (2, onp.ones((2, 2)))}

    def f(d):
        a, arr = d["a"]
        n, m = d["b"]
        return a * np.sum(arr) + n ** 2 + np.sum(m @ arr)

    vjp, ans = make_vjp(f, x)
    assert ans == pytest.approx(3.0 + 4.0 + 6.0)
    g = vjp(1.0)
    assert isinstance(g["a"][0], float) and g["a"][0] == 3.0
    assert g["a"][1].dtype == onp.float32
    onp.testing.assert_array_equal(g["a"][1], [3.0, 3.0])
    assert isinstance(g["b"], tuple) and isinstance(g["b"][0], float) and g["b"][0] == 4.0
    onp.testing.assert_array_equal(g["b"][1], [[1.0, 2.0], [1.0, 2.0]])
    assert vjp(2.0)["b"][0] == 8.0                   # a vjp may be called again
    _, t = make_jvp(f, x)({"a": [0.0, onp.zeros(2)], "b": (1.0, onp.zeros((2, 2)))})
    assert t == 4.0


def test_lists_of_arrays_take_the_fast_path_with_the_same_results():
    # all floating ndarrays (boxed in one call), and lists with other items (the general
    # path): cotangents in the list's order, each of its leaf's dtype, zeros where unused
    a, b = onp.array([1.0, 2.0]), onp.array([3.0], dtype=onp.float32)
    unused = onp.array([[5.0, 6.0]])

    def f(xs):
        return np.sum(xs[0] * xs[0]) * xs[1][0]

    for xs in ([a, b, unused], [a, b, unused, 2], [a, b, unused, onp.array([1, 2])]):
        g = make_vjp(f, xs)[0](1.0)
        assert type(g) is list and len(g) == len(xs)
        onp.testing.assert_array_equal(g[0], [6.0, 12.0])
        assert g[1].dtype == onp.float32 and g[1][0] == 5.0
        assert g[2].shape == (1, 2) and not g[2].any()
        if len(xs) == 4 and type(xs[3]) is int:
            assert type(g[3]) is float and g[3] == 0.0
        elif len(xs) == 4:
            assert g[3].dtype == onp.float64 and not g[3].any()
    with pytest.raises(TypeError, match=r"the argument\[1\]: data of dtype object"):
        make_vjp(lambda xs: xs[0], [a, onp.array([object()])])
    assert make_vjp(lambda xs: 2.0 * np.sum(xs[0]), [a])[0](onp.float64(1.0))[0][1] == 2.0


def test_bad_inputs_name_where_they_are():
    with pytest.raises(TypeError, match=r"make_vjp: .*the argument\[1\]\['z'\]: a NoneType"):
        make_vjp(lambda x: x, [1.0, {"z": None}])
    with pytest.raises(TypeError, match=r"the argument\[0\]: a str"):
        make_vjp(lambda x: x, ["s"])
    vjp, _ = make_vjp(lambda x: x * 2.0, onp.ones(3))
    with pytest.raises(ValueError, match=r"g of shape \(2,\) does not match the output's "
                                         r"shape \(3,\)"):
        vjp(onp.ones(2))
    with pytest.raises(TypeError, match=r"make_jvp: .*tangent has shape \(2,\), the "
                                        r"argument \(3,\)"):
        make_jvp(lambda x: x, onp.ones(3))(onp.ones(2))
    with pytest.raises(TypeError, match="must return an array, a number or a Tensor, it "
                                        "returned a list"):
        make_vjp(lambda x: [x], 1.0)


def test_ints_are_promoted_and_float32_kept():
    vjp, ans = make_vjp(lambda x: x * x, onp.array([1, 2]))
    assert ans.dtype == onp.float64
    onp.testing.assert_array_equal(vjp(onp.ones(2)), [2.0, 4.0])
    vjp, ans = make_vjp(lambda x: x * x, onp.array([1.0, 2.0], dtype=onp.float32))
    assert ans.dtype == onp.float32 and vjp(onp.ones(2)).dtype == onp.float32
    ans, t = make_jvp(lambda x: x * x, onp.array([1.0], dtype=onp.float32))(onp.ones(1))
    assert t.dtype == onp.float32 and t[0] == 2.0
    assert grad(lambda x: x * x)(3) == 6.0


@pytest.mark.parametrize("fun", [lambda x: 3.0, lambda x: float(x) * 2.0,
                                 lambda x: np.sin(x.item())],
                         ids=["constant", "float()", "item()"])
def test_output_independent_of_input_warns_and_gives_zeros(fun):
    with pytest.warns(UserWarning, match="Output seems independent of input."):
        vjp, ans = make_vjp(fun, Tensor(1.5).data)
    assert vjp(1.0).shape == () and vjp(1.0) == 0.0
    with pytest.warns(UserWarning, match="Output seems independent of input."):
        assert make_jvp(fun, 1.5)(1.0)[1] == 0.0
    with pytest.warns(UserWarning, match="Output seems independent of input."):
        assert grad(fun)(1.5) == 0.0


def test_an_eager_tensor_is_differentiated_through():
    w = Tensor([1.0, 2.0], requires_grad=True)
    vjp, ans = make_vjp(lambda x: np.sum(x * x), w)
    g = vjp(1.0)
    assert isinstance(g, Tensor) and g.requires_grad          # recorded on the tape
    g.sum().backward()
    onp.testing.assert_array_equal(w.grad, [2.0, 2.0])


def test_no_grad_inside_a_trace_cuts_it():
    def f(x):
        with fg.no_grad():
            return x * 2.0
    with pytest.warns(UserWarning, match="independent"):
        assert grad(f)(1.0) == 0.0


# ---- PyTorch style: backward(create_graph=True) ---------------------------------------

def test_create_graph_leaves_a_differentiable_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and not g.is_leaf
    onp.testing.assert_array_equal(g.data, 3 * x.data ** 2)
    x.grad = None
    g.sum().backward()
    onp.testing.assert_array_equal(x.grad, 6 * x.data)


def test_create_graph_third_order():
    x = Tensor(0.4, requires_grad=True)
    x.sin().backward(create_graph=True)
    g1 = x.grad
    x.grad = None
    g1.backward(create_graph=True)
    g2 = x.grad
    x.grad = None
    g2.backward()
    assert g1.item() == math.cos(0.4) and g2.item() == -math.sin(0.4)
    assert x.grad == -math.cos(0.4)


def test_create_graph_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = onp.random.default_rng(5)
    X, W1, b1, W2 = (rng.standard_normal(s) for s in [(6, 4), (4, 5), (5,), (5, 3)])
    ws = [Tensor(a, requires_grad=True) for a in (W1, b1, W2)]
    loss = fg.cross_entropy(fg.linear(X, ws[0], ws[1]).tanh() @ ws[2],
                            onp.array([0, 2, 1, 1, 0, 2]))
    loss.backward(create_graph=True)
    gs = [w.grad for w in ws]
    for w in ws:
        w.grad = None
    penalty = sum((g * g).sum() for g in gs)
    penalty.backward()

    tw = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2)]
    tl = torch.nn.functional.cross_entropy(
        torch.tanh(torch.tensor(X) @ tw[0] + tw[1]) @ tw[2], torch.tensor([0, 2, 1, 1, 0, 2]))
    tg = torch.autograd.grad(tl, tw, create_graph=True)
    sum((g * g).sum() for g in tg).backward()
    for g, t in zip(gs, tg):
        onp.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
    for w, t in zip(ws, tw):
        onp.testing.assert_allclose(w.grad, t.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_double_backward_closed_form():
    # f = sum(exp(a) * b): df/da = exp(a) b; d/db sum(df/da) = exp(a); d/da = exp(a) b
    a = Tensor([0.1, -0.3], requires_grad=True)
    b = Tensor([2.0, 5.0], requires_grad=True)
    (a.exp() * b).sum().backward(create_graph=True)
    ga = a.grad
    a.grad = b.grad = None
    ga.sum().backward()
    onp.testing.assert_allclose(a.grad, onp.exp(a.data) * b.data, rtol=1e-15)
    onp.testing.assert_allclose(b.grad, onp.exp(a.data), rtol=1e-15)
