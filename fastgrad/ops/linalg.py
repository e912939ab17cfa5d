"""``numpy.linalg`` on Tensors: ``norm inv det slogdet solve pinv svd svdvals eigh
eigvalsh eig cholesky matrix_power`` (``multi_dot`` is in ``products``).

Stacked (batched) matrices as numpy takes them; the rules act on the last two axes.
Each row's forward is numpy's own function; a function with several outputs is one row
per output, every one computed by numpy's forward (``svd_u svd_s svd_vh``, ``eigh_w
eigh_v``, ``eig_w eig_v``), and its front returns numpy's result tuple. A row's VJP is
its part of the joint VJP (which is linear in the outputs' cotangents), so a function of
some outputs only never touches the others' rules (the eigenvalues of a degenerate
matrix differentiate; their eigenvectors do not). The rules are autograd's
(``autograd/numpy/linalg.py``; formulas from Giles, "An extended collection of matrix
derivative results", 2008) and their forward-mode counterparts, written with numpy
functions so they differentiate again. ``eigh`` and ``cholesky`` read one triangle, as
numpy does: their derivatives with respect to the other triangle are zero.

Singular input behaves as numpy's: ``inv``/``solve`` raise ``LinAlgError``; ``det`` is
0 and ``slogdet`` (0, -inf), and their gradients (which need the inverse) raise
``LinAlgError``.
"""
from typing import Any

import numpy as np

from .._tensor import array_of, constant_function, define, expose, value_of

__all__ = []

_la = np.linalg
_SVDResult = type(_la.svd(np.eye(1)))
_EighResult = type(_la.eigh(np.eye(1)))
_EigResult = type(_la.eig(np.eye(1)))
_SlogdetResult = type(_la.slogdet(np.eye(1)))
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# ---- helpers (differentiable: numpy functions that dispatch on Tensors) --------------

def _T(x):
    return np.swapaxes(x, -1, -2)


def _conj(x):
    return np.conj(x) if np.iscomplexobj(x) else x


def _real(x):
    return np.real(x) if np.iscomplexobj(x) else x


def _H(x):
    return _conj(_T(x))


def _dtype(x):
    """The floating (or complex) dtype of x's constants (float32 stays float32)."""
    return np.result_type(value_of(x).dtype, np.float32)


def _eye(n, x):
    return np.eye(n, dtype=_dtype(x))


def _lower_half_diagonal(n, x):
    """The lower triangle's mask with 1/2 on the diagonal (Murray's Phi)."""
    return (np.tril(np.ones((n, n))) - 0.5 * np.eye(n)).astype(_dtype(x))


def _col(x):          # (..., n) -> (..., n, 1)
    return np.expand_dims(x, -1)


def _row(x):          # (..., n) -> (..., 1, n)
    return np.expand_dims(x, -2)


def _diagonal(x):     # (..., n, n) -> (..., n)
    return np.einsum("...ii->...i", x)


def _add2d(x):        # (...) -> (..., 1, 1)
    return np.expand_dims(np.expand_dims(x, -1), -1)


def _real_only(name, x):
    if np.iscomplexobj(x):
        raise NotImplementedError(f"{name}: forward mode (JVP) for complex matrices is not "
                                  "implemented")


def _gaps(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    n = np.shape(w)[-1]
    eye = _eye(n, w)
    return (1 - eye) / (_row(w) - _col(w) + eye)


def T(x):
    """The last two axes swapped: ``autograd.numpy.linalg.T``."""
    return _T(x)


def _dot(a, b):
    """The (stacked) matrix product as an einsum: ``autograd.numpy.linalg._dot``."""
    return np.einsum("...ij,...jk->...ik", a, b)


#: names ``autograd.numpy.linalg`` has besides numpy's, which code written for autograd
#: calls; ``fastgrad.numpy.linalg`` has them too
AUTOGRAD_HELPERS = {"T": T, "_dot": _dot}


# ---- inv det slogdet solve pinv -------------------------------------------------------

_inv = define(
    "inv", _la.inv,
    [lambda g, ans, x: -np.matmul(np.matmul(_T(ans), g), _T(ans))],
    [lambda t, ans, x: -np.matmul(np.matmul(ans, t), ans)],
    functions=("linalg.inv",))

define(
    "det", _la.det,
    [lambda g, ans, x: _add2d(g * ans) * _T(_inv(x))],
    [lambda t, ans, x: ans * np.sum(_T(_inv(x)) * t, axis=(-2, -1))],
    functions=("linalg.det",))


def _logabsdet(x):
    return _la.slogdet(x)[1]


def slogdet(a):
    """``numpy.linalg.slogdet`` on Tensors: ``(sign, logabsdet)``; the sign is piecewise
    constant (a constant array), the log-determinant differentiable."""
    if isinstance(a, (list, tuple)):
        a = array_of(a)
    return _SlogdetResult(_la.slogdet(value_of(a))[0], _logdet(a))


_logdet = define(
    "slogdet_logabsdet", _logabsdet,
    [lambda g, ans, x: _add2d(g) * _T(_inv(x))],
    [lambda t, ans, x: _real(np.sum(_T(_inv(x)) * t, axis=(-2, -1)))],
    functions=("linalg.slogdet",), front=slogdet)


def _solve_is_vector(a, b):
    """numpy's rule: b is a vector (not a stack of matrices) when it is 1-D (numpy >= 2),
    or has one dimension fewer than a (numpy 1)."""
    return np.ndim(b) == 1 if _NUMPY2 else np.ndim(b) == np.ndim(a) - 1


def _solve_vjp_b(g, ans, a, b):
    if _solve_is_vector(a, b):
        return _solve(_T(a), _col(g))[..., 0]
    return _solve(_T(a), g)


def _solve_vjp_a(g, ans, a, b):
    if _solve_is_vector(a, b):
        return -np.matmul(_solve(_T(a), _col(g)), _row(ans))
    return -np.matmul(_solve(_T(a), g), _T(ans))


def _solve_jvp_a(t, ans, a, b):
    if _solve_is_vector(a, b):
        return -_solve(a, np.matmul(t, _col(ans)))[..., 0]
    return -_solve(a, np.matmul(t, ans))


_solve: Any = define(
    "solve", _la.solve, [_solve_vjp_a, _solve_vjp_b],
    [_solve_jvp_a, lambda t, ans, a, b: _solve(a, t)],
    functions=("linalg.solve",))


def _pinv_vjp(g, ans, x, **params):
    # https://mathoverflow.net/questions/25778 (autograd's grad_pinv)
    m, n = np.shape(x)[-2:]
    return _T(-np.matmul(np.matmul(ans, _T(g)), ans)
              + np.matmul(np.matmul(np.matmul(ans, _T(ans)), g), _eye(m, x) - np.matmul(x, ans))
              + np.matmul(np.matmul(np.matmul(_eye(n, x) - np.matmul(ans, x), g), _T(ans)), ans))


def _pinv_jvp(t, ans, x, **params):
    # Golub & Pereyra (1973): the derivative of A+ at constant rank
    m, n = np.shape(x)[-2:]
    return (-np.matmul(np.matmul(ans, t), ans)
            + np.matmul(np.matmul(np.matmul(ans, _T(ans)), _T(t)), _eye(m, x) - np.matmul(x, ans))
            + np.matmul(np.matmul(np.matmul(_eye(n, x) - np.matmul(ans, x), _T(t)), _T(ans)), ans))


def _pinv_fwd(a, **params):
    return _la.pinv(a, **params)


def pinv(a, rcond=None, hermitian=False, **kwargs):
    """``numpy.linalg.pinv`` on Tensors (``rcond``/``rtol``, ``hermitian`` as numpy's);
    its derivative holds where the rank is locally constant."""
    return _pinv(a, rcond=rcond, hermitian=hermitian, **kwargs)


_pinv = define("pinv", _pinv_fwd, [_pinv_vjp], [_pinv_jvp], functions=("linalg.pinv",),
               front=pinv)


# ---- svd ------------------------------------------------------------------------------

def _svd_parts(x, full_matrices):
    m, n = np.shape(x)[-2:]
    if full_matrices and m != n:
        raise NotImplementedError("svd: derivatives with full_matrices=True are implemented "
                                  f"for square matrices only, got {m}x{n}; use "
                                  "full_matrices=False")
    u, s, vh = svd(x, full_matrices=False)
    return u, s, vh, m, n


def _svd_f(s):
    """``1 / (s_j^2 - s_i^2)`` off the diagonal, 1 on it (multiplied by skew matrices)."""
    eye = _eye(np.shape(s)[-1], s)
    return 1 / (_row(s) ** 2 - _col(s) ** 2 + eye)


# the joint VJP (autograd's grad_svd, https://j-towns.github.io/papers/svd-derivative.pdf,
# https://arxiv.org/abs/1909.02659) is linear in (gu, gs, gvh): each row takes its part

def _svd_vjp_u(gu, ans, x, full_matrices=True, hermitian=False):
    u, s, vh, m, n = _svd_parts(x, full_matrices)
    v = _H(vh)
    utgu = np.matmul(_T(u), gu)
    t = _svd_f(s) * (utgu - _H(utgu)) * _row(s)
    if np.iscomplexobj(u):
        t = t + 1j * np.imag(_row(_diagonal(utgu)) * _eye(np.shape(s)[-1], s)) / _row(s)
    out = np.matmul(np.matmul(_conj(u), t), _T(v))
    if m > n:
        out = out + _T(np.matmul(np.matmul(v / _row(s), _T(gu)),
                                 _eye(m, x) - np.matmul(u, _H(u))))
    return out


def _svd_vjp_s(gs, ans, x, full_matrices=True, hermitian=False):
    u, s, vh, m, n = _svd_parts(x, full_matrices)
    return np.matmul(_conj(u) * _row(gs), _conj(vh))


def _svd_vjp_vh(gvh, ans, x, full_matrices=True, hermitian=False):
    u, s, vh, m, n = _svd_parts(x, full_matrices)
    v = _H(vh)
    gv = _H(gvh)
    vtgv = np.matmul(_T(v), gv)
    t = _col(s) * (_svd_f(s) * (vtgv - _H(vtgv)))
    out = np.matmul(np.matmul(_conj(u), t), _T(v))
    if m < n:
        out = out + _conj(np.matmul(np.matmul(u / _row(s), _T(gv)),
                                    _eye(n, x) - np.matmul(v, _H(v))))
    return out


def _svd_dp(t, x, full_matrices):
    """``U^T dA V`` and the pieces the forward rules share (real matrices)."""
    _real_only("svd", x)
    u, s, vh, m, n = _svd_parts(x, full_matrices)
    v = _T(vh)
    return np.matmul(np.matmul(_T(u), t), v), u, s, v, m, n


def _svd_jvp_u(t, ans, x, full_matrices=True, hermitian=False):
    dp, u, s, v, m, n = _svd_dp(t, x, full_matrices)
    k = np.shape(s)[-1]
    f = _svd_f(s) * (1 - _eye(k, s))
    du = np.matmul(u, f * (dp * _row(s) + _col(s) * _T(dp)))
    if m > k:
        du = du + np.matmul(_eye(m, x) - np.matmul(u, _T(u)), np.matmul(t, v)) / _row(s)
    return du


def _svd_jvp_s(t, ans, x, full_matrices=True, hermitian=False):
    return _diagonal(_svd_dp(t, x, full_matrices)[0])


def _svd_jvp_vh(t, ans, x, full_matrices=True, hermitian=False):
    dp, u, s, v, m, n = _svd_dp(t, x, full_matrices)
    k = np.shape(s)[-1]
    f = _svd_f(s) * (1 - _eye(k, s))
    dv = np.matmul(v, f * (_col(s) * dp + _T(dp) * _row(s)))
    if n > k:
        dv = dv + np.matmul(_eye(n, x) - np.matmul(v, _T(v)), np.matmul(_T(t), u)) / _row(s)
    return _T(dv)


def _svd_output(i):
    def fwd(a, full_matrices=True, hermitian=False):
        return _la.svd(a, full_matrices=full_matrices, hermitian=hermitian)[i]
    return fwd


def _svdvals(a, hermitian=False):
    return _la.svd(a, compute_uv=False, hermitian=hermitian)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``numpy.linalg.svd`` on Tensors: ``(U, S, Vh)``, or ``S`` alone; derivatives for
    ``full_matrices=False`` (or square matrices), distinct singular values, as
    autograd's."""
    if isinstance(a, (list, tuple)):
        a = array_of(a)
    if not compute_uv:
        return _svdvals_row(a, hermitian=hermitian)
    kw = dict(full_matrices=full_matrices, hermitian=hermitian)
    return _SVDResult(_svd_u(a, **kw), _svd_s(a, **kw), _svd_vh(a, **kw))


def svdvals(x, /):
    """``numpy.linalg.svdvals`` on Tensors: the singular values."""
    return _svdvals_row(x)


_svd_u = define("svd_u", _svd_output(0), [_svd_vjp_u], [_svd_jvp_u],
                functions=("linalg.svd",), front=svd)
_svd_s = define("svd_s", _svd_output(1), [_svd_vjp_s], [_svd_jvp_s],
                functions=("linalg.svd",), front=svd)
_svd_vh = define("svd_vh", _svd_output(2), [_svd_vjp_vh], [_svd_jvp_vh],
                 functions=("linalg.svd",), front=svd)
_svdvals_row = define(
    "svdvals", _svdvals,
    [lambda g, ans, x, hermitian=False: _svd_vjp_s(g, ans, x, False)],
    [lambda t, ans, x, hermitian=False: _svd_jvp_s(t, ans, x, False)],
    functions=("linalg.svdvals",), front=svdvals)


# ---- eigh eigvalsh --------------------------------------------------------------------

def _triangle(n, x, UPLO):
    """The mask of the triangle eigh/cholesky read, without the diagonal."""
    ones = np.ones((n, n), dtype=_dtype(x))
    return np.tril(ones, -1) if UPLO == "L" else np.triu(ones, 1)


def _onto_triangle(temp, x, UPLO):
    """A cotangent for the Hermitian matrix the triangle ``UPLO`` of x stands for, as
    x's cotangent: the diagonal's real part, the triangle's entries twice (each is two
    entries of the matrix), zero on the other triangle (autograd's grad_eigh)."""
    n = np.shape(x)[-1]
    return (_real(temp) * _eye(n, x)
            + (temp + _H(temp)) * _triangle(n, x, UPLO))


def _from_triangle(t, x, UPLO):
    """The tangent of the Hermitian matrix the triangle ``UPLO`` of x stands for."""
    n = np.shape(x)[-1]
    tri = _triangle(n, x, UPLO)
    return t * _eye(n, x) + t * tri + _H(t * tri)


def _eigh_vjp_w(g, ans, x, UPLO="L"):
    w, v = eigh(x, UPLO)
    return _onto_triangle(np.matmul(_conj(v) * _row(g), _T(v)), x, UPLO)


def _eigh_vjp_v(g, ans, x, UPLO="L"):
    w, v = eigh(x, UPLO)
    temp = np.matmul(np.matmul(_conj(v), _gaps(w) * np.matmul(_T(v), g)), _T(v))
    return _onto_triangle(temp, x, UPLO)


def _eigh_jvp_w(t, ans, x, UPLO="L"):
    _real_only("eigh", x)
    w, v = eigh(x, UPLO)
    return np.einsum("...ji,...jk,...ki->...i", v, _from_triangle(t, x, UPLO), v)


def _eigh_jvp_v(t, ans, x, UPLO="L"):
    _real_only("eigh", x)
    w, v = eigh(x, UPLO)
    vtdav = np.matmul(np.matmul(_T(v), _from_triangle(t, x, UPLO)), v)
    return np.matmul(v, _gaps(w) * vtdav)


def _eigh_output(i):
    def fwd(a, UPLO="L"):
        return _la.eigh(a, UPLO)[i]
    return fwd


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")


def eigh(a, UPLO="L"):
    """``numpy.linalg.eigh`` on Tensors: ``(eigenvalues, eigenvectors)`` of the Hermitian
    matrix the triangle ``UPLO`` stands for; eigenvector derivatives need distinct
    eigenvalues."""
    _check_uplo(UPLO)
    if isinstance(a, (list, tuple)):
        a = array_of(a)
    return _EighResult(_eigh_w(a, UPLO=UPLO), _eigh_v(a, UPLO=UPLO))


def eigvalsh(a, UPLO="L"):
    """``numpy.linalg.eigvalsh`` on Tensors."""
    _check_uplo(UPLO)
    return _eigvalsh(a, UPLO=UPLO)


_eigh_w = define("eigh_w", _eigh_output(0), [_eigh_vjp_w], [_eigh_jvp_w],
                 functions=("linalg.eigh",), front=eigh)
_eigh_v = define("eigh_v", _eigh_output(1), [_eigh_vjp_v], [_eigh_jvp_v],
                 functions=("linalg.eigh",), front=eigh)
_eigvalsh = define("eigvalsh", _la.eigvalsh, [_eigh_vjp_w], [_eigh_jvp_w],
                   functions=("linalg.eigvalsh",), front=eigvalsh)


# ---- eig ------------------------------------------------------------------------------

def _eig_vjp_w(g, ans, x):
    w, u = eig(x)
    ut = _T(u)
    n = np.shape(w)[-1]
    r = np.matmul(np.matmul(_inv(ut), _row(g) * _eye(n, w)), ut)
    return r if np.iscomplexobj(x) else _real(r)


def _eig_vjp_v(g, ans, x):
    # https://arxiv.org/pdf/1701.00392.pdf Eq. (4.77) (autograd's grad_eig)
    w, u = eig(x)
    ut = _T(u)
    n = np.shape(w)[-1]
    f = _gaps(w)
    utg = np.matmul(ut, g)
    r = f * utg - f * np.matmul(np.matmul(ut, _conj(u)), _real(utg) * _eye(n, w))
    r = np.matmul(np.matmul(_inv(ut), r), ut)
    return r if np.iscomplexobj(x) else _real(r)


def _eig_dp(t, x):
    _real_only("eig", x)
    w, u = eig(x)
    if np.iscomplexobj(w):
        raise NotImplementedError("eig: forward mode (JVP) with complex eigenvalues is not "
                                  "implemented")
    return np.matmul(_inv(u), np.matmul(t, u)), w, u


def _eig_jvp_w(t, ans, x):
    return _diagonal(_eig_dp(t, x)[0])


def _eig_jvp_v(t, ans, x):
    # dU = U C: C_ij = (U^-1 dA U)_ij / (w_j - w_i) off the diagonal; the diagonal keeps
    # numpy's unit-norm eigenvectors (u_j . du_j = 0)
    p, w, u = _eig_dp(t, x)
    c = _gaps(w) * p
    c = c - _row(_diagonal(np.matmul(np.matmul(_T(u), u), c))) * _eye(np.shape(w)[-1], w)
    return np.matmul(u, c)


def _eig_output(i):
    return lambda a: _la.eig(a)[i]


def eig(a):
    """``numpy.linalg.eig`` on Tensors: ``(eigenvalues, eigenvectors)`` (unit-norm
    columns, as numpy's); derivatives need distinct eigenvalues."""
    if isinstance(a, (list, tuple)):
        a = array_of(a)
    return _EigResult(_eig_w(a), _eig_v(a))


_eig_w = define("eig_w", _eig_output(0), [_eig_vjp_w], [_eig_jvp_w],
                functions=("linalg.eig",), front=eig)
_eig_v = define("eig_v", _eig_output(1), [_eig_vjp_v], [_eig_jvp_v],
                functions=("linalg.eig",), front=eig)


# ---- cholesky -------------------------------------------------------------------------

def _cholesky_lower_vjp(g, L, x):
    # Iain Murray, https://arxiv.org/abs/1602.07527 (autograd's grad_cholesky): S is the
    # cotangent of the symmetric matrix; x's is its lower triangle, the off-diagonal twice
    n = np.shape(x)[-1]
    phi = np.matmul(_T(L), g) * _lower_half_diagonal(n, x)
    s = _solve(_T(L), _T(_solve(_T(L), _T(phi))))
    return _onto_triangle(s, x, "L")


def _cholesky_lower_jvp(t, L, x):
    # dL = L Phi(L^-1 dA L^-T), Phi: the lower triangle with the diagonal halved
    n = np.shape(x)[-1]
    da = _from_triangle(t, x, "L")
    inner = _T(_solve(L, _T(_solve(L, da))))
    return np.matmul(L, inner * _lower_half_diagonal(n, x))


# upper=True: U(x) = L(x^T)^T, numpy reads the upper triangle
def _cholesky_vjp(g, ans, x, upper=False):
    if np.iscomplexobj(x):
        raise NotImplementedError("cholesky: derivatives of complex matrices are not "
                                  "implemented")
    if upper:
        return _T(_cholesky_lower_vjp(_T(g), _T(ans), _T(x)))
    return _cholesky_lower_vjp(g, ans, x)


def _cholesky_jvp(t, ans, x, upper=False):
    _real_only("cholesky", x)
    if upper:
        return _T(_cholesky_lower_jvp(_T(t), _T(ans), _T(x)))
    return _cholesky_lower_jvp(t, ans, x)


def _cholesky_fwd(a, upper=False):
    return _la.cholesky(a, upper=True) if upper else _la.cholesky(a)


def cholesky(a, /, *, upper=False):
    """``numpy.linalg.cholesky`` on Tensors (the lower triangle of ``a`` is read, or the
    upper with ``upper=True``)."""
    if upper and not _NUMPY2:
        raise TypeError("cholesky: upper=True needs numpy >= 2")
    return _cholesky(a, upper=True) if upper else _cholesky(a)


_cholesky = define("cholesky", _cholesky_fwd, [_cholesky_vjp], [_cholesky_jvp],
                   functions=("linalg.cholesky",), front=cholesky)


# ---- matrix_power ---------------------------------------------------------------------

def matrix_power(a, n):
    """``numpy.linalg.matrix_power`` on Tensors: numpy's own sequence of matrix products
    (``inv`` first for a negative ``n``); ``n = 0`` gives the identity, a constant."""
    import operator
    n = operator.index(n)
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise _la.LinAlgError("Last 2 dimensions of the array must be square")
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1], dtype=value_of(a).dtype), shape).copy()
    if n < 0:
        a, n = _inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return np.matmul(a, a)
    if n == 3:
        return np.matmul(np.matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else np.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else np.matmul(result, z)
    return result


expose(matrix_power, functions=("linalg.matrix_power",))


# ---- norm -----------------------------------------------------------------------------

def _norm_axes(x, ord, axis):
    """(axes, is_matrix) as numpy's norm reads ``ord`` and ``axis``."""
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            return tuple(range(nd)), False          # the flattened array's 2-norm
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (axis,)
    axes = tuple(a % nd for a in axis)
    return axes, len(axes) == 2


def _share(hit, axes, x):
    """Where the max/min is reached (a constant), split evenly among ties."""
    return (hit / np.sum(hit, axis=axes, keepdims=True)).astype(np.abs(value_of(x)).dtype)


def _phase(x):
    """d|x|/dx's direction: sign(x), or conj(x)/|x| for complex x."""
    if np.iscomplexobj(x):
        return _conj(x) / np.abs(x)
    return np.sign(x)


def _to_back(x, r, c):
    """x with the matrix axes (r, c) moved last, and the permutation undoing it."""
    nd = np.ndim(x)
    perm = [i for i in range(nd) if i not in (r, c)] + [r, c]
    return np.transpose(x, perm), list(np.argsort(perm))


def _norm_direction(ans, x, ord, axis, keepdims):
    """``(D, axes, expand)``: the norm's derivative ``D`` (x's shape: the VJP is
    ``expand(g) * D``, the JVP ``sum(t * D, axes)``) and a function putting the reduced
    axes back into a result."""
    axes, matrix = _norm_axes(x, ord, axis)
    shape = np.shape(x)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))

    def expand(a):
        return a if keepdims else np.reshape(a, kept)

    xv = value_of(x)    # masks of where a max/min is reached: constants
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return _conj(x) / expand(ans), axes, expand
    if matrix:
        r, c = axes
        if ord in ("nuc", 2, -2):
            xb, undo = _to_back(x, r, c)
            u, s, vh = svd(xb, full_matrices=False)
            if ord == "nuc":
                uvh = np.matmul(u, vh)
            else:       # the largest (smallest) singular value's vectors
                i = 0 if ord == 2 else np.shape(s)[-1] - 1
                uvh = np.matmul(u[..., :, i:i + 1], vh[..., i:i + 1, :])
            return _conj(np.transpose(uvh, undo)), axes, expand
        if ord in (1, -1, np.inf, -np.inf):
            # ord=+-1: the column sums' max/min; +-inf: the row sums'
            summed = r if ord in (1, -1) else c
            sums = np.sum(np.abs(xv), axis=summed, keepdims=True)
            ansv = np.reshape(value_of(ans), kept) if not keepdims else value_of(ans)
            hit = sums == ansv
            return _phase(x) * _share(hit, axes, x), axes, expand
        raise ValueError("Invalid norm order for matrices.")
    if ord in (np.inf, -np.inf):
        hit = np.abs(xv) == (np.reshape(value_of(ans), kept) if not keepdims else
                             value_of(ans))
        return _phase(x) * _share(hit, axes, x), axes, expand
    if ord == 0:
        return np.zeros(shape, dtype=np.abs(xv).dtype), axes, expand    # a count
    if ord == 1:
        return _phase(x), axes, expand
    return _phase(x) * np.abs(x) ** (ord - 1) / expand(ans) ** (ord - 1), axes, expand


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    d, axes, expand = _norm_direction(ans, x, ord, axis, keepdims)
    return expand(g) * d


def _norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    d, axes, expand = _norm_direction(ans, x, ord, axis, keepdims)
    return _real(np.sum(t * d, axis=axes, keepdims=keepdims))    # a real result


def _norm_fwd(x, ord=None, axis=None, keepdims=False):
    return _la.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims=False):
    """``numpy.linalg.norm`` on Tensors: vector norms (2, any p, +-inf, 0) and matrix
    norms ('fro', 'nuc', +-1, +-2, +-inf), over ``axis`` as numpy's; the gradient at a
    kink (a tie for the max, a zero) is the sub-gradient averaging the tied entries."""
    if isinstance(x, (list, tuple)):
        x = array_of(x)
    if isinstance(axis, list):
        axis = tuple(axis)
    return _norm(x, ord=ord, axis=axis, keepdims=keepdims)


_norm = define("norm", _norm_fwd, [_norm_vjp], [_norm_jvp], functions=("linalg.norm",),
               front=norm)
