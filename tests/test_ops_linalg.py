"""The linear-algebra rows (``fastgrad/ops/linalg.py``): one case each, batched shapes,
singular and bad input.

Eigenvectors and singular vectors are fixed up to sign: their cases check sign-invariant
functions of them (squares, the reconstruction), on matrices with distinct eigenvalues
and singular values, as autograd's tests do. ``eigh`` and ``cholesky`` read one
triangle of their input: the cases compared with PyTorch symmetrize their input (PyTorch
returns symmetrized gradients), the others check the one-triangle derivatives.
"""
import numpy as onp
import pytest

import fastgrad.numpy as np
from fastgrad import Tensor, grad
from opcheck import ANY, Case, parametrize_cases


def _torch():
    return __import__("torch")


def _rng(seed):
    return onp.random.default_rng(seed)


def _well(*shape, seed=0):
    """Well-conditioned (stacks of) square matrices."""
    return _rng(seed).uniform(-1, 1, shape) + 3 * onp.eye(shape[-1])


def _psd(*shape, seed=0):
    a = _rng(seed).uniform(-1, 1, shape)
    return a @ onp.swapaxes(a, -1, -2) + shape[-1] * onp.eye(shape[-1])


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def _tsym(x):
    return (x + x.transpose(-1, -2)) / 2


def _svd(i, shape, **kw):
    """Case for output i of the svd (vectors squared: sign-invariant)."""
    p = 1 if i == 1 else 2
    return Case(lambda x: np.linalg.svd(x, full_matrices=False)[i] ** p, [shape], ANY,
                lambda x: _torch().linalg.svd(x, full_matrices=False)[i] ** p,
                call=lambda f, x: f(x, full_matrices=False), **kw)


def _eigh(i, shape, **kw):
    p = 1 if i == 0 else 2
    return Case(lambda x: np.linalg.eigh(_sym(x))[i] ** p, [shape], ANY,
                lambda x: _torch().linalg.eigh(_tsym(x))[i] ** p, **kw)


def _norm(shape, torch=None, **kw):
    return Case(lambda x: np.linalg.norm(x, **kw), [shape], ANY, torch, rows=["norm"],
                call=lambda f, x: f(x, **kw))


# real distinct eigenvalues, not triangular (LAPACK's order of a triangular matrix's
# eigenvalues changes under perturbation)
_EIG = (onp.triu(_rng(5).uniform(-1, 1, (4, 4))) + onp.diag([1.0, 2.0, 3.5, 5.0])
        + 0.1 * _rng(6).uniform(-1, 1, (4, 4)))

CASES = {
    "inv": Case(lambda x: np.linalg.inv(x), [(2, 3, 3)], ANY,
                lambda x: _torch().linalg.inv(x), rows=["inv"], args=[_well(2, 3, 3)]),
    "det": Case(lambda x: np.linalg.det(x), [(2, 3, 3)], ANY,
                lambda x: _torch().linalg.det(x), rows=["det"]),
    "slogdet": Case(lambda x: np.linalg.slogdet(x)[1], [(2, 3, 3)], ANY,
                    lambda x: _torch().linalg.slogdet(x)[1], rows=["slogdet_logabsdet"]),
    "slogdet_negative": Case(lambda x: np.linalg.slogdet(x)[1], [(3, 3)], ANY,
                             args=[-_well(3, 3)]),
    "solve": Case(lambda a, b: np.linalg.solve(a, b), [(2, 3, 3), (2, 3, 2)], ANY,
                  lambda a, b: _torch().linalg.solve(a, b), rows=["solve"],
                  args=[_well(2, 3, 3), _rng(1).uniform(-1, 1, (2, 3, 2))]),
    "solve_broadcast": Case(lambda a, b: np.linalg.solve(a, b), [(2, 3, 3), (1, 3, 2)], ANY,
                            lambda a, b: _torch().linalg.solve(a, b),
                            args=[_well(2, 3, 3), _rng(1).uniform(-1, 1, (1, 3, 2))]),
    "solve_vector": Case(lambda a, b: np.linalg.solve(a, b), [(3, 3), (3,)], ANY,
                         lambda a, b: _torch().linalg.solve(a, b),
                         args=[_well(3, 3), _rng(1).uniform(-1, 1, 3)]),
    "solve_vector_batched_a": Case(lambda a, b: np.linalg.solve(a, b), [(2, 3, 3), (3,)], ANY,
                                   args=[_well(2, 3, 3), _rng(1).uniform(-1, 1, 3)]),
    "pinv_tall": Case(lambda x: np.linalg.pinv(x), [(2, 4, 3)], ANY,
                      lambda x: _torch().linalg.pinv(x), rows=["pinv"]),
    "pinv_wide": Case(lambda x: np.linalg.pinv(x), [(3, 5)], ANY,
                      lambda x: _torch().linalg.pinv(x)),
    "pinv_low_rank": Case(lambda x: np.linalg.pinv(np.matmul(np.swapaxes(x, -1, -2), x)),
                          [(2, 5)], ANY),
    "svd_u_wide": _svd(0, (2, 3, 4), rows=["svd_u"]),
    "svd_s_wide": _svd(1, (2, 3, 4), rows=["svd_s"]),
    "svd_vh_wide": _svd(2, (2, 3, 4), rows=["svd_vh"]),
    "svd_u_tall": _svd(0, (4, 3)),
    "svd_vh_tall": _svd(2, (4, 3)),
    "svd_u_square": _svd(0, (3, 3)),
    "svd_vh_square": _svd(2, (2, 3, 3)),
    "svd_reconstruct": Case(lambda x: np.matmul(np.linalg.svd(x, full_matrices=False)[0]
                                                * np.linalg.svd(x, full_matrices=False)[1][..., None, :],
                                                np.linalg.svd(x, full_matrices=False)[2]),
                            [(2, 4, 3)], ANY),
    "svd_full_square": Case(lambda x: np.linalg.svd(x)[0] ** 2, [(3, 3)], ANY),
    "svdvals": Case(lambda x: np.linalg.svd(x, compute_uv=False), [(2, 4, 3)], ANY,
                    lambda x: _torch().linalg.svdvals(x), rows=["svdvals"],
                    call=lambda f, x: f(x)),
    "svdvals_function": Case(lambda x: np.linalg.svdvals(x), [(3, 5)], ANY,
                             lambda x: _torch().linalg.svdvals(x)),
    "eigh_w": _eigh(0, (2, 4, 4), rows=["eigh_w"]),
    "eigh_v": _eigh(1, (2, 4, 4), rows=["eigh_v"]),
    "eigh_lower_triangle": Case(lambda x: np.linalg.eigh(x)[1] ** 2 + np.linalg.eigh(x)[0][..., None, :],
                                [(4, 4)], ANY),
    "eigh_upper_triangle": Case(lambda x: np.linalg.eigh(x, "U")[1] ** 2
                                + np.linalg.eigh(x, UPLO="U")[0][..., None, :],
                                [(2, 4, 4)], ANY),
    "eigvalsh": Case(lambda x: np.linalg.eigvalsh(_sym(x)), [(2, 4, 4)], ANY,
                     lambda x: _torch().linalg.eigvalsh(_tsym(x)), rows=["eigvalsh"]),
    "eigvalsh_upper": Case(lambda x: np.linalg.eigvalsh(x, UPLO="U"), [(4, 4)], ANY),
    "eig_w": Case(lambda x: np.linalg.eig(x)[0], [(4, 4)], ANY, rows=["eig_w"], args=[_EIG]),
    "eig_v": Case(lambda x: np.linalg.eig(x)[1] ** 2, [(4, 4)], ANY, rows=["eig_v"],
                  args=[_EIG]),
    "eig_batched": Case(lambda x: np.linalg.eig(x)[1] ** 2 + np.linalg.eig(x)[0][..., None, :],
                        [(2, 4, 4)], ANY, args=[onp.stack([_EIG, _EIG.T + 0.1])]),
    "cholesky": Case(lambda x: np.linalg.cholesky(_sym(x)), [(2, 4, 4)], ANY,
                     lambda x: _torch().linalg.cholesky(_tsym(x)), rows=["cholesky"],
                     args=[_psd(2, 4, 4)]),
    "cholesky_lower_triangle": Case(lambda x: np.linalg.cholesky(x), [(4, 4)], ANY,
                                    args=[_psd(4, 4) + onp.triu(onp.ones((4, 4)), 1)]),
    "cholesky_upper": Case(lambda x: np.linalg.cholesky(x, upper=True), [(2, 4, 4)], ANY,
                           args=[_psd(2, 4, 4) + onp.tril(onp.ones((4, 4)), -1)]),
    "cholesky_upper_torch": Case(lambda x: np.linalg.cholesky(_sym(x), upper=True), [(4, 4)],
                                 ANY, lambda x: _torch().linalg.cholesky(_tsym(x), upper=True),
                                 args=[_psd(4, 4)]),
    "matrix_power_5": Case(lambda x: np.linalg.matrix_power(x, 5), [(2, 3, 3)], ANY,
                           lambda x: _torch().linalg.matrix_power(x, 5),
                           args=[_well(2, 3, 3) / 3]),
    "matrix_power_3": Case(lambda x: np.linalg.matrix_power(x, 3), [(3, 3)], ANY,
                           lambda x: _torch().linalg.matrix_power(x, 3)),
    "matrix_power_negative": Case(lambda x: np.linalg.matrix_power(x, -2), [(3, 3)], ANY,
                                  lambda x: _torch().linalg.matrix_power(x, -2),
                                  args=[_well(3, 3)]),
    "norm": _norm((2, 3, 4), lambda x: _torch().linalg.norm(x)),
    "norm_vector_p": _norm((5,), lambda x: _torch().linalg.vector_norm(x, 3), ord=3),
    "norm_vector_1": _norm((5,), lambda x: _torch().linalg.vector_norm(x, 1), ord=1),
    "norm_vector_half": _norm((5,), ord=0.5),
    "norm_vector_negative": _norm((5,), ord=-1.5),
    "norm_vector_inf": _norm((3, 5), lambda x: _torch().linalg.vector_norm(x, float("inf"), 1),
                             ord=onp.inf, axis=1),
    "norm_vector_-inf_keepdims": _norm((3, 5), ord=-onp.inf, axis=0, keepdims=True),
    "norm_vector_axis": _norm((3, 4, 2), lambda x: _torch().linalg.vector_norm(x, dim=1),
                              axis=1),
    "norm_fro_axes": _norm((3, 4, 2), lambda x: _torch().linalg.matrix_norm(x, dim=(0, 2)),
                           axis=(0, 2)),
    "norm_nuc": _norm((4, 3), lambda x: _torch().linalg.matrix_norm(x, "nuc"), ord="nuc"),
    "norm_nuc_axes": _norm((4, 2, 3), ord="nuc", axis=(2, 0)),
    "norm_2": _norm((2, 4, 3), lambda x: _torch().linalg.matrix_norm(x, 2), ord=2,
                    axis=(1, 2)),
    "norm_-2": _norm((4, 3), lambda x: _torch().linalg.matrix_norm(x, -2), ord=-2),
    "norm_1": _norm((4, 3), lambda x: _torch().linalg.matrix_norm(x, 1), ord=1),
    "norm_-1_keepdims": _norm((4, 3, 2), ord=-1, axis=(0, 1), keepdims=True),
    "norm_inf": _norm((4, 3), lambda x: _torch().linalg.matrix_norm(x, float("inf")),
                      ord=onp.inf),
    "norm_-inf": _norm((2, 4, 3), ord=-onp.inf, axis=(2, 1)),
}

test_linalg = parametrize_cases(CASES)


# ---- edges and bad input ---------------------------------------------------------------

_SINGULAR = onp.array([[1.0, 2.0], [2.0, 4.0]])


def test_singular_matrices_behave_as_numpy():
    t = Tensor(_SINGULAR, requires_grad=True)
    with pytest.raises(onp.linalg.LinAlgError, match="Singular matrix"):
        np.linalg.inv(t)
    with pytest.raises(onp.linalg.LinAlgError, match="Singular matrix"):
        np.linalg.solve(t, onp.ones(2))
    d = np.linalg.det(t)
    assert d.data == onp.linalg.det(_SINGULAR)
    sign, logdet = np.linalg.slogdet(t)
    assert sign == 0 and logdet.data == -onp.inf
    with pytest.raises(onp.linalg.LinAlgError, match="Singular matrix"):
        d.backward()                        # the gradient needs the inverse
    p = np.linalg.pinv(t)                   # the pseudo-inverse exists
    onp.testing.assert_array_equal(p.data, onp.linalg.pinv(_SINGULAR))
    p.sum().backward()
    assert onp.all(onp.isfinite(t.grad))


def test_results_are_numpys_tuples():
    x = Tensor(_psd(3, 3), requires_grad=True)
    r = np.linalg.svd(x, full_matrices=False)
    assert isinstance(r.U, Tensor) and isinstance(r.S, Tensor) and isinstance(r.Vh, Tensor)
    assert type(r) is type(onp.linalg.svd(x.data))
    e = np.linalg.eigh(x)
    assert isinstance(e.eigenvalues, Tensor) and isinstance(e.eigenvectors, Tensor)
    s = np.linalg.slogdet(x)
    assert type(s.sign) is not Tensor and isinstance(s.logabsdet, Tensor)


def test_degenerate_eigenvalues_differentiate_through_eigenvalues_only():
    x = onp.eye(3)
    onp.testing.assert_allclose(grad(lambda x: np.sum(np.linalg.eigh(x)[0]))(x), onp.eye(3),
                                rtol=1e-14, atol=1e-15)


def test_norm_of_a_list_of_tensors():
    # autograd's test_norm_list_of_boxes: d/dx sqrt(x**2 + (x + 2)**2) at 0 is 1
    assert grad(lambda x: np.linalg.norm([x, x + 2]))(0.0) == 1.0


def test_norm_at_zero_and_ties():
    # the sub-gradient at ties: the tied entries share it
    g = grad(lambda x: np.linalg.norm(x, onp.inf))(onp.array([1.0, -2.0, 2.0]))
    onp.testing.assert_array_equal(g, [0.0, -0.5, 0.5])
    g = grad(lambda x: np.linalg.norm(x, 1))(onp.array([0.0, -2.0, 3.0]))
    onp.testing.assert_array_equal(g, [0.0, -1.0, 1.0])


def test_matrix_power_zero_is_a_constant_identity():
    x = Tensor(_well(2, 3, 3), requires_grad=True)
    out = np.linalg.matrix_power(x, 0)
    onp.testing.assert_array_equal(out, onp.linalg.matrix_power(x.data, 0))
    assert type(out) is not Tensor


@pytest.mark.parametrize("call, error, match", [
    (lambda t: np.linalg.matrix_power(t[:, :2], 2), onp.linalg.LinAlgError, "square"),
    (lambda t: np.linalg.eigh(t, "X"), ValueError, "UPLO"),
    (lambda t: np.linalg.norm(t, "bad"), ValueError, "Invalid norm order"),
    (lambda t: np.linalg.norm(t[None], 2), ValueError, "Improper number of dimensions"),
    (lambda t: np.linalg.cholesky(-t), onp.linalg.LinAlgError, "not positive definite"),
    (lambda t: np.linalg.inv(t[:, :2]), onp.linalg.LinAlgError, "square"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(Tensor(_psd(3, 3), requires_grad=True))


def test_svd_full_matrices_of_a_non_square_matrix_has_no_derivative():
    t = Tensor(_rng(2).uniform(-1, 1, (4, 3)), requires_grad=True)
    u = np.linalg.svd(t)[0]
    onp.testing.assert_array_equal(u.data, onp.linalg.svd(t.data)[0])
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        (u ** 2).sum().backward()


def test_autograd_linalg_helpers():
    # autograd.numpy.linalg's T and _dot, which code written for autograd calls
    x = _rng(4).uniform(-1, 1, (2, 3, 4))
    onp.testing.assert_array_equal(np.linalg.T(x), onp.swapaxes(x, -1, -2))
    t = Tensor(x, requires_grad=True)
    out = np.linalg._dot(t, np.linalg.T(t))
    onp.testing.assert_allclose(out.data, x @ onp.swapaxes(x, -1, -2), rtol=1e-14)
