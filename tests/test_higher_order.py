"""autograd's functional API at any order: nested grad, jacobian/hessian, forward mode,
Hessian-vector products, perturbation confusion; closed forms and torch.func float64."""
import math
import warnings

import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import (checkpoint, deriv, elementwise_grad, grad, grad_and_aux, grad_named,
                      hessian, hessian_tensor_product, hessian_vector_product,
                      holomorphic_grad, jacobian, make_ggnvp, make_hvp, make_jvp, make_vjp,
                      multigrad_dict, tensor_jacobian_product, value_and_grad,
                      vector_jacobian_product)

TIGHT = dict(rtol=1e-12, atol=1e-12)


def close(a, b, **tol):
    onp.testing.assert_allclose(onp.asarray(a, float), onp.asarray(b, float),
                                **(tol or TIGHT))


# ---- the examples of issue 12 ------------------------------------------------------------

def test_second_derivative_of_sin():
    assert grad(grad(np.sin))(0.5) == pytest.approx(-math.sin(0.5), rel=1e-15)
    assert abs(grad(grad(np.sin))(0.5) - -0.479425538604203) < 1e-15


def test_second_derivative_of_a_cube():
    assert grad(grad(lambda x: x ** 3))(2.0) == 12.0


def test_inner_gradient_does_not_leak_into_the_outer_input():
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0


# ---- third and higher derivatives ----------------------------------------------------------

@pytest.mark.parametrize("f,d3", [
    (np.sin, lambda x: -math.cos(x)),
    (lambda x: np.exp(2 * x), lambda x: 8 * math.exp(2 * x)),
    (lambda x: x ** 4, lambda x: 24 * x),
    (lambda x: np.tanh(x), lambda x: -2 * (1 - math.tanh(x) ** 2)
     * (1 - 3 * math.tanh(x) ** 2)),
    (lambda x: np.log(x) * x, lambda x: -1 / x ** 2),
], ids=["sin", "exp2x", "x4", "tanh", "xlogx"])
def test_third_derivatives(f, d3):
    for x in (0.3, 1.7):
        assert grad(grad(grad(f)))(x) == pytest.approx(d3(x), rel=1e-12, abs=1e-13)


def test_fourth_derivative_and_mixed_partials():
    assert grad(grad(grad(grad(np.sin))))(0.7) == pytest.approx(math.sin(0.7), rel=1e-13)
    f = lambda x, y: x ** 3 * y ** 2                  # noqa: E731
    d_xxy = grad(grad(grad(f, 0), 0), 1)              # 6 x * 2 y
    assert d_xxy(1.5, 2.0) == pytest.approx(12 * 1.5 * 2.0, rel=1e-14)
    d_xy = grad(grad(f, 1), 0)                        # 3 x^2 * 2 y
    assert d_xy(1.5, 2.0) == pytest.approx(6 * 1.5 ** 2 * 2.0, rel=1e-14)


def test_value_and_grad_value_is_differentiable_inside_an_outer_grad():
    vg = value_and_grad(lambda x: np.sum(np.sin(x) ** 2))
    x = onp.array([0.2, -1.1, 0.5])
    value, g = vg(x)
    assert isinstance(value, float) and value == pytest.approx(onp.sum(onp.sin(x) ** 2))
    close(grad(lambda x: vg(x)[0])(x), 2 * onp.sin(x) * onp.cos(x))
    close(g, 2 * onp.sin(x) * onp.cos(x))


# ---- perturbation confusion: each differentiation sees the others' values as constants ----

def test_outer_variable_in_a_closure_is_a_constant_to_the_inner_grad():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; confusing the levels gives 2
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0
    # the inner derivative evaluated at the outer variable: d/dy (x y + y^2) at y = x is 3x
    assert grad(lambda x: grad(lambda y: x * y + y * y)(x))(0.5) == 3.0
    assert grad(lambda x: grad(lambda y: y * x)(x))(3.0) == 1.0


def test_three_levels_of_closures():
    f = lambda x: grad(lambda y: grad(lambda z: x * y * z)(1.0))(1.0)   # noqa: E731
    assert grad(f)(1.0) == 1.0
    # innermost d/dz (x y z^2) = 2xyz at z = y; the middle d/dy (y * 2xy^2) = 6xy^2 at
    # y = x: 6x^3; the outer d/dx = 18 x^2
    g = lambda x: grad(lambda y: y * grad(lambda z: x * y * z * z)(y))(x)  # noqa: E731
    assert g(0.5) == pytest.approx(6 * 0.5 ** 3, rel=1e-15)
    assert grad(g)(0.5) == pytest.approx(18 * 0.25, rel=1e-15)


def test_the_same_function_differentiated_at_two_levels():
    f = lambda x, y: np.sin(x * y)                    # noqa: E731
    # d/dx of [df/dy at (x, x)] = d/dx [x cos(x^2)] = cos(x^2) - 2 x^2 sin(x^2)
    h = lambda x: grad(f, 1)(x, x)                    # noqa: E731
    x = 0.8
    assert grad(h)(x) == pytest.approx(math.cos(x * x) - 2 * x * x * math.sin(x * x),
                                       rel=1e-14)


def test_arrays_closed_over_by_an_inner_gradient():
    w = onp.array([0.3, -0.2, 0.9])

    def outer(a):
        inner = grad(lambda b: np.sum(a * b ** 2))(w)     # 2 a w
        return np.sum(inner * a)                         # 2 sum(a^2 w)
    a = onp.array([1.0, 2.0, -0.5])
    close(grad(outer)(a), 4 * a * w)


def test_jacobian_of_a_function_that_takes_a_gradient_of_a_closure():
    def f(x):
        return np.stack([grad(lambda y: x[0] * y ** 2)(x[1]), x[0] * x[1]])  # [2 x0 x1, x0 x1]
    x = onp.array([1.5, -0.5])
    close(jacobian(f)(x), [[2 * x[1], 2 * x[0]], [x[1], x[0]]])


def test_tuples_of_closures_at_several_orders():
    def outer(x):
        return np.sum(np.sin(np.array(grad(lambda y: y[0] * y[1])((x, x)))))  # 2 sin x
    assert grad(outer)(0.4) == pytest.approx(2 * math.cos(0.4), rel=1e-14)
    assert grad(grad(outer))(0.4) == pytest.approx(-2 * math.sin(0.4), rel=1e-14)


# ---- jacobian / hessian against closed forms ----------------------------------------------

A = onp.array([[0.3, -1.2, 0.5], [0.9, 0.1, -0.4]])


def test_jacobian_closed_forms():
    x = onp.array([0.4, -0.7, 1.1])
    y = onp.tanh(A @ x)
    close(jacobian(lambda x: np.tanh(A @ x))(x), (1 - y ** 2)[:, None] * A)
    t = 0.6
    close(jacobian(lambda t: np.stack([t, t ** 2, t ** 3]))(t), [1.0, 2 * t, 3 * t * t])
    assert jacobian(lambda x: np.sin(x) * 2)(onp.ones((2, 3))).shape == (2, 3, 2, 3)
    close(jacobian(lambda x: np.sum(x ** 2))(x), 2 * x)          # scalar output: a gradient


def test_jacobian_of_jacobian_shapes_and_values():
    x = onp.array([0.3, 0.8])
    fun = lambda x: np.sin(x[:, None] * x[None, :])     # noqa: E731
    J = jacobian(fun)(x)
    assert J.shape == (2, 2, 2)
    JJ = jacobian(jacobian(fun))(x)
    assert JJ.shape == (2, 2, 2, 2)
    # d^2 sin(x_i x_j) / dx_k dx_l, written out
    expected = onp.zeros((2, 2, 2, 2))
    for i, j, k, l in onp.ndindex(2, 2, 2, 2):
        u = x[i] * x[j]
        du_k = (i == k) * x[j] + (j == k) * x[i]
        du_l = (i == l) * x[j] + (j == l) * x[i]
        d2u = (i == k) * (j == l) + (j == k) * (i == l)
        expected[i, j, k, l] = -onp.sin(u) * du_k * du_l + onp.cos(u) * d2u
    close(JJ, expected)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = len(x)
    H = onp.zeros((n, n))
    for j in range(n):
        if j < n - 1:
            H[j, j] += 1200 * x[j] ** 2 - 400 * x[j + 1] + 2
            H[j, j + 1] = H[j + 1, j] = -400 * x[j]
        if j > 0:
            H[j, j] += 200
    return H


def test_hessian_closed_forms():
    rng = onp.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    close(hessian(lambda x: x @ M @ x)(x), M + M.T)
    z = rng.normal(size=10)
    close(hessian(rosenbrock)(z), rosenbrock_hessian(z), rtol=1e-12, atol=1e-9)
    assert hessian(lambda t: t ** 3)(2.0) == pytest.approx(12.0)
    assert hessian(lambda x: np.sum(x ** 3))(onp.ones((2, 3))).shape == (2, 3, 2, 3)


def test_elementwise_grad_is_the_diagonal_of_an_elementwise_jacobian():
    x = onp.linspace(-1, 1, 7)
    f = lambda a: a + np.sin(a) + np.exp(a) * a         # noqa: E731
    close(elementwise_grad(f)(x), onp.diag(jacobian(f)(x)))
    close(elementwise_grad(f)(x), 1 + onp.cos(x) + onp.exp(x) * (1 + x))
    close(elementwise_grad(lambda a, b: a * b, 1)(2.0, x), onp.full(7, 2.0))


# ---- forward mode ------------------------------------------------------------------------

def test_make_jvp_and_deriv():
    x = onp.array([0.4, -0.7, 1.1])
    v = onp.array([1.0, 0.5, -2.0])
    ans, t = make_jvp(lambda x: np.tanh(A @ x))(x)(v)
    close(ans, onp.tanh(A @ x))
    close(t, (1 - onp.tanh(A @ x) ** 2) * (A @ v))
    assert deriv(lambda x: (x + np.sin(x ** 2)) * x)(1.3) == pytest.approx(3.190948746871,
                                                                           abs=1e-12)
    assert deriv(deriv(np.sin))(0.5) == pytest.approx(-math.sin(0.5), rel=1e-15)
    # forward over reverse and reverse over forward agree
    assert deriv(grad(np.sin))(0.5) == pytest.approx(grad(deriv(np.sin))(0.5), rel=1e-15)


def test_make_jvp_with_a_tuple_argnum():
    ans, t = make_jvp(lambda a, b: a * b ** 2, (0, 1))(2.0, 3.0)((1.0, 10.0))
    assert ans == 18.0 and t == pytest.approx(9.0 + 2 * 2.0 * 3.0 * 10.0)


def test_make_vjp_repeated_calls():
    vjp, ans = make_vjp(lambda x: np.tanh(A @ x))(onp.array([0.4, -0.7, 1.1]))
    J = (1 - ans ** 2)[:, None] * A
    for g in (onp.array([1.0, 0.0]), onp.array([0.3, -2.0]), onp.array([0.0, 1.0])):
        close(vjp(g), g @ J)


# ---- Hessian-vector products --------------------------------------------------------------

def test_hessian_vector_products_against_the_hessian():
    rng = onp.random.default_rng(1)
    fun = lambda a: np.sum(np.sin(a)) + np.sum(a ** 2) * np.sum(a)   # noqa: E731
    a, v = rng.normal(size=5), rng.normal(size=5)
    H = hessian(fun)(a)
    close(hessian_tensor_product(fun)(a, v), H @ v)
    assert hessian_vector_product is hessian_tensor_product
    hvp, g = make_hvp(fun)(a)
    close(hvp(v), H @ v)
    close(hvp(2 * v), 2 * H @ v)
    close(g, grad(fun)(a))
    M, V = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    HM = hessian(fun)(M)
    close(hessian_tensor_product(fun)(M, V), onp.tensordot(HM, V, 2))
    # another argnum, the others as constants
    f2 = lambda c, a: c * np.sum(a ** 3)              # noqa: E731
    close(hessian_tensor_product(f2, 1)(2.0, a, v), 2.0 * 6 * a * v)


def test_hessian_vector_product_of_the_rosenbrock_function():
    z, v = onp.linspace(-1, 1, 100), onp.cos(onp.arange(100.0))
    close(hessian_vector_product(rosenbrock)(z, v), rosenbrock_hessian(z) @ v,
          rtol=1e-12, atol=1e-9)


def test_hessian_tensor_product_needs_a_vector_like_the_argument():
    with pytest.raises(ValueError, match=r"hessian_tensor_product: the vector must have "
                       r"the shape and structure of the argument; the argument is \(5,\), "
                       r"the vector \(4,\)"):
        hessian_tensor_product(lambda a: np.sum(a ** 3))(onp.ones(5), onp.ones(4))
    with pytest.raises(TypeError, match="followed by the vector"):
        hessian_tensor_product(lambda a: a)()


def test_generalised_gauss_newton_products():
    rng = onp.random.default_rng(2)
    B = rng.normal(size=(5, 4))
    x, v = rng.normal(size=4), rng.normal(size=4)
    for f in (lambda x: B @ x, lambda x: np.tanh(B @ x)):
        for g, Hg in ((None, lambda y: onp.eye(5)),
                      (lambda y: np.sum(2.0 * y ** 2 + y ** 4),
                       lambda y: onp.diag(4.0 + 12 * y ** 2))):
            J = jacobian(f)(x)
            y = onp.asarray(f(x))
            expected = J.T @ Hg(y) @ J @ v
            ggnvp = make_ggnvp(f) if g is None else make_ggnvp(f, g)
            close(ggnvp(x)(v), expected)


# ---- vector / tensor Jacobian products ---------------------------------------------------

def test_tensor_jacobian_products():
    rng = onp.random.default_rng(3)
    fun = lambda a: np.sin(a) * np.sum(a)              # noqa: E731
    a, V = rng.normal(size=5), rng.normal(size=5)
    close(tensor_jacobian_product(fun)(a, V), V @ jacobian(fun)(a))
    a3, V2 = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4))
    close(vector_jacobian_product(fun)(a3, V2),
          onp.tensordot(V2, jacobian(fun)(a3), axes=2))
    with pytest.raises(ValueError, match=r"the tensor has shape \(4,\), which is not the "
                       r"leading part of the output's shape \(5,\)"):
        tensor_jacobian_product(fun)(a, onp.ones(4))


# ---- the other operators ------------------------------------------------------------------

def test_grad_and_aux():
    x = onp.array([0.5, -1.0])
    g, aux = grad_and_aux(lambda x: (np.sum(np.sin(x)), x ** 2))(x)
    close(g, onp.cos(x))
    close(aux, x ** 2)
    assert type(aux) is onp.ndarray
    g, aux = grad_and_aux(lambda x: (np.sum(x ** 3), {"sq": [x ** 2, x[0]], "name": "n",
                                                       "n": 3}))(x)
    close(g, 3 * x ** 2)
    close(aux["sq"][0], x ** 2)
    assert aux["sq"][1] == 0.5 and aux["name"] == "n" and aux["n"] == 3
    # inside an outer differentiation, aux stays differentiable by it
    outer = grad(lambda s: np.sum(grad_and_aux(lambda x: (np.sum(x * s), x * s))(x)[1]))
    assert outer(2.0) == pytest.approx(onp.sum(x), rel=1e-15)


def test_grad_named_and_multigrad_dict():
    def f(a, b, c=2.0, *rest, scale=1.0):
        return (a * b ** 2 + c + sum(rest)) * scale
    assert grad_named(f, "b")(1.5, 2.0) == 6.0
    assert grad_named(f, "c")(1.5, 2.0) == 1.0              # c from its default
    assert grad_named(f, "a")(a=1.5, b=2.0, scale=2.0) == 8.0
    with pytest.raises(ValueError, match=r"grad_named: f has no parameter 'scale' that "
                       r"can be passed by position; its positional parameters are "
                       r"\('a', 'b', 'c'\)"):
        grad_named(f, "scale")
    grads = multigrad_dict(f)(1.5, 2.0, 3.0, 4.0, scale=2.0)
    assert list(grads) == ["a", "b", "c", "rest", "scale"]
    assert grads["a"] == 8.0 and grads["b"] == 12.0 and grads["c"] == 2.0
    assert grads["rest"] == (2.0,)
    assert grads["scale"] == pytest.approx(1.5 * 4 + 3 + 4)


def test_holomorphic_grad_of_a_real_input_warns_and_differentiates():
    with pytest.warns(UserWarning, match="Input to holomorphic_grad is not complex"):
        assert holomorphic_grad(lambda x: x ** 2)(3.0) == 6.0


def test_checkpoint_recomputes_and_differentiates_at_every_order():
    calls = []

    def block(a):
        calls.append(1)
        for _ in range(3):
            a = np.sin(a * a + 1.0)
        return a
    cp = checkpoint(block)
    x = onp.array([0.3, -0.4])
    close(cp(x), block(x))
    loss = lambda f: lambda x: np.sum(f(f(x)))        # noqa: E731
    calls.clear()
    close(grad(loss(cp))(x), grad(loss(block))(x))
    assert len(calls) > 2             # the forward pass ran again for the backward pass
    close(hessian(loss(cp))(x), hessian(loss(block))(x))
    close(deriv(loss(cp))(x), deriv(loss(block))(x))


def test_operators_are_named_as_autograds():
    def foo(x):
        return x
    assert grad.__name__ == "grad" and jacobian.__name__ == "jacobian"
    assert grad(foo, 1).__name__ == "grad_of_foo_wrt_argnum_1"
    assert grad(foo, 1).__doc__.startswith("    grad of function foo with")
    assert "Parameters" in grad.__doc__


# ---- against PyTorch's torch.func, float64 -------------------------------------------------

CASES = {   # name: (fastgrad function, torch function, input shape)
    "tanh_affine": (lambda x: np.tanh(A @ x) * 2.0, lambda t, x: t.tanh(t.tensor(A) @ x) * 2.0,
                    (3,)),
    "exp_log": (lambda x: np.log(1.0 + np.exp(x)) * np.sum(x ** 2),
                lambda t, x: t.log(1.0 + t.exp(x)) * t.sum(x ** 2), (4,)),
    "matrix": (lambda x: np.sum(np.sin(x @ x.T), axis=0),
               lambda t, x: t.sum(t.sin(x @ x.T), 0), (3, 2)),
    "sqrt_mean": (lambda x: np.sqrt(x * x + 1.0) / np.mean(x * x + 2.0),
                  lambda t, x: t.sqrt(x * x + 1.0) / t.mean(x * x + 2.0), (2, 2)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobian_hessian_jvp_against_torch_func(name):
    torch = pytest.importorskip("torch")
    from torch import func
    ours, theirs, shape = CASES[name]
    rng = onp.random.default_rng(4)
    x, v = rng.uniform(0.1, 1.0, shape), rng.normal(size=shape)
    tx, tv = torch.tensor(x), torch.tensor(v)
    tf = lambda t_x: theirs(torch, t_x)               # noqa: E731
    close(jacobian(ours)(x), func.jacrev(tf)(tx).numpy())
    close(make_jvp(ours)(x)(v)[1], func.jvp(tf, (tx,), (tv,))[1].numpy())
    scalar = lambda x: np.sum(ours(x) ** 2)           # noqa: E731
    tscalar = lambda t_x: torch.sum(tf(t_x) ** 2)     # noqa: E731
    close(hessian(scalar)(x), func.hessian(tscalar)(tx).numpy())
    tgrad = func.grad(tscalar)
    close(hessian_vector_product(scalar)(x, v), func.jvp(tgrad, (tx,), (tv,))[1].numpy())
    close(hessian(ours)(x), func.jacrev(func.jacrev(tf))(tx).numpy())


def test_grad_of_a_constant_after_a_warning_at_higher_order():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert grad(grad(lambda x: x))(2.0) == 0.0
    assert any("independent of input" in str(w.message) for w in caught)


def test_make_vjp_and_make_jvp_of_functions_returning_containers():
    x = onp.array([0.5, -1.5])
    fun = lambda x: (x ** 2, {"s": np.sum(x), "c": 3.0})      # noqa: E731
    vjp, (sq, d) = make_vjp(fun)(x)
    close(sq, x ** 2)
    assert d["s"] == pytest.approx(-1.0) and d["c"] == 3.0
    close(vjp((onp.array([1.0, 2.0]), {"s": 10.0, "c": 5.0})), 2 * x * [1.0, 2.0] + 10.0)
    with pytest.raises(ValueError, match=r"make_vjp: the cotangent must have the shape and "
                       r"structure of the output"):
        vjp((onp.ones(2), {"s": 1.0}))
    (sq, d), (tsq, td) = make_jvp(fun)(x)(onp.array([1.0, -1.0]))
    close(tsq, 2 * x * [1.0, -1.0])
    assert td["s"] == 0.0 and td["c"] == 0.0
    # the cotangent of a function of two arguments is a tuple: differentiable again
    close(jacobian(lambda x: grad(lambda a, b: np.sum(a * b ** 2), (0, 1))(x, x)[1])(x),
          onp.diag(4 * x))


def test_hessian_vector_products_run_forward_over_reverse():
    from fastgrad.extend import defjvp, defvjp, primitive
    forward_calls = []

    @primitive
    def cube(x):
        return x ** 3
    defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
    defjvp(cube, lambda g, ans, x: forward_calls.append(1) or g * 3 * x ** 2)
    x, v = onp.array([0.5, -2.0]), onp.array([1.0, 3.0])
    hvp, g = make_hvp(lambda x: np.sum(cube(x)))(x)
    close(g, 3 * x ** 2)
    assert not forward_calls                       # the gradient alone: reverse mode
    close(hvp(v), 6 * x * v)
    assert forward_calls                           # H v: the forward rule carried v
    forward_calls.clear()
    close(hessian_vector_product(lambda x: np.sum(cube(x)))(x, v), 6 * x * v)
    assert forward_calls


# ---- power at a zero base or exponent: the masked branch must not leak nan -----------------

@pytest.mark.parametrize("outer", [grad, deriv])
def test_second_derivative_of_power_in_the_exponent_at_base_zero(outer):
    # d/dy 0**y = 0 for y > 0 (PyTorch's convention); its derivative is 0 too, not nan
    for inner in (grad, deriv):
        assert outer(inner(lambda y: np.power(0.0, y)))(0.14) == 0.0


def test_hessian_of_power_with_a_zero_exponent_or_base():
    exponents = onp.array([0.0, 2.0, 3.0])
    f = lambda x: np.sum(x ** exponents)                  # noqa: E731
    for x in (onp.array([0.0, 0.0, 1.0]), onp.array([0.5, 0.0, 1.0])):
        H = hessian(f)(x)
        close(H, onp.diag(exponents * (exponents - 1) * onp.where(
            exponents >= 2, x ** onp.maximum(exponents - 2, 0), 0.0)))
