"""Complex numbers (``fastgrad/ops/complex.py`` and the core's complex support): one case
per row, the holomorphic compiled rows on complex operands, and autograd's conventions
checked against its published examples and against central differences along the real
and the imaginary direction."""
import warnings

import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor, grad, holomorphic_grad
from fastgrad.core import make_jvp, make_vjp
from opcheck import ANY, COMPLEX, Case, parametrize_cases


def _torch():
    return __import__("torch")


def _holomorphic(z, w):
    # compiled rows on complex operands: sin exp tanh sqrt log * / + - ** sum, broadcast
    return np.sum(np.sin(z) * np.exp(w) / (3.0 + w) + np.sqrt(z + 3.0) * np.log(w + 3.0)
                  - np.tanh(z) ** 2 + z ** 3 - 2j * w, axis=0)


def _t_holomorphic(z, w):
    t = _torch()
    return t.sum(t.sin(z) * t.exp(w) / (3.0 + w) + t.sqrt(z + 3.0) * t.log(w + 3.0)
                 - t.tanh(z) ** 2 + z ** 3 - 2j * w, dim=0)


CASES = {
    "real": Case(lambda z: np.real(z), [(2, 3)], COMPLEX, lambda z: _torch().real(z),
                 rows=["real"]),
    "real_of_real": Case(lambda x: np.real(x), [(2, 3)], ANY, lambda x: _torch().real(x),
                         rows=["real"]),
    "real_if_close": Case(lambda z: np.real_if_close(z * 1e-300 + np.real(z)), [(2, 3)],
                          COMPLEX, lambda z: _torch().real(z), rows=["real_if_close"]),
    "real_if_close_complex": Case(lambda z: np.imag(np.real_if_close(z)), [(2, 3)], COMPLEX,
                                  lambda z: _torch().imag(z), rows=["real_if_close"]),
    "imag": Case(lambda z: np.imag(z), [(2, 3)], COMPLEX, lambda z: _torch().imag(z),
                 rows=["imag"]),
    "imag_of_real_times_i": Case(lambda x: np.imag(x * (2 + 3j)), [(2, 3)], ANY,
                                 lambda x: _torch().imag(x * (2 + 3j)), rows=["imag"]),
    "conj": Case(lambda z: np.imag(np.conj(z) * np.sin(z)), [(2, 3)], COMPLEX,
                 lambda z: _torch().imag(_torch().conj(z) * _torch().sin(z)),
                 rows=["conjugate"]),
    "conj_complex_out": Case(lambda z: np.conjugate(z) * z ** 2, [(3,)], COMPLEX,
                             rows=["conjugate"]),
    "angle": Case(lambda z: np.angle(z), [(2, 3)], COMPLEX, lambda z: _torch().angle(z),
                  rows=["angle"]),
    "angle_deg": Case(lambda z: np.angle(z, deg=True), [(2, 3)], COMPLEX,
                      lambda z: _torch().angle(z) * (180 / onp.pi), rows=["angle"],
                      call=lambda f, z: f(z, deg=True)),
    "angle_deg_positional": Case(lambda z: np.angle(z, True), [(3,)], COMPLEX,
                                 lambda z: _torch().angle(z) * (180 / onp.pi)),
    "angle_of_real": Case(lambda x: np.angle(x), [(2, 3)], ANY, lambda x: _torch().angle(x),
                          rows=["angle"]),
    "abs": Case(lambda z: np.abs(z), [(2, 3)], COMPLEX, lambda z: _torch().abs(z)),
    "abs_squared": Case(lambda z: np.abs(z) ** 2, [(4,)], COMPLEX,
                        lambda z: _torch().abs(z) ** 2),
    "holomorphic": Case(_holomorphic, [(2, 3), (3,)], COMPLEX),
    "holomorphic_abs": Case(lambda z, w: np.abs(_holomorphic(z, w)), [(2, 3), (3,)], COMPLEX,
                            lambda z, w: _torch().abs(_t_holomorphic(z, w))),
    "matmul": Case(lambda a, b: np.real(a @ b) * np.imag(a @ b), [(2, 3), (3, 4)], COMPLEX,
                   lambda a, b: _torch().real(a @ b) * _torch().imag(a @ b)),
    # real operands, complex intermediates: a real operand keeps the real part
    "real_through_complex": Case(lambda x, y: np.real(np.exp(x * 1j) * y + x * y * 2j),
                                 [(2, 3), (3,)], ANY,
                                 lambda x, y: _torch().real(_torch().exp(x * 1j) * y
                                                            + x * y * 2j)),
}

test_complex = parametrize_cases(CASES, checks=("value", "derivatives", "torch", "float32",
                                                "complex64"))


# ---- autograd's conventions ---------------------------------------------------------------

Z = 1.1 + 1.3j


def _central(f, z, direction, eps=1e-6):
    return (f(z + eps / 2 * direction) - f(z - eps / 2 * direction)) / eps


def test_grad_of_a_real_function_is_df_dx_minus_i_df_dy():
    # autograd's tutorial: grad(f)(z) = grad(u, 0)(x, y) - 1j * grad(u, 1)(x, y)
    for f in (lambda z: np.abs(z) ** 2, lambda z: np.abs(z), lambda z: np.angle(z),
              lambda z: np.real(np.sin(z) * np.conj(z)), lambda z: np.imag(z ** 3)):
        expected = _central(f, Z, 1.0) - 1j * _central(f, Z, 1j)
        got = grad(f)(Z)
        assert isinstance(got, complex)
        assert abs(got - expected) < 1e-8, (got, expected)


def test_grad_of_abs_squared_is_twice_the_conjugate():
    z = onp.array([1.5 + 2j, -0.5 - 1j])
    onp.testing.assert_allclose(grad(lambda z: np.sum(np.abs(z) ** 2))(z), 2 * onp.conj(z),
                                rtol=1e-15)
    onp.testing.assert_allclose(grad(lambda z: np.sum(np.real(z * np.conj(z))))(z),
                                2 * onp.conj(z), rtol=1e-15)


def test_holomorphic_grad_is_the_complex_derivative():
    for f, df in ((np.sin, onp.cos), (np.exp, onp.exp), (lambda z: z ** 3, lambda z: 3 * z ** 2),
                  (lambda z: 1 / z, lambda z: -1 / z ** 2), (np.tanh, lambda z: 1 - onp.tanh(z) ** 2),
                  (np.log, lambda z: 1 / z), (np.sqrt, lambda z: 0.5 / onp.sqrt(z))):
        got = holomorphic_grad(f)(Z)
        assert abs(got - df(Z)) < 1e-12, (f, got, df(Z))
        # and along both directions: f(z + h) ~ f(z) + f'(z) h
        for direction in (1.0, 1j):
            assert abs(_central(f, Z, direction) - got * direction) < 1e-7


def test_autograd_real_type():
    # autograd's test_complex.py: test_real_type / test_real_if_close_type
    df = grad(lambda x: np.sum(np.real(x)))
    assert onp.isrealobj(df(2.0)) and onp.iscomplexobj(df(1.0j))
    assert df(1.0j) == 1.0


def test_the_holomorphic_rows_are_not_conjugated():
    # the VJP of a holomorphic primitive is g * f'(z): autograd's convention
    z = onp.array([0.3 + 0.7j, -1.2 + 0.1j])
    g = onp.array([1.0 - 2.0j, 0.5 + 0.25j])
    for f, df in ((np.sin, onp.cos), (np.exp, onp.exp), (np.tanh, lambda z: 1 - onp.tanh(z) ** 2),
                  (lambda z: z * (2 - 1j), lambda z: 2 - 1j), (lambda z: z / (1 + 1j),
                                                              lambda z: 1 / (1 + 1j))):
        vjp, _ = make_vjp(f, z)
        onp.testing.assert_allclose(vjp(g), g * df(z), rtol=1e-14)
        _, tangent = make_jvp(f, z)(g)
        onp.testing.assert_allclose(tangent, g * df(z), rtol=1e-14)


def test_abs_and_angle_rules_match_autograd():
    z = onp.array([1.1 + 1.2j, -0.3 + 2.0j, 0.0 + 0.0j])
    g = onp.array([0.7, -1.3, 2.0])
    vjp, ans = make_vjp(np.abs, z)
    onp.testing.assert_allclose(vjp(g), g * onp.conj(z) / onp.where(ans == 0, 1, ans))
    assert vjp(g)[2] == 0                                     # abs'(0) = 0
    vjp, _ = make_vjp(np.angle, z[:2])
    onp.testing.assert_allclose(vjp(g[:2]), g[:2] * onp.conj(z[:2] * 1j) / onp.abs(z[:2]) ** 2)


def test_a_real_operand_keeps_the_real_part():
    x = Tensor(onp.array([0.5, -1.0]), requires_grad=True)
    z = Tensor(onp.array([1.0 + 2.0j, 0.5 - 0.5j]), requires_grad=True)
    out = np.sum(np.real(x * z * (1 - 1j)))
    out.backward()
    assert x.grad.dtype == onp.float64 and z.grad.dtype == onp.complex128
    onp.testing.assert_allclose(x.grad, onp.real(z.data * (1 - 1j)), rtol=1e-15)
    onp.testing.assert_allclose(z.grad, x.data * (1 - 1j), rtol=1e-15)


def test_complex_dtypes_are_kept():
    t = Tensor(onp.ones(3, onp.complex64), requires_grad=True)
    assert t.dtype == onp.complex64
    y = np.sin(t) * 2j + t * t
    assert y.dtype == onp.complex64
    np.sum(np.abs(y)).backward()
    assert t.grad.dtype == onp.complex64
    x = Tensor(onp.ones(3, onp.float32), requires_grad=True)
    w = x * 1j
    assert w.dtype == onp.complex64                  # Python complex numbers are weak
    np.sum(np.imag(w)).backward()
    assert x.grad.dtype == onp.float32 and (x.grad == 1).all()
    assert Tensor([1, 2], dtype=onp.complex128).dtype == onp.complex128
    assert Tensor(1j).dtype == onp.complex128


def test_complex_outputs_take_complex_cotangents():
    z = onp.array([0.5 + 1j, 2 - 1j])
    vjp, ans = make_vjp(lambda z: z ** 2, z)
    onp.testing.assert_allclose(vjp(onp.array([1j, 1.0])), [1j * 2 * z[0], 2 * z[1]])
    vjp, _ = make_vjp(np.abs, z)
    with pytest.raises(TypeError, match=r"g must be real numbers \(the output is real\)"):
        vjp(onp.array([1j, 1.0]))


def test_backward_on_complex_tensors():
    z = Tensor(onp.array([1 + 1j, 2 - 3j]), requires_grad=True)
    (np.sum(np.abs(z) ** 2)).backward()
    onp.testing.assert_allclose(z.grad, 2 * onp.conj(z.data))
    z.grad = None
    np.sum(z ** 2).backward()                        # a complex root: seed 1
    onp.testing.assert_allclose(z.grad, 2 * z.data)


def test_tensor_attributes_and_methods():
    z = Tensor(onp.array([1 + 2j, 3 - 4j]), requires_grad=True)
    onp.testing.assert_array_equal(z.real.data, [1, 3])
    onp.testing.assert_array_equal(z.imag.data, [2, -4])
    onp.testing.assert_array_equal(z.conj().data, [1 - 2j, 3 + 4j])
    onp.testing.assert_array_equal(z.conjugate().data, [1 - 2j, 3 + 4j])
    onp.testing.assert_array_equal(abs(z).data, [onp.sqrt(5), 5])
    assert z.real.op == "real" and z.conj().op == "conj"


def test_tests_without_a_derivative_return_constants():
    z = Tensor(onp.array([1 + 2j, 3 + 0j]), requires_grad=True)
    onp.testing.assert_array_equal(np.iscomplex(z), [True, False])
    onp.testing.assert_array_equal(np.isreal(z), [False, True])
    assert np.iscomplexobj(z) and not np.isrealobj(z)
    assert type(np.iscomplex(z)) is onp.ndarray


def test_higher_order_through_complex():
    # the second derivative of a real function of a complex number, along both directions
    f = lambda z: np.abs(np.sin(z)) ** 2 + np.angle(z)          # noqa: E731
    h = lambda z: grad(f)(z)                                     # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for direction in (1.0, 1j):
            numeric = _central(h, Z, direction)
            _, analytic = make_jvp(h, Z)(direction)
            assert abs(numeric - analytic) < 1e-6, (direction, numeric, analytic)


def test_the_compiled_holomorphic_rows_take_complex_operands():
    # the core rows whose rules are written for holomorphic functions, at order 2 in both
    # modes against central differences along random complex directions
    from fastgrad import sigmoid, softmax, log_softmax
    from fastgrad.test_util import check_grads
    z = onp.array([[0.3 + 0.4j, -1 + 0.2j, 0.5 - 0.7j], [1.1 + 0.1j, -0.4 - 0.3j, 0.2j]])
    w = onp.array([0.5 - 1j, 1.5 + 0.5j, -0.3 + 0.2j])
    fs = [np.cos, lambda z: np.mean(z * z, axis=0), lambda z: np.transpose(z) @ z,
          lambda z: z[:, ::-1] ** 2.5, lambda z: 2.0 ** z, lambda z: z ** w, lambda z: w ** z,
          lambda z: np.where(onp.array([True, False, True]), z, 1j * z),
          lambda z: np.concatenate([z, z * 1j]), lambda z: np.stack([z, w + z]),
          lambda z: np.reshape(z, (3, 2)), lambda z: np.broadcast_to(w, (2, 3)) * z,
          lambda z: np.negative(z) - z / w, sigmoid]
    for f in fs:
        onp.random.seed(0)
        check_grads(f, modes=["fwd", "rev"], order=2)(z)
    # softmax and log_softmax (which return Tensors on plain arrays, so check_grads'
    # differences cannot run on them): against the same functions composed of other rows
    for ours, composed in (
            (lambda z: softmax(z, axis=1), lambda z: np.exp(z) / np.sum(np.exp(z), 1, keepdims=True)),
            (lambda z: log_softmax(z, axis=0), lambda z: z - np.log(np.sum(np.exp(z), 0)))):
        u = onp.random.default_rng(2).normal(size=z.shape) * (1 - 0.5j)
        (vjp, ans), (vjp2, ans2) = make_vjp(ours, z), make_vjp(composed, z)
        onp.testing.assert_allclose(ans, ans2, rtol=1e-13)
        onp.testing.assert_allclose(vjp(u), vjp2(u), rtol=1e-13)
        onp.testing.assert_allclose(make_jvp(ours, z)(u)[1], make_jvp(composed, z)(u)[1],
                                    rtol=1e-13)
    # sigmoid of a complex number is 1 / (1 + exp(-z)), as numpy would compute it
    onp.testing.assert_allclose(sigmoid(Tensor(z)).data, 1 / (1 + onp.exp(-z)), rtol=1e-15)


@pytest.mark.parametrize("fun", [np.outer, np.dot, lambda a, b: np.tensordot(a, b, 1)],
                         ids=["outer", "dot", "tensordot"])
def test_mixed_real_and_complex_arguments_to_third_order(fun):
    # a real argument and a complex one differentiated together: a real argument's part
    # of a (complex) tangent or cotangent is its real part, at every level of nesting
    rs = onp.random.RandomState(3)
    real, cplx = rs.randn(3), rs.randn(3) + 1j * rs.randn(3)
    from fastgrad.test_util import check_grads
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=3)(real, cplx)
    check_grads(fun, (0, 1), modes=["fwd", "rev"], order=3)(cplx, real)


def test_a_real_leaf_of_a_mixed_tuple_gets_a_real_tangent():
    rs = onp.random.RandomState(4)
    x = (rs.randn(3), rs.randn(3) + 1j * rs.randn(3))
    u = rs.randn(3, 3) + 1j * rs.randn(3, 3)

    import fastgrad

    def vjp_of_outer(xs, v):
        return fastgrad.make_vjp(lambda p: np.outer(p[0], p[1]))(xs)[0](v)
    tx = (rs.randn(3), rs.randn(3) + 1j * rs.randn(3))
    ans, tangent = fastgrad.make_jvp(lambda xs: vjp_of_outer(xs, u))(x)(tx)
    assert ans[0].dtype == onp.float64 and tangent[0].dtype == onp.float64
    # the real argument's cotangent is Re(u @ x1) (autograd's rules are not conjugated):
    # along tx its tangent is Re(u @ tx1), real like the argument
    onp.testing.assert_allclose(ans[0], onp.real(u @ x[1]), rtol=1e-13)
    onp.testing.assert_allclose(tangent[0], onp.real(u @ tx[1]), rtol=1e-13)
