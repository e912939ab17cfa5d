"""Complex-number rows: ``real``, ``imag``, ``conj``, ``angle``, and the tests without a
derivative (``iscomplex``, ``isreal``).

Autograd's convention (``fastgrad._tensor``, "Complex numbers"): the VJP of a primitive
whose Jacobian is ``J`` maps a cotangent ``g`` to the one that makes
``Re<v, conj(vjp(conj(u)))> = Re<u, J v>`` for all directions: for a holomorphic function
that is ``g * f'(z)``, with no conjugation. For the functions here, which are not
holomorphic, it reads (``x`` the operand, ``g`` the cotangent, ``t`` the tangent):

=========  ===========================  ======================================
function   VJP                          JVP
=========  ===========================  ======================================
real       ``g`` (as complex)           ``real(t)``
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


_angle = define("angle", lambda x, deg=False: np.angle(x, deg=deg), [_angle_vjp],
                [_angle_jvp], front=lambda z, deg=False: _angle(z, deg=bool(deg)),
                functions=("angle",))

# ---- not differentiable: the values in, a constant out ---------------------------------
# (iscomplexobj and isrealobj are in elementwise.py)
for _name in ("iscomplex", "isreal"):
    expose(constant_function(getattr(np, _name)), functions=(_name,))
del _name
