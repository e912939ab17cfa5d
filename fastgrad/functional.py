"""HIPS autograd's functional API: ``grad``, ``jacobian``, ``hessian``, ``make_jvp``, ...

Every operator here is a thin layer over the two primitives of ``fastgrad.core``:
``make_vjp(fun, x) -> (vjp, ans)`` (reverse mode) and ``make_jvp(fun, x) -> jvp`` with
``jvp(v) -> (ans, tangent)`` (forward mode). The core differentiates through any number
of levels, so every operator composes with itself and with the others
(``grad(grad(f))``, ``jacobian(jacobian(f))``, a ``grad`` of a closure inside a function
being differentiated) and the results are themselves differentiable.

The operators take a function and ``argnum`` and return a function of the same
arguments, as autograd's do (``grad(f, argnum=1)(x, y)``). ``argnum`` is an int (the
derivative has that argument's structure) or a tuple of ints (a tuple of derivatives,
one per argument named). The differentiated argument is a float, an ndarray or nested
lists/tuples/dicts of them: floating arrays keep their dtype; ints, bools and Python
numbers are promoted to float64 (a Python number's derivative is a float); complex
arrays and numbers keep their dtype (autograd's convention: ``grad`` of a real-valued
function of ``z = x + iy`` is ``df/dx - i df/dy``; ``holomorphic_grad`` gives ``f'(z)``);
object data raise ``TypeError`` naming where in the structure they are.

The output may be an array, a number, or (for ``make_vjp``/``make_jvp``, and so for
``check_grads`` at any order) nested lists/tuples/dicts of them: a container output is
raveled into one vector for the core and rebuilt around its cotangent or tangent.

A function whose output does not depend on the differentiated argument (it went
through ``float()`` or ``.item()``, or returns a constant) gets a zero derivative and a
``UserWarning("Output seems independent of input.")``, as in autograd.
"""
import functools
import inspect
import math
import operator
import warnings
from collections import OrderedDict

import numpy as np

from . import core
from ._tensor import Tensor
from .core import _GRAPH_RECORDERS

__all__ = ["grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian",
           "hessian_tensor_product", "hessian_vector_product", "make_vjp", "make_jvp",
           "make_hvp", "make_ggnvp", "deriv", "holomorphic_grad", "grad_named",
           "multigrad_dict", "checkpoint", "grad_and_aux", "tensor_jacobian_product",
           "vector_jacobian_product"]


class ArgnumError(ValueError, IndexError):
    """``argnum`` names a positional argument the call does not have.

    A ``ValueError`` (what fastgrad raised before) and an ``IndexError`` (what autograd
    raises), so code written for either catches it.
    """


class NonScalarOutputError(TypeError, ValueError):
    """``grad`` of a function whose output is not one real number.

    A ``TypeError`` (what autograd raises) and a ``ValueError`` (what fastgrad raised
    before), so code written for either catches it.
    """


# ---- argnum: which positional arguments an operator differentiates --------------------

def _check_argnum(argnum, op):
    """argnum as an int or a tuple of ints; TypeError/ValueError for anything else."""
    if isinstance(argnum, (list, tuple)):
        items = tuple(argnum)
        if not items:
            raise ValueError(f"{op}: argnum=() names no argument; give an int or a "
                             "non-empty tuple of ints")
        for a in items:
            _check_argnum(a, op)
        return items
    if isinstance(argnum, bool) or not isinstance(argnum, (int, np.integer)):
        raise TypeError(f"{op}: argnum must be an int or a tuple of ints, not "
                        f"{type(argnum).__name__} {argnum!r}")
    return operator.index(argnum)


def _resolve(argnum, n, op):
    """argnum checked against a call with n positional arguments."""
    if type(argnum) is int and -n <= argnum < n:        # the common case, quickly
        return argnum
    for a in argnum if isinstance(argnum, tuple) else (argnum,):
        if not -n <= a < n:
            raise ArgnumError(f"{op}: argnum={argnum!r} does not name one of the {n} "
                              "positional arguments of this call")
    if isinstance(argnum, tuple):
        seen = [a % n for a in argnum]
        if len(set(seen)) != len(seen):
            raise ValueError(f"{op}: argnum={argnum!r} names the same argument twice")
    return argnum


def _bind(fun, argnum, args, kwargs, op):
    """(unary_f, x): fun as a function of args[argnum] alone (a tuple for a tuple)."""
    n = len(args)
    if not (type(argnum) is int and -n <= argnum < n):   # the common case skips the call
        argnum = _resolve(argnum, n, op)
    if isinstance(argnum, tuple):
        x = tuple(args[a] for a in argnum)

        def unary_f(x):
            new = list(args)
            for a, value in zip(argnum, x):
                new[a] = value
            return fun(*new, **kwargs)
    else:
        x = args[argnum]

        def unary_f(x):
            new = list(args)
            new[argnum] = x
            return fun(*new, **kwargs)
    unary_f.__name__ = getattr(fun, "__name__", "fun")
    return unary_f, x


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _nary(unary):
    """autograd's operator shape from a unary one: op(fun, argnum=0, *opts)(*args)."""
    op = unary.__name__.lstrip("_")

    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        argnum = _check_argnum(argnum, op)

        def nary_f(*args, **kwargs):
            if _GRAPH_RECORDERS:        # const_graph is tracing: one recorded operation
                recorded = _GRAPH_RECORDERS[-1](nary_f, args, kwargs)
                if recorded is not NotImplemented:
                    return recorded
            unary_f, x = _bind(fun, argnum, args, kwargs, op)
            return unary(unary_f, x, *op_args, **op_kwargs)

        nary_f.__name__ = nary_f.__qualname__ = f"{op}_of_{_name(fun)}_wrt_argnum_{argnum}"
        nary_f.__doc__ = (f"    {op} of function {_name(fun)} with respect to argument "
                          f"number {argnum}. Takes the same arguments as {_name(fun)} but "
                          f"returns the {op}.\n")
        return nary_f

    nary_operator.__name__ = nary_operator.__qualname__ = op
    nary_operator.__doc__ = unary.__doc__
    nary_operator.__module__ = unary.__module__
    return nary_operator


# ---- values, structures ---------------------------------------------------------------

def _is_container(v):
    return isinstance(v, (list, tuple, dict))


def _tree_map(f, tree, *others):
    """f applied leaf by leaf over tree's lists/tuples/namedtuples/dicts (and others')."""
    if isinstance(tree, dict):
        return type(tree)((k, _tree_map(f, v, *(o[k] for o in others)))
                          for k, v in tree.items())
    if isinstance(tree, (list, tuple)):
        items = [_tree_map(f, *parts) for parts in zip(tree, *others)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    return f(tree, *others)


def _leaves(tree):
    out = []
    _tree_map(out.append, tree)
    return out


def _shape_dtype(v):
    """(shape, dtype) of a Tensor or of anything numpy makes an array of."""
    if isinstance(v, Tensor):
        return v.shape, v.dtype
    a = np.asarray(v)
    return a.shape, a.dtype


def _real_output(ans, op, scalar=False):
    """(shape, float dtype) of ans; TypeError if it is not real numbers."""
    if _is_container(ans):
        raise TypeError(f"{op}: the function returned a {type(ans).__name__}; {op} needs "
                        "one array or number as output (differentiate each part "
                        "separately, or use make_vjp)")
    shape, dtype = _shape_dtype(ans)
    kind = dtype.kind
    if kind == "c":
        raise TypeError(f"{op}: the function returned complex values; {op} applies to "
                        "real-output functions (use holomorphic_grad for a holomorphic "
                        "function, or take np.real / np.abs first)")
    if kind == "b":
        raise TypeError(f"{op}: the function returned a boolean (a comparison has no "
                        "derivative); return a real number")
    if kind not in "fiu":
        raise TypeError(f"{op}: the function returned {dtype} data, which cannot be "
                        "differentiated; return real numbers")
    if scalar and math.prod(shape) != 1:
        raise NonScalarOutputError(
            f"{op}: the function must return a scalar, it returned shape {shape}; reduce "
            "it (a sum or mean), or use jacobian (every partial derivative) or "
            "elementwise_grad (the Jacobian's diagonal, for elementwise functions)")
    return shape, (dtype if kind == "f" else np.dtype(np.float64))


_FLOAT_SCALARS = (float, np.float64, np.float32, np.float16)


def _ones_like_output(ans, op, scalar=False):
    if type(ans) in _FLOAT_SCALARS:                     # the common case, quickly
        return 1.0
    shape, dtype = _real_output(ans, op, scalar)
    return np.ones(shape, dtype) if shape else 1.0      # the core casts it to its dtype


def _plain_value(ans):
    """value_and_grad's value: a float, unless it is being differentiated itself."""
    if isinstance(ans, Tensor):
        return ans
    return float(np.asarray(ans).reshape(()))


def _ones_like_input(x):
    def ones(v):
        if isinstance(v, Tensor):
            return np.ones(v.shape, v.dtype)
        if isinstance(v, (int, float)) and not isinstance(v, np.generic):
            return 1.0
        a = np.asarray(v)
        return np.ones(a.shape, a.dtype if a.dtype.kind == "f" else np.float64)
    return _tree_map(ones, x)


def _fnp():
    """fastgrad.numpy, imported on first use (it is not needed to import fastgrad)."""
    from . import numpy
    return numpy


def _stack_rows(rows, lead_shape, x):
    """Cotangents rows[i] (each in x's structure), stacked into lead_shape + leaf shapes."""
    fnp = _fnp()

    def stack(leaf, *parts):
        shape = tuple(lead_shape) + _shape_dtype(leaf)[0]
        if not parts:
            return np.zeros(shape)
        return fnp.reshape(fnp.stack(parts), shape)
    return _tree_map(stack, x, *rows)


def _flatten(tree):
    """(vector, unflatten): tree's leaves raveled into one 1-D array or Tensor.

    ``unflatten(vector)`` rebuilds the structure, each leaf in its shape (and, for plain
    values, its floating dtype).
    """
    leaves = _leaves(tree)
    fnp = _fnp()
    parts = [fnp.reshape(leaf, (-1,)) for leaf in leaves]
    if not parts:
        vector = np.zeros(0)
    elif any(isinstance(p, Tensor) for p in parts):
        vector = fnp.concatenate(parts)
    else:
        vector = np.concatenate(parts)
    layout = [_shape_dtype(leaf) for leaf in leaves]

    def unflatten(vector):
        pieces, start = [], 0
        for shape, dtype in layout:
            size = math.prod(shape)
            piece = vector[start:start + size]
            # a real leaf's part of a complex vector is its real part (autograd's
            # vector spaces): the imaginary part of a perturbation is not in its space
            if isinstance(piece, Tensor):
                piece = fnp.reshape(piece, shape)
                if dtype.kind == "f" and piece.dtype.kind == "c":
                    piece = fnp.real(piece)
            else:
                piece = piece.reshape(shape)
                if dtype.kind == "f" and piece.dtype.kind == "c":
                    piece = piece.real
                if dtype.kind == "f" and piece.dtype != dtype:
                    piece = piece.astype(dtype)
                if not shape:
                    piece = piece[()]
            pieces.append(piece)
            start += size
        it = iter(pieces)
        return _tree_map(lambda _: next(it), tree)

    return vector, unflatten


def _raveled(fun):
    """(flat_fun, kept): fun with a list/tuple/dict output raveled into one vector.

    After each call ``kept[-1]`` is None (the output was an array or a number) or
    ``(output, unflatten)``.
    """
    kept = []

    def flat_fun(y):
        out = fun(y)
        if type(out) is Tensor or not _is_container(out):
            kept.append(None)
            return out
        vector, unflatten = _flatten(out)
        kept.append((out, unflatten))
        return vector
    return flat_fun, kept


def _make_vjp(fun, x):
    """core.make_vjp, for functions returning lists/tuples/dicts of arrays too.

    A container output is raveled into one vector for the core and rebuilt around it;
    the cotangent, in the output's structure, is raveled the same way.
    """
    flat_fun, kept = _raveled(fun)
    vjp, ans = core.make_vjp(flat_fun, x)
    if kept[-1] is None:
        return vjp, ans
    template, unflatten = kept[-1]

    def container_vjp(g):
        _check_like(g, template, "make_vjp", "the cotangent", "the output")
        return vjp(_flatten(g)[0])
    return container_vjp, unflatten(ans)


def _make_jvp(fun, x):
    """core.make_jvp, for functions returning lists/tuples/dicts of arrays too."""
    flat_fun, kept = _raveled(fun)
    jvp = core.make_jvp(flat_fun, x)

    def container_jvp(v):
        ans, tangent = jvp(v)
        if kept[-1] is None:
            return ans, tangent
        unflatten = kept[-1][1]
        return unflatten(ans), unflatten(tangent)
    return container_jvp


# ---- the operators --------------------------------------------------------------------

@_nary
def make_vjp(fun, x):
    """Reverse mode: ``make_vjp(fun, argnum)(*args)`` is ``(vjp, fun(*args))``.

    ``argnum`` (an int or a tuple of ints) names the differentiated argument(s), as for
    ``grad``. ``vjp(g)``, for a cotangent ``g`` shaped like the output, is ``g``'s
    pull-back (``g`` times the Jacobian) in the structure of the differentiated
    argument; it can be called many times and reuses the recorded forward pass.
    """
    return _make_vjp(fun, x)


@_nary
def make_jvp(fun, x):
    """Forward mode: ``make_jvp(fun, argnum)(*args)`` is ``jvp``, ``jvp(v) = (ans, t)``.

    ``argnum`` as for ``grad``. ``jvp(v)``, for a tangent ``v`` in the structure of the
    differentiated argument, is ``(fun(*args), J v)``, computed in one forward pass that
    carries the tangent.
    """
    return _make_jvp(fun, x)


@_nary
def grad(fun, x):
    """
    Returns a function which computes the gradient of the scalar function ``fun``.

    Parameters
    ----------
    fun : callable
        Returns one real number (a float, a one-element array or Tensor).
    argnum : int or tuple of ints, default 0
        The positional argument to differentiate with respect to: a float, an ndarray,
        or nested lists/tuples/dicts of them. A tuple gives a tuple of gradients.

    Returns
    -------
    callable
        Takes ``fun``'s arguments and returns d fun / d args[argnum], with the
        argument's structure (ndarrays of the argument's float dtype; floats for
        Python numbers).

    Raises
    ------
    NonScalarOutputError
        (a ``TypeError`` and a ``ValueError``) if ``fun`` returns more than one number:
        use ``jacobian`` or ``elementwise_grad``.
    TypeError
        If ``fun`` returns a complex, boolean or non-numeric value, or ``argnum`` is
        not an int or a tuple of ints.
    ArgnumError
        (a ``ValueError`` and an ``IndexError``) if ``argnum`` names an argument the
        call does not have.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad import grad
    >>> grad(lambda x: np.sum(np.tanh(x) ** 2))(np.array([0.0, 1.0]))
    array([0.        , 0.63970001])
    >>> grad(grad(np.sin))(0.5)                 # any order   # doctest: +SKIP
    -0.479425538604203
    """
    # the core directly, without _make_vjp's raveling of container outputs: grad refuses
    # them, with the message _ones_like_output gives a raveled one
    try:
        vjp, ans = core._make_vjp(fun, x, "make_vjp")
    except core._BadOutput as exc:
        if not _is_container(exc.out):
            raise
        out = exc.out
    else:
        return vjp(1.0 if type(ans) in _FLOAT_SCALARS else
                   _ones_like_output(ans, "grad", scalar=True))
    _real_output(out, "grad", scalar=True)
    raise AssertionError("unreachable: _real_output refuses a container")


@_nary
def value_and_grad(fun, x):
    """Like ``grad``, but the returned function gives ``(fun(*args), gradient)``.

    The value is a float (a Tensor when it is itself being differentiated, so
    ``value_and_grad(f)(x)[0]`` can be differentiated again).
    """
    vjp, ans = _make_vjp(fun, x)
    g = vjp(_ones_like_output(ans, "value_and_grad", scalar=True))
    return _plain_value(ans), g


@_nary
def grad_and_aux(fun, x):
    """For ``fun`` returning ``(scalar, aux)``: ``(gradient of the scalar, aux)``.

    ``aux`` is anything (its Tensors come back as plain values, or as Tensors of an
    enclosing differentiation); only the scalar is differentiated.
    """
    kept = []

    def packed(y):
        out = fun(y)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"grad_and_aux: the function must return a pair (scalar, "
                            f"aux), it returned a {type(out).__name__}")
        ans, aux = out
        _real_output(ans, "grad_and_aux", scalar=True)
        tensors = [leaf for leaf in _leaves(aux) if isinstance(leaf, Tensor)]
        if not tensors:
            kept.append((aux, None))
            return ans
        # the aux Tensors ride along in the output (with zero cotangents), so that the
        # core hands them back with this differentiation's recording removed
        vector, unflatten = _flatten([ans, tensors])
        kept.append((aux, unflatten))
        return vector

    vjp, flat = _make_vjp(packed, x)
    aux, unflatten = kept[-1]
    if unflatten is None:
        return vjp(_ones_like_output(flat, "grad_and_aux", scalar=True)), aux
    seed = np.zeros(_shape_dtype(flat)[0], _real_output(flat, "grad_and_aux")[1])
    seed[0] = 1                                         # the scalar comes first
    it = iter(unflatten(flat)[1])
    aux = _tree_map(lambda leaf: next(it) if isinstance(leaf, Tensor) else leaf, aux)
    return vjp(seed), aux


@_nary
def elementwise_grad(fun, x):
    """The sum of the Jacobian's rows: the derivative of each output by its own input.

    For a function that acts elementwise (each output depends only on the input in the
    same place) this is the Jacobian's diagonal, in one reverse pass; in general it is
    the gradient of ``sum(fun(x))``.

    Parameters
    ----------
    fun : callable
        Returns an array (or a number) of real values.
    argnum : int or tuple of ints, default 0

    Returns
    -------
    callable
        Takes ``fun``'s arguments and returns a value shaped like ``args[argnum]``.
    """
    vjp, ans = _make_vjp(fun, x)
    return vjp(_ones_like_output(ans, "elementwise_grad"))


@_nary
def jacobian(fun, x):
    """The Jacobian, as a function: shape ``output.shape + input.shape``.

    Parameters
    ----------
    fun : callable
        Returns an array (or a number) of real values.
    argnum : int or tuple of ints, default 0
        The argument: a number or an array (for lists/tuples/dicts, each leaf gets its
        own ``output.shape + leaf.shape`` block, in the argument's structure).

    Returns
    -------
    callable
        Takes ``fun``'s arguments; ``J[i..., j...] = d out[i...] / d x[j...]``, computed
        with one vector-Jacobian product per output element.
    """
    vjp, ans = _make_vjp(fun, x)
    shape, dtype = _real_output(ans, "jacobian")
    rows = []
    for i in range(math.prod(shape)):
        e = np.zeros(shape, dtype)
        e.flat[i] = 1
        rows.append(vjp(e))
    return _stack_rows(rows, shape, x)


@_nary
def hessian(fun, x):
    """The Hessian (the Jacobian of the Jacobian), as a function.

    Shape ``output.shape + input.shape + input.shape``: for a scalar function of a
    vector, the matrix of second partial derivatives.
    """
    return jacobian(lambda y: jacobian(fun)(y))(x)


@_nary
def deriv(fun, x):
    """The derivative along the all-ones direction, in forward mode.

    For a function of one number, its derivative ``f'(x)`` (of each output); in
    general ``J @ ones``.
    """
    return _make_jvp(fun, x)(_ones_like_input(x))[1]


@_nary
def holomorphic_grad(fun, x):
    """The complex derivative ``f'(z)`` of a holomorphic function, as autograd's.

    It is the gradient of ``real(fun(z))``: the rules of holomorphic functions are
    written without conjugation (``fastgrad._tensor``, "Complex numbers"), so this is
    ``f'(z)`` itself (``holomorphic_grad(np.sin)(z) == np.cos(z)``). For a real input it
    is the gradient of ``real(fun(x))``, after a ``UserWarning`` that the input is not
    complex (as autograd does).
    """
    if not any(np.iscomplexobj(leaf) for leaf in _leaves(x)):
        warnings.warn("Input to holomorphic_grad is not complex", UserWarning, stacklevel=3)
    return grad(lambda y: _real(fun(y)))(x)


def _real(v):
    # np.real on a Tensor is the registry's ``real`` row (fastgrad/ops/complex.py)
    return np.real(v) if np.iscomplexobj(v) else v


def _hvp_at(fun, x):
    """v -> H v at x, forward over reverse: the JVP of the gradient."""
    jvp = _make_jvp(lambda y: grad(fun)(y), x)
    return lambda v: jvp(v)[1]


@_nary
def make_hvp(fun, x):
    """Hessian-vector products at one point: ``make_hvp(fun)(x)`` is ``(hvp, grad)``.

    ``hvp(v)`` is ``H v``, the Hessian of the scalar ``fun`` at ``x`` times a vector
    ``v`` shaped like ``x``, computed forward over reverse (the forward-mode derivative
    of the gradient along ``v``: one pass, no Hessian built); ``grad`` is the gradient
    at ``x``.
    """
    return _hvp_at(fun, x), grad(fun)(x)


def hessian_tensor_product(fun, argnum=0):
    """``H v`` as a function of ``(*args, v)``: the Hessian of ``fun`` times ``v``.

    Parameters
    ----------
    fun : callable
        A scalar function.
    argnum : int or tuple of ints, default 0

    Returns
    -------
    callable
        ``htp(*args, v, **kwargs)``: the Hessian of ``fun`` with respect to
        ``args[argnum]``, contracted with ``v`` (shaped like that argument) over all its
        axes; computed forward over reverse, without building the Hessian.
    """
    def htp(unary_f, x, v):
        _check_like(v, x, "hessian_tensor_product")
        return _hvp_at(unary_f, x)(v)
    return _product_operator(htp, fun, argnum, "hessian_tensor_product")


def _product_operator(product, fun, argnum, op):
    """A function of (*args, v, **kwargs) that returns product(fun of args[argnum], x, v)."""
    argnum = _check_argnum(argnum, op)

    def operator_f(*args, **kwargs):
        if not args:
            raise TypeError(f"{op}: call it with the function's arguments followed by "
                            "the vector")
        *args, v = args
        unary_f, x = _bind(fun, argnum, args, kwargs, op)
        return product(unary_f, x, v)

    operator_f.__name__ = operator_f.__qualname__ = f"{op}_of_{_name(fun)}"
    return operator_f


hessian_vector_product = hessian_tensor_product


def _check_like(v, x, op, v_name="the vector", x_name="the argument"):
    """A clear ValueError if v's structure or shapes differ from x's."""
    if not _same_structure(x, v):
        raise ValueError(f"{op}: {v_name} must have the shape and structure of {x_name}; "
                         f"{x_name} is {_describe(x)}, {v_name} {_describe(v)}")


def _same_structure(x, v):
    if isinstance(x, dict):
        return (isinstance(v, dict) and x.keys() == v.keys()
                and all(_same_structure(x[k], v[k]) for k in x))
    if isinstance(x, (list, tuple)):
        return (isinstance(v, (list, tuple)) and len(x) == len(v)
                and all(_same_structure(a, b) for a, b in zip(x, v)))
    return not _is_container(v) and _shape_dtype(x)[0] == _shape_dtype(v)[0]


def _describe(tree):
    return repr(_tree_map(lambda leaf: _shape_dtype(leaf)[0], tree))


def tensor_jacobian_product(fun, argnum=0):
    """``v`` times the Jacobian, as a function of ``(*args, v)``.

    Parameters
    ----------
    fun : callable
    argnum : int or tuple of ints, default 0

    Returns
    -------
    callable
        ``tjp(*args, v, **kwargs)``: ``tensordot(v, J, v.ndim)``, the Jacobian of
        ``fun`` with respect to ``args[argnum]`` contracted with ``v`` over the leading
        output axes; ``v`` has the shape of the output's first ``v.ndim`` axes. One
        reverse pass per element of the remaining output axes.
    """
    def tjp(unary_f, x, v):
        vjp, ans = _make_vjp(unary_f, x)
        shape, dtype = _real_output(ans, "tensor_jacobian_product")
        vshape = _shape_dtype(v)[0]
        if tuple(shape[:len(vshape)]) != vshape:
            raise ValueError(f"tensor_jacobian_product: the tensor has shape {vshape}, "
                             f"which is not the leading part of the output's shape "
                             f"{shape}")
        rest = shape[len(vshape):]
        if not rest:
            return vjp(v)
        column = _fnp().reshape(v, vshape + (1,) * len(rest))
        rows = []
        for j in range(math.prod(rest)):
            e = np.zeros(rest, dtype)
            e.flat[j] = 1
            rows.append(vjp(column * e))
        return _stack_rows(rows, rest, x)
    return _product_operator(tjp, fun, argnum, "tensor_jacobian_product")


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(f, g=None, f_argnum=0):
    """Generalised Gauss-Newton-vector products: ``J_f^T H_g J_f v``.

    Parameters
    ----------
    f : callable
        The model: parameters -> an output vector.
    g : callable, optional
        The loss of f's output, a scalar; default ``0.5 * sum(y**2, axis=-1)``.
    f_argnum : int or tuple of ints, default 0

    Returns
    -------
    callable
        Takes ``f``'s arguments and returns ``ggnvp``; ``ggnvp(v)`` is
        ``J^T (H_g (J v))`` at that point (J v in forward mode, H_g forward over
        reverse, J^T in reverse mode; the reverse pass of f is recorded once).
    """
    if g is None:
        g = _half_sum_of_squares

    def _make_ggnvp(f, x):
        f_vjp, f_x = _make_vjp(f, x)
        f_jvp = _make_jvp(f, x)
        g_hvp = _hvp_at(g, f_x)
        return lambda v: f_vjp(g_hvp(f_jvp(v)[1]))

    _make_ggnvp.__name__ = "make_ggnvp"
    return _nary(_make_ggnvp)(f, f_argnum)


def _half_sum_of_squares(y):
    return 0.5 * _fnp().sum(y ** 2, axis=-1)


def grad_named(fun, argname):
    """``grad`` with respect to the parameter called ``argname``.

    The returned function takes ``fun``'s arguments, positionally or by keyword
    (``argname``'s default is used when it is not given).

    Raises
    ------
    ValueError
        If ``fun`` has no parameter ``argname`` that can be given positionally.
    """
    sig = inspect.signature(fun)
    positional = [p.name for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if argname not in positional:
        raise ValueError(f"grad_named: {_name(fun)} has no parameter {argname!r} that "
                         f"can be passed by position; its positional parameters are "
                         f"{tuple(positional)}")
    gradfun = grad(fun, positional.index(argname))

    @functools.wraps(fun)
    def named(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return gradfun(*bound.args, **bound.kwargs)
    named.__name__ = f"grad_of_{_name(fun)}_wrt_{argname}"
    return named


def multigrad_dict(fun):
    """The gradient with respect to every argument, as ``{name: gradient}``.

    The returned function takes ``fun``'s arguments; the result is an ``OrderedDict``
    with one entry per parameter of ``fun`` in signature order (defaults included; a
    ``*args`` parameter's gradient is a tuple, a ``**kwargs`` one's a dict).
    """
    sig = inspect.signature(fun)

    def gradfun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = OrderedDict(bound.arguments)

        def call(values):
            call_args, call_kwargs = _call_args(sig, values)
            return fun(*call_args, **call_kwargs)

        grads = grad(call)(arguments)
        return OrderedDict((name, grads[name]) for name in arguments)

    gradfun.__name__ = f"multigrad_dict_of_{_name(fun)}"
    return gradfun


def _call_args(sig, values):
    """(args, kwargs) that give each parameter of sig its value in values."""
    args, kwargs = [], {}
    for name, p in sig.parameters.items():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(values[name])
        elif p.kind == p.VAR_POSITIONAL:
            args.extend(values[name])
        elif p.kind == p.KEYWORD_ONLY:
            kwargs[name] = values[name]
        else:
            kwargs.update(values[name])
    return args, kwargs


def checkpoint(fun):
    """``fun`` as one custom op whose backward pass recomputes its forward pass.

    The intermediate values of ``fun`` are not kept for the backward pass (they are
    recomputed from the inputs when the gradient is needed): memory for time, as in
    gradient checkpointing. The result is differentiable in reverse and forward mode,
    at any order.
    """
    from . import extend

    wrapped = extend.primitive(fun)

    def vjp_maker(argnum, ans, args, kwargs):
        return make_vjp(fun, argnum)(*args, **kwargs)[0]

    def jvp_rule(argnum, g, ans, args, kwargs):
        return make_jvp(fun, argnum)(*args, **kwargs)(g)[1]

    extend.defvjp_argnum(wrapped, vjp_maker)
    extend.defjvp_argnum(wrapped, jvp_rule)
    return wrapped
