"""FFT rows: ``numpy.fft``'s transforms and shifts, with their derivatives.

Every transform is linear (real-linear for the real ones), so its JVP is the transform of
the tangent with the same arguments, and its VJP is the transpose (not the conjugate
transpose: autograd's convention, ``fastgrad._tensor`` "Complex numbers"). With ``s``
the transform's full lengths along ``axes`` and ``fit(y, shape)`` the truncation or zero
padding of ``y`` to ``shape`` (what ``n``/``s`` do to the input):

=================================  ===================================================
transform (``n``/``s``, ``norm``)  VJP
=================================  ===================================================
fft ifft fft2 ifft2 fftn ifftn     ``fit(same transform of g, x.shape)`` (the DFT
                                   matrix is symmetric)
rfft rfft2 rfftn                   ``real(fit(fftn(g, s, axes), x.shape))``
irfft irfft2 irfftn                ``fit(c * ifftn(g, s, axes), x.shape)``, ``c`` 1 at
                                   frequency 0 (and ``s[-1] / 2`` for even lengths),
                                   2 below ``s[-1] / 2``, 0 above, along ``axes[-1]``
fftshift / ifftshift               ``ifftshift(g)`` / ``fftshift(g)``
=================================  ===================================================

The same ``norm`` serves the transpose (each norm scales a transform and its transpose
alike). Unlike autograd, odd lengths of the real transforms are differentiated (the
factors ``c`` above hold for them). Repeated axes raise ``NotImplementedError`` when
differentiated, as in autograd. Rules are written with ``numpy.fft`` and indexing, so
they differentiate again.
"""
import numpy as np

from .._tensor import define

__all__ = []


def _fit(y, shape):
    """y truncated or zero-padded (at the end of each axis) to ``shape``: differentiable,
    from indexing and concatenate."""
    shape = tuple(shape)
    have = np.shape(y)
    if have == shape:
        return y
    if any(n < m for n, m in zip(shape, have)):
        y = y[tuple(slice(n) for n in shape)]
        have = np.shape(y)
    for axis, (n, m) in enumerate(zip(shape, have)):
        if n > m:
            zshape = list(have)
            zshape[axis] = n - m
            y = np.concatenate([y, np.zeros(zshape, y.dtype)], axis=axis)
            have = np.shape(y)
    return y


def _plan(kind, x, ans, params):
    """(s, axes): the transform's axes (non-negative, unique) and full lengths along them."""
    nd = np.ndim(x)
    one = "axis" in params
    if one:
        axes = [params.get("axis", -1)]
        s = None if params.get("n") is None else [params["n"]]
    else:
        axes, s = params.get("axes"), params.get("s")
        if axes is None:        # numpy's rule, fft2's default (-2, -1) aside
            axes = range(nd) if s is None else range(nd - len(s), nd)
        axes = list(axes)
    axes = [a % nd for a in axes]
    if len(set(axes)) != len(axes):
        raise NotImplementedError("FFT gradient for repeated axes not implemented "
                                  f"(axes {axes})")
    if kind == "r2c":        # the lengths the real input is cut or padded to
        s = [np.shape(x)[a] for a in axes] if s is None else list(s)
    else:                    # the output's lengths (complex, or the real result of c2r)
        s = [np.shape(ans)[a] for a in axes]
    return s, axes


def _row(name, kind, fwd_name, n_d):
    fwd = getattr(np.fft, name)

    def jvp(t, ans, x, **p):
        return fwd(t, **p)          # numpy's function: the row again on a Tensor

    if kind == "c2c":
        transpose = getattr(np.fft, fwd_name)

        def vjp(g, ans, x, **p):
            s, axes = _plan(kind, x, ans, p)
            return _fit(transpose(g, s=s, axes=axes, norm=p.get("norm")), np.shape(x))
    elif kind == "r2c":
        def vjp(g, ans, x, **p):
            s, axes = _plan(kind, x, ans, p)
            return np.real(_fit(np.fft.fftn(g, s=s, axes=axes, norm=p.get("norm")),
                                np.shape(x)))
    else:
        def vjp(g, ans, x, **p):
            s, axes = _plan(kind, x, ans, p)
            n = s[-1]
            c = np.zeros(n, ans.dtype)         # ans is real
            c[:n // 2 + 1] = 2
            c[0] = 1
            if n % 2 == 0:
                c[n // 2] = 1
            shape = [1] * np.ndim(ans)
            shape[axes[-1]] = n
            y = np.fft.ifftn(g, s=s, axes=axes, norm=p.get("norm")) * c.reshape(shape)
            return _fit(y, np.shape(x))

    # numpy's signature, its arguments handed to the row as keywords (parameters)
    if n_d == 1:
        def front(a, n=None, axis=-1, norm=None, out=None):
            _no_out(name, out)
            return row(a, n=n, axis=axis, norm=norm)
    else:
        def front(a, s=None, axes=None if n_d == "n" else (-2, -1), norm=None, out=None):
            _no_out(name, out)
            return row(a, s=s, axes=axes, norm=norm)
    front.__name__ = front.__qualname__ = name
    front.__doc__ = f"``numpy.fft.{name}``, differentiable (``fastgrad/ops/fft.py``)."
    row = define(name, fwd, [vjp], [jvp], front=front, functions=("fft." + name,))
    return row


def _no_out(name, out):
    if out is not None:
        raise TypeError(f"numpy.fft.{name}: out= is not supported on Tensors")


# ---- the transforms: name, kind, the transform serving the VJP, 1-D / 2-D / n-D ---------
for _name, _kind, _t, _nd in [
        ("fft", "c2c", "fftn", 1), ("ifft", "c2c", "ifftn", 1),
        ("fft2", "c2c", "fftn", 2), ("ifft2", "c2c", "ifftn", 2),
        ("fftn", "c2c", "fftn", "n"), ("ifftn", "c2c", "ifftn", "n"),
        ("rfft", "r2c", None, 1), ("rfft2", "r2c", None, 2), ("rfftn", "r2c", None, "n"),
        ("irfft", "c2r", None, 1), ("irfft2", "c2r", None, 2),
        ("irfftn", "c2r", None, "n")]:
    _row(_name, _kind, _t, _nd)


# ---- the shifts: a permutation each, the other's transpose ------------------------------
define("fftshift", lambda x, axes=None: np.fft.fftshift(x, axes),
       [lambda g, ans, x, axes=None: np.fft.ifftshift(g, axes)],
       [lambda t, ans, x, axes=None: np.fft.fftshift(t, axes)],
       functions=("fft.fftshift",))
define("ifftshift", lambda x, axes=None: np.fft.ifftshift(x, axes),
       [lambda g, ans, x, axes=None: np.fft.fftshift(g, axes)],
       [lambda t, ans, x, axes=None: np.fft.ifftshift(t, axes)],
       functions=("fft.ifftshift",))
