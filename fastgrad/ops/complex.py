"""Complex-number rows: ``real``, ``real_if_close``, ``imag``, ``conj``, ``angle``, and the
tests without a derivative (``iscomplex``, ``isreal``).

Autograd's convention (``fastgrad._tensor``, "Complex numbers"): the VJP of a primitive
whose Jacobian is ``J`` maps a cotangent ``g`` to the one that makes
``Re<v, conj(vjp(conj(u)))> = Re<u, J v>`` for all directions: for a holomorphic function
that is ``g * f'(z)``, with no conjugation. For the functions here, which are not
holomorphic, it reads (``x`` the operand, ``g`` the cotangent, ``t`` the tangent):

=========  ===========================  ======================================
function   VJP                          JVP
=========  ===========================  ======================================
real       ``g`` (as complex)           ``real(t)``
real_if_c  ``g`` (as complex)           ``real(t)`` if the result is real, else ``t``
imag       ``-1j * g``                  ``imag(t)``
conj       ``conj(g)``                  ``conj(t)``
angle      ``g * conj(1j x) / |x|**2``  ``imag(t * conj(x)) / |x|**2``
=========  ===========================  ======================================

(``abs`` of a complex operand is the compiled ``absolute`` row: ``g * conj(x) / |x|``.)
A real operand keeps the real part of a complex cotangent (the engine does it, after the
rule), so ``imag`` and ``angle`` of a real Tensor have zero derivative, as in autograd.
"""
import numpy as np

from .._tensor import constant_function, define, expose

__all__ = []


def _complex(x):
    return np.iscomplexobj(x)


def _to(x, g):
    # g in x's space: made complex for a complex x (the engine takes the real part for a
    # real one); a real cotangent of real(x) would otherwise stay real
    return g * (1 + 0j) if _complex(x) and not _complex(g) else g


define("real", np.real,
       [lambda g, ans, x: _to(x, g)], [lambda t, ans, x: np.real(t)],
       functions=("real",), attributes=("real",))

# the real part when every imaginary part is within tol machine epsilons of 0, else x:
# real's rules where the result is real, the identity's where it is not
# (numpy's signature: tol, given by position or keyword, reaches the rules either way)
define("real_if_close", lambda x, tol=100: np.real_if_close(x, tol=tol),
       [lambda g, ans, x, tol=100: _to(x, g)],
       [lambda t, ans, x, tol=100: t if _complex(ans) else np.real(t)],
       functions=("real_if_close",))

define("imag", np.imag,
       [lambda g, ans, x: -1j * g], [lambda t, ans, x: np.imag(t)],
       functions=("imag",), attributes=("imag",))

define("conjugate", np.conjugate,
       [lambda g, ans, x: np.conj(g)], [lambda t, ans, x: np.conj(t)],
       op="conj", functions=("conj", "conjugate"), ufuncs=("conjugate",),
       methods=("conj", "conjugate"))


def _angle_vjp(g, ans, x, deg=False):
    if not _complex(x):
        return g * 0.0                      # the angle of a real number is 0 or pi
    d = g * np.conj(x * 1j) / (np.real(x) ** 2 + np.imag(x) ** 2)
    return d * (180 / np.pi) if deg else d


def _angle_jvp(t, ans, x, deg=False):
    if not _complex(x):
        return t * 0.0
    d = np.imag(t * np.conj(x)) / (np.real(x) ** 2 + np.imag(x) ** 2)
    return d * (180 / np.pi) if deg else d


define("angle", lambda x, deg=False: np.angle(x, deg=deg), [_angle_vjp], [_angle_jvp],
       functions=("angle",))

# ---- not differentiable: the values in, a constant out ---------------------------------
# (iscomplexobj and isrealobj are in elementwise.py)
for _name in ("iscomplex", "isreal"):
    expose(constant_function(getattr(np, _name)), functions=(_name,))
del _name
