"""The reduction rows (``fastgrad/ops/reductions.py``): one case each, and the methods."""
import warnings

import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor, grad
from fastgrad.test_util import check_grads
from opcheck import ANY, POS, Case, parametrize_cases


def _torch():
    return __import__("torch")


def _tvar(axis=None, ddof=0, keepdims=False):
    def f(x):
        dim = axis if axis is not None else tuple(range(x.dim()))
        return _torch().var(x, dim=dim, correction=ddof, keepdim=keepdims)
    return f


def _tstd(axis=None, ddof=0, keepdims=False):
    def f(x):
        dim = axis if axis is not None else tuple(range(x.dim()))
        return _torch().std(x, dim=dim, correction=ddof, keepdim=keepdims)
    return f


CASES = {
    "prod": Case(lambda x: np.prod(x), [(2, 3)], POS, lambda x: _torch().prod(x),
                 rows=["prod"]),
    "prod_axis": Case(lambda x: np.prod(x, axis=1), [(3, 4)], ANY,
                      lambda x: _torch().prod(x, 1)),
    "prod_axes_keepdims": Case(lambda x: np.prod(x, axis=(0, 2), keepdims=True),
                               [(2, 3, 2)], ANY, None),
    "prod_method": Case(lambda x: x.prod(axis=-1), [(2, 3)], ANY,
                        lambda x: _torch().prod(x, -1)),
    # slices with no zero, one zero, two zeros and three
    "prod_zeros": Case(lambda x: np.prod(x, axis=1), [],
                       args=[[[1.5, 0.5, -2.0, 0.9], [0.0, 3.0, 0.7, 1.1],
                              [0.0, 1.2, 0.0, -0.6], [0.0, 0.0, 0.0, 1.3]]],
                       torch=lambda x: _torch().prod(x, 1)),
    "prod_zeros_axes": Case(lambda x: np.prod(x, axis=(0, 2)), [],
                            args=[[[[0.0, 1.5], [2.0, 0.0]], [[-0.5, 0.8], [0.0, 0.0]]]],
                            torch=lambda x: _torch().prod(_torch().prod(x, 2), 0)),
    "cumsum": Case(lambda x: np.cumsum(x), [(2, 3)], ANY,
                   lambda x: _torch().cumsum(x.reshape(-1), 0), rows=["cumsum"]),
    "cumsum_axis": Case(lambda x: np.cumsum(x, axis=1), [(2, 3, 2)], ANY,
                        lambda x: _torch().cumsum(x, 1)),
    "cumsum_method": Case(lambda x: x.cumsum(-1), [(2, 3)], ANY,
                          lambda x: _torch().cumsum(x, -1)),
    "var": Case(lambda x: np.var(x), [(2, 3)], ANY, _tvar(), rows=["var"]),
    "var_axis_ddof": Case(lambda x: np.var(x, axis=0, ddof=1), [(4, 3)], ANY,
                          _tvar(0, 1)),
    "var_axes_keepdims": Case(lambda x: np.var(x, axis=(0, 2), keepdims=True),
                              [(2, 3, 4)], ANY, _tvar((0, 2), 0, True)),
    "var_method": Case(lambda x: x.var(1, ddof=1), [(2, 3)], ANY, _tvar(1, 1)),
    "std": Case(lambda x: np.std(x), [(2, 3)], ANY, _tstd(), rows=["std"]),
    "std_axis_ddof": Case(lambda x: np.std(x, axis=1, ddof=1), [(3, 4)], ANY,
                          _tstd(1, 1)),
    "std_axes_keepdims": Case(lambda x: np.std(x, axis=(-1, 0), keepdims=True),
                              [(2, 3, 4)], ANY, _tstd((-1, 0), 0, True)),
    "std_method": Case(lambda x: x.std(axis=0), [(4, 3)], ANY, _tstd(0)),
    "trace": Case(lambda x: np.trace(x), [(3, 3)], ANY, lambda x: _torch().trace(x),
                  rows=["trace"]),
    "trace_offset": Case(lambda x: np.trace(x, 1), [(3, 4)], ANY,
                         lambda x: _torch().diagonal(x, 1).sum()),
    "trace_axes": Case(lambda x: np.trace(x, -1, axis1=2, axis2=0), [(3, 2, 4)], ANY,
                       lambda x: _torch().diagonal(x, -1, 2, 0).sum(-1)),
    "trace_method": Case(lambda x: x.trace(), [(2, 3)], ANY,
                         lambda x: _torch().diagonal(x).sum()),
    # (casts that round are in the plain tests: finite differences cannot see them)
    "astype": Case(lambda x: np.sin(x.astype(x.dtype)) * x, [(2, 3)], ANY,
                   lambda x: _torch().sin(x) * x, rows=["astype"],
                   call=lambda f, x: f(x, onp.float64)),
    "dot_method": Case(lambda x, y: x.dot(y), [(2, 3), (3, 4)], ANY,
                       lambda x, y: x @ y),
    "ravel": Case(lambda x: x.ravel() * x[::-1].ravel(), [(2, 3)], ANY,
                  lambda x: x.reshape(-1) * x.flip(0).reshape(-1)),
    "flatten": Case(lambda x: x.flatten() ** 2, [(3, 1, 2)], ANY,
                    lambda x: x.flatten() ** 2),
}

test_reductions = parametrize_cases(CASES)


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = onp.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, -2.0, 4.0]])
    g = grad(lambda a: np.sum(np.prod(a, axis=1)))(x)
    expected = onp.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [-8.0, 6.0, -3.0]])
    onp.testing.assert_array_equal(g, expected)

    def hessian_row0(x):      # d/dx of d prod / d x0
        return grad(lambda a: grad(lambda b: np.prod(b))(a)[0])(onp.array(x))
    # one zero: d2/dx0 dx1 of x0*x1*x2 at x1 = 0 is x2
    onp.testing.assert_array_equal(hessian_row0([2.0, 0.0, 3.0]), [0.0, 3.0, 0.0])
    # two zeros: d2/dx0 dx1 = x2, d2/dx0 dx2 = x1 = 0
    onp.testing.assert_array_equal(hessian_row0([0.0, 0.0, 3.0]), [0.0, 3.0, 0.0])
    onp.testing.assert_array_equal(hessian_row0([0.0, 2.5, 0.0]), [0.0, 0.0, 2.5])
    # three zeros: every second derivative is 0
    onp.testing.assert_array_equal(hessian_row0([0.0, 0.0, 0.0]), [0.0, 0.0, 0.0])
    # third order through two zeros: d/dx of d2/dx0 dx1 (= x2 x3) is (0, 0, x3, x2)
    d3 = grad(lambda c: grad(lambda a: grad(lambda b: np.prod(b))(a)[0])(c)[1])(
        onp.array([0.0, 0.0, 1.5, 4.0]))
    onp.testing.assert_array_equal(d3, [0.0, 0.0, 4.0, 1.5])


def test_var_std_of_a_list_of_tensors_and_numpy_on_tensors():
    a = Tensor(onp.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(onp.array([4.0, 0.5]), requires_grad=True)
    out = np.std([a, b], axis=0)
    onp.testing.assert_array_equal(out.data, onp.std([a.data, b.data], axis=0))
    assert isinstance(onp.var(a), Tensor) and isinstance(onp.std(a, ddof=1), Tensor)
    assert onp.var(a).data == onp.var(a.data)


def test_std_with_ddof_at_least_n_gives_numpys_result_and_warning():
    x = onp.array([[1.0, 2.0], [3.0, 5.0]])
    for ddof in (2, 3):
        with pytest.warns(RuntimeWarning):
            expected = onp.std(x, axis=0, ddof=ddof)
        with pytest.warns(RuntimeWarning):
            got = np.std(Tensor(x, requires_grad=True), axis=0, ddof=ddof)
        onp.testing.assert_array_equal(got.data, expected)
        with pytest.warns(RuntimeWarning):
            onp.testing.assert_array_equal(np.var(Tensor(x), axis=0, ddof=ddof).data,
                                           onp.var(x, axis=0, ddof=ddof))


def test_std_over_one_element_has_zero_gradient_as_autograd():
    x = onp.array([[1.0, 2.0, 3.0]])
    g = grad(lambda a: np.sum(np.std(a, axis=0)))(x)
    onp.testing.assert_array_equal(g, onp.zeros_like(x))
    check_grads(lambda a: np.std(a, axis=0), modes=["fwd", "rev"], order=2)(x)


def test_var_correction_is_ddof():
    x = Tensor(onp.arange(6.0).reshape(2, 3))
    assert np.var(x, correction=1).data == onp.var(x.data, ddof=1)
    with pytest.raises(ValueError, match="ddof or correction"):
        np.var(x, ddof=1, correction=1)


def test_astype_casts_and_the_gradient_comes_back_in_the_input_dtype():
    x = Tensor(onp.array([1.0, 2.0], dtype=onp.float32), requires_grad=True)
    y = x.astype(onp.float64)
    assert y.dtype == onp.float64 and isinstance(y, Tensor)
    (y * y).sum().backward()
    assert x.grad.dtype == onp.float32
    onp.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.astype("float16").dtype == onp.float16


@pytest.mark.parametrize("dtype", [int, onp.int32, bool, "uint8", onp.complex128])
def test_astype_to_a_non_float_dtype_raises(dtype):
    x = Tensor(onp.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match="holds floating-point data"):
        x.astype(dtype)


def test_unsupported_arguments_raise():
    x = Tensor(onp.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError, match=r"prod: arguments \['dtype'\]"):
        np.prod(x, dtype=onp.float32)
    with pytest.raises(TypeError, match=r"cumsum: arguments \['out'\]"):
        np.cumsum(x, out=onp.empty(6))
    with pytest.raises(NotImplementedError, match="order 'K'"):
        x.flatten(order="K")
    with pytest.raises(TypeError, match="according to the rule 'safe'"):
        x.astype(onp.float32, casting="safe")
    with pytest.raises(TypeError, match="cumprod"):
        onp.cumprod(x)


def test_methods_on_plain_values_match_numpy():
    x = onp.random.default_rng(3).uniform(-1, 1, (3, 4))
    t = Tensor(x)
    for name, args in [("prod", (0,)), ("cumsum", (1,)), ("var", ()), ("std", (1,)),
                       ("trace", ()), ("ravel", ()), ("flatten", ())]:
        onp.testing.assert_array_equal(getattr(t, name)(*args).data,
                                       getattr(x, name)(*args))
    onp.testing.assert_array_equal(t.dot(x.T).data, x.dot(x.T))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert t.ravel().shape == (12,)
