"""Shapes, indexing, joining and splitting, sorting: numpy's functions that move elements.

No row of its own: every function here is a composite of compiled rows (``getitem`` and
its transpose ``untake``, ``reshape``, ``transpose``, ``concatenate``, ``where``,
arithmetic), so it differentiates to any order in both modes.

Most of these functions only *move* elements (``flip roll tile repeat diag diagonal
take sort split pad ...``). One helper serves them all: ``_moved(x, f)`` runs numpy's
own function ``f`` on the *positions* of ``x``'s elements (``1 .. x.size`` in ``x``'s
shape) and takes ``x``'s elements at the positions it returns (one ``getitem``; its
gradient adds repeated positions up). numpy's semantics, argument checks and error
messages come with it; where ``f`` fills in new elements (``pad``'s constants, the zeros
of ``diag`` of a vector) the positions there are ``<= 0`` and name a fill value. The
functions that only change the shape (``ravel atleast_*d``) or permute axes
(``moveaxis rollaxis``) ask numpy for the new shape or permutation on a probe of no
memory (``np.broadcast_to``) and record one ``reshape`` or ``transpose``.
"""
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .._tensor import Tensor, array_of, constant_function, expose

__all__ = ["make_diagonal"]

#: the numpy function names (and Tensor methods) this module exposes: tests check that
#: each has a case in tests/test_ops_shapes.py
EXPOSED: list = []


def _expose(fn, functions=(), methods=()):
    EXPOSED.extend(functions)
    EXPOSED.extend(f"Tensor.{m}" for m in methods)
    return expose(fn, functions=functions, methods=methods)


def _array(x):
    """A list holding Tensors as one Tensor (stacked on the tape); anything else as is."""
    if isinstance(x, (list, tuple)):
        return array_of(x) if _holds_tensor(x) else np.asarray(x)
    return x


def _holds_tensor(seq):
    return any(isinstance(v, Tensor) or isinstance(v, (list, tuple)) and _holds_tensor(v)
               for v in seq)


def _value(x):
    """The plain values under Tensors (for positions, masks and permutations)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_value(v) for v in x)
    return x


def _dtype(x):
    return x.dtype if isinstance(x, Tensor) else np.result_type(x)


def _probe(shape):
    """An array of ``shape`` with no memory: numpy's shape logic runs on it."""
    return np.broadcast_to(np.empty((), dtype=bool), shape)


# ---- moving elements: numpy's function on the positions --------------------------------

def _positions(x):
    shape = np.shape(x)
    return np.arange(1, int(np.prod(shape)) + 1).reshape(shape)


def _take(x, pos, fills=None):
    """``x``'s elements at 1-based positions ``pos``; position ``-j <= 0`` takes
    ``fills[j]`` (an array, number or Tensor)."""
    flat = np.reshape(x, (-1,))
    pos = np.asarray(pos)
    size = flat.shape[0]
    if fills is not None and pos.size and pos.min() <= 0:
        flat = np.concatenate([flat, np.reshape(fills, (-1,))])
        index = np.where(pos > 0, pos - 1, size - pos)
    else:
        index = pos - 1
    if index.ndim == 1:
        return flat[index]
    # a flat index and a reshape: numpy's add.at (the gradient) is fast on 1-d indices
    return np.reshape(flat[index.reshape(-1)], index.shape)


def _front(front, name, how, methods=()):
    """``front`` named and documented as numpy's ``name`` on Tensors, and exposed."""
    front.__name__ = front.__qualname__ = name
    front.__doc__ = f"``numpy.{name}`` on Tensors: {how}."
    return _expose(front, functions=(name,), methods=methods)


def _moved(x, f, *args, fills=None, **kwargs):
    """``f(x, *args, **kwargs)`` for a function ``f`` that moves elements: ``f`` runs on
    the positions of ``x`` (a list or tuple of results: each taken)."""
    x = _array(x)
    if kwargs.get("out") is not None:
        raise TypeError(f"{getattr(f, '__name__', 'function')}: out= is not supported on "
                        "Tensors (a Tensor's data follows from its operands)")
    # the other arguments (indices, shifts, repeats, ...) are constants
    pos = f(_positions(x), *_value(args), **{k: _value(v) for k, v in kwargs.items()})
    if isinstance(pos, (list, tuple)):
        return type(pos)(_take(x, p, fills) for p in pos)
    return _take(x, pos, fills)


def _mover(name, methods=()):
    f = getattr(np, name)

    def front(a, *args, **kwargs):
        return _moved(a, f, *args, **kwargs)

    return _front(front, name, "numpy's own function on the positions of the elements, "
                  "the elements taken (one getitem)", methods)


for _name in ("flip", "flipud", "fliplr", "rot90", "roll", "tile", "resize", "delete",
              "split", "array_split", "hsplit", "vsplit", "dsplit", "unstack"):
    _mover(_name)
for _name in ("repeat", "diagonal"):
    _mover(_name, methods=(_name,))
del _name


def take(a, indices, axis=None, out=None, mode="raise"):
    """``numpy.take`` on Tensors (the indices are constants): numpy's own function on the
    positions of the elements, the elements taken (one getitem)."""
    return _moved(a, np.take, indices, axis, out=out, mode=mode)


_expose(take, functions=("take",), methods=("take",))


def compress(condition, a, axis=None, out=None):
    """``numpy.compress`` on Tensors (the condition is a constant)."""
    return _moved(a, lambda p, **kw: np.compress(_value(condition), p, axis, **kw), out=out)


def extract(condition, arr):
    """``numpy.extract`` on Tensors (the condition is a constant)."""
    return _moved(arr, lambda p: np.extract(_value(condition), p))


def insert(arr, obj, values, axis=None):
    """``numpy.insert`` on Tensors; ``values`` may be Tensors too (numpy places markers
    for them, as it would place the values)."""
    arr, values = _array(arr), _array(values)
    shape = np.shape(values)
    markers = -np.arange(int(np.prod(shape))).reshape(shape)
    if not isinstance(values, Tensor):
        values = np.asarray(values, dtype=_dtype(arr))
    return _moved(arr, np.insert, obj, markers, axis, fills=values)


def meshgrid(*xi, **kwargs):
    """``numpy.meshgrid`` on Tensors: each output takes the elements of its input."""
    xs = [_array(x) for x in xi]
    outs = np.meshgrid(*[_positions(x) for x in xs], **kwargs)
    return type(outs)(_take(x, p) for x, p in zip(xs, outs))


def broadcast_arrays(*args, subok=False):
    """``numpy.broadcast_arrays`` on Tensors: ``broadcast_to`` each."""
    args = [_array(a) for a in args]
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
    return tuple(np.broadcast_to(a, shape) for a in args)


_expose(compress, functions=("compress",))
_expose(lambda a, condition, axis=None, out=None: compress(condition, a, axis, out),
        methods=("compress",))              # ndarray.compress(condition, axis)
_expose(extract, functions=("extract",))
_expose(insert, functions=("insert",))
_expose(meshgrid, functions=("meshgrid",))
_expose(broadcast_arrays, functions=("broadcast_arrays",))


def _zero_fill(name, methods=()):
    f = getattr(np, name)

    def front(a, *args, **kwargs):
        a = _array(a)
        return _moved(a, f, *args, fills=np.zeros(1, _dtype(a)), **kwargs)

    return _front(front, name, "numpy's own function on the positions of the elements, "
                  "the elements taken, zeros elsewhere")


_zero_fill("diag")        # vector -> matrix (zeros off the diagonal), matrix -> vector
_zero_fill("diagflat")


def take_along_axis(arr, indices, axis=-1):
    """``numpy.take_along_axis`` on Tensors (the indices are constants)."""
    return _moved(arr, np.take_along_axis, np.asarray(_value(indices)), axis)


_expose(take_along_axis, functions=("take_along_axis",))


def sort(a, axis=-1, kind=None, order=None, **kwargs):
    """``numpy.sort`` on Tensors: the elements permuted by ``numpy.argsort`` of the
    values, so the gradient flows back through the permutation (autograd's rule, for
    any number of axes)."""
    a = _array(a)
    perm = np.argsort(_value(a), axis=axis, kind=kind, order=order, **kwargs)
    return _permuted(a, perm, axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``numpy.partition`` on Tensors: the elements permuted by ``numpy.argpartition``
    of the values (the gradient flows back through the permutation)."""
    a = _array(a)
    perm = np.argpartition(_value(a), kth, axis=axis, kind=kind, order=order)
    return _permuted(a, perm, axis)


def _permuted(a, perm, axis):
    pos = _positions(a)
    if axis is None:                    # numpy sorts the flattened array
        return _take(a, pos.reshape(-1)[perm])
    return _take(a, np.take_along_axis(pos, perm, axis=axis))


_expose(sort, functions=("sort",))
_expose(partition, functions=("partition",))


_PAD_COPIES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """``numpy.pad`` on Tensors, for the modes that copy elements (``constant`` (whose
    ``constant_values`` may be Tensors too), ``edge``, ``reflect``, ``symmetric``,
    ``wrap``, with ``reflect_type="even"``); other modes raise ``NotImplementedError``."""
    array = _array(array)
    if mode == "constant":
        values = _array(kwargs.pop("constant_values", 0))
        if kwargs:
            raise ValueError(f"unsupported keyword arguments for mode 'constant': "
                             f"{set(kwargs)}")
        # the markers -j <= 0 stand for constant j; np.pad broadcasts them as it would
        # broadcast the constants
        shape = np.shape(values)
        markers = -np.arange(int(np.prod(shape))).reshape(shape)
        if not isinstance(values, Tensor):
            values = np.asarray(_value(values), dtype=_dtype(array))
        return _moved(array, np.pad, pad_width, mode="constant", constant_values=markers,
                      fills=values)
    if mode in _PAD_COPIES and kwargs.get("reflect_type", "even") == "even":
        return _moved(array, np.pad, pad_width, mode=mode, **kwargs)
    raise NotImplementedError(
        f"pad: mode {mode!r}" + (f" with {kwargs}" if kwargs else "") + " is not "
        "differentiated by fastgrad; the modes it differentiates: 'constant', "
        + ", ".join(repr(m) for m in _PAD_COPIES) + " (reflect_type='even')")


_expose(pad, functions=("pad",))


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """autograd's ``make_diagonal``: the array whose ``np.diagonal(A, offset, axis1,
    axis2)`` is ``D`` (its last axis on the diagonal), zeros elsewhere; the inverse of
    ``np.diagonal``. Plain arrays in, a plain array out."""
    D = _array(D)
    shape = np.shape(D)
    if len(shape) == 0:
        raise ValueError("make_diagonal: D must have at least one axis")
    n = shape[-1]
    m = n + abs(offset)
    nd = len(shape) + 1
    axis1 = normalize_axis_index(axis1, nd, "axis1")
    axis2 = normalize_axis_index(axis2, nd, "axis2")
    if axis1 == axis2:
        raise ValueError("make_diagonal: axis1 and axis2 cannot be the same")

    def positions(p):
        out = np.zeros(shape[:-1] + (m, m), dtype=p.dtype)
        i = np.arange(n)
        out[..., i + max(-offset, 0), i + max(offset, 0)] = p
        return np.moveaxis(out, (-2, -1), (axis1, axis2))

    return _moved(D, positions, fills=np.zeros(1, _dtype(D)))


# ---- masks ----------------------------------------------------------------------------

def _masked(name):
    f = getattr(np, name)

    def front(m, k=0):
        m = _array(m)
        keep = f(np.ones(np.shape(m), dtype=bool), k)   # numpy's shape rules and checks
        return np.where(keep, m, 0.0)

    return _front(front, name, "``where(mask, m, 0)``")


_masked("tril")
_masked("triu")


def select(condlist, choicelist, default=0):
    """``numpy.select`` on Tensors: ``where`` from the last condition to the first."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conds = [np.asarray(_value(c)) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype.type is not np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    out = _array(default)
    for cond, choice in zip(conds[::-1], list(choicelist)[::-1]):
        out = np.where(cond, _array(choice), out)
    return out


_expose(select, functions=("select",))


# ---- the shape only: one reshape ------------------------------------------------------

def _reshaped(name):
    f = getattr(np, name)

    def one(a):
        a = _array(a)
        return np.reshape(a, f(_probe(np.shape(a))).shape)

    def front(*arys):
        out = tuple(one(a) for a in arys)
        return out[0] if len(out) == 1 else out

    return _front(front, name, "one reshape each")


_reshaped("atleast_1d")
_reshaped("atleast_2d")
_reshaped("atleast_3d")


def ravel(a, order="C"):
    """``numpy.ravel`` on Tensors (order ``"C"`` or ``"F"``)."""
    a = _array(a)
    if order == "F":
        a = np.transpose(a)
    elif order != "C":
        raise NotImplementedError(f"ravel: order {order!r} on Tensors (it depends on the "
                                  "memory layout); use 'C' or 'F'")
    return np.reshape(a, (-1,))


_expose(ravel, functions=("ravel",), methods=("ravel",))
_expose(ravel, methods=("flatten",))


# ---- permuting axes: one transpose ----------------------------------------------------

def _permuter(name):
    f = getattr(np, name)

    def front(a, *args, **kwargs):
        a = _array(a)
        nd = np.ndim(a)
        # a probe of shape (1, 2, ..., nd): the permuted shape names the permutation
        moved = f(_probe(tuple(range(1, nd + 1))), *args, **kwargs)
        return np.transpose(a, tuple(d - 1 for d in moved.shape))

    return _front(front, name, "one transpose")


_permuter("moveaxis")
_permuter("rollaxis")
_permuter("matrix_transpose")


# ---- joining --------------------------------------------------------------------------

def _no_dtype(name, dtype=None, casting="same_kind"):
    if dtype is not None or casting != "same_kind":
        raise TypeError(f"{name}: dtype and casting are not supported on Tensors")


def vstack(tup, *, dtype=None, casting="same_kind"):
    """``numpy.vstack`` on Tensors: ``atleast_2d`` each, joined along axis 0."""
    _no_dtype("vstack", dtype, casting)
    return np.concatenate([np.atleast_2d(_array(a)) for a in tup], axis=0)


def hstack(tup, *, dtype=None, casting="same_kind"):
    """``numpy.hstack`` on Tensors: ``atleast_1d`` each, joined along axis 1 (0 for
    vectors)."""
    _no_dtype("hstack", dtype, casting)
    arrs = [np.atleast_1d(_array(a)) for a in tup]
    return np.concatenate(arrs, axis=0 if arrs and np.ndim(arrs[0]) == 1 else 1)


def dstack(tup):
    """``numpy.dstack`` on Tensors: ``atleast_3d`` each, joined along axis 2."""
    return np.concatenate([np.atleast_3d(_array(a)) for a in tup], axis=2)


def column_stack(tup):
    """``numpy.column_stack`` on Tensors: vectors become columns, joined along axis 1."""
    arrs = []
    for a in tup:
        a = _array(a)
        if np.ndim(a) < 2:
            a = np.reshape(a, (-1, 1))
        arrs.append(a)
    return np.concatenate(arrs, axis=1)


def append(arr, values, axis=None):
    """``numpy.append`` on Tensors: ``values`` joined after ``arr`` (both flattened when
    ``axis`` is None)."""
    arr, values = _array(arr), _array(values)
    if axis is None:
        if np.ndim(arr) != 1:
            arr = np.reshape(arr, (-1,))
        values = np.reshape(values, (-1,))
        axis = np.ndim(arr) - 1
    return np.concatenate([arr, values], axis=axis)


_expose(vstack, functions=("vstack", "row_stack"))
_expose(hstack, functions=("hstack",))
_expose(dstack, functions=("dstack",))
_expose(column_stack, functions=("column_stack",))
_expose(append, functions=("append",))


# ---- differences and ranges ------------------------------------------------------------

_NOTHING = object()


def diff(a, n=1, axis=-1, prepend=_NOTHING, append=_NOTHING):
    """``numpy.diff`` on Tensors, as numpy computes it (subtractions of slices);
    ``prepend``/``append`` may be Tensors."""
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    a = _array(a)
    nd = np.ndim(a)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, nd)
    parts = []
    for extra in (prepend, a, append):
        if extra is _NOTHING:
            continue
        extra = _array(extra)
        if extra is not a and np.ndim(extra) == 0:
            shape = list(np.shape(a))
            shape[axis] = 1
            extra = np.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = np.concatenate(parts, axis)
    upper = [slice(None)] * nd
    lower = [slice(None)] * nd
    upper[axis] = slice(1, None)
    lower[axis] = slice(None, -1)
    for _ in range(n):
        a = a[tuple(upper)] - a[tuple(lower)]
    return a


_expose(diff, functions=("diff",))


def gradient(f, *varargs, axis=None, edge_order=1):
    """``numpy.gradient`` on Tensors (spacings are constants), computed as numpy computes
    it: central differences inside, one-sided ones at the edges, joined along each
    axis. A tuple for several axes, as numpy."""
    f = _array(f)
    N = np.ndim(f)
    shape = np.shape(f)
    axes = tuple(range(N)) if axis is None else normalize_axis_tuple(axis, N)
    if any(isinstance(v, Tensor) and v.requires_grad for v in varargs):
        raise TypeError("gradient: spacings that require grad are not differentiated; "
                        "pass them as arrays or numbers")
    varargs = [_value(v) for v in varargs]
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    # numpy's spacing checks, and its spacings (a number per axis, or the differences
    # of the coordinates), from numpy itself on a probe of f's shape per axis
    dx = []
    for i, ax in enumerate(axes):
        if len(varargs) == 0:
            dx.append(1.0)
            continue
        if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
            dx.append(varargs[0])
            continue
        if len(varargs) != len(axes):
            raise TypeError("invalid number of arguments")
        d = np.asanyarray(varargs[i])
        if d.ndim == 0:
            dx.append(varargs[i])
            continue
        if d.ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(d) != shape[ax]:
            raise ValueError("when 1d, distances must match "
                             "the length of the corresponding dimension")
        if np.issubdtype(d.dtype, np.integer):
            d = d.astype(np.float64)
        diffx = np.diff(d)
        dx.append(diffx[0] if (diffx == diffx[0]).all() else diffx)
    out = []
    for ax, ax_dx in zip(axes, dx):
        if shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def at(sl, _ax=ax):
            index = [slice(None)] * N
            index[_ax] = sl
            return f[tuple(index)]

        def one(k):                     # element k along the axis, the axis kept
            return at(slice(k, k + 1) if k != -1 else slice(-1, None))

        if np.ndim(ax_dx) == 0:
            inner = (at(slice(2, None)) - at(slice(None, -2))) / (2. * ax_dx)
        else:
            dx1, dx2 = ax_dx[0:-1], ax_dx[1:]
            bshape = [1] * N
            bshape[ax] = -1
            a = (-(dx2) / (dx1 * (dx1 + dx2))).reshape(bshape)
            b = ((dx2 - dx1) / (dx1 * dx2)).reshape(bshape)
            c = (dx1 / (dx2 * (dx1 + dx2))).reshape(bshape)
            inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
        uniform = np.ndim(ax_dx) == 0
        if edge_order == 1:
            first = (one(1) - one(0)) / (ax_dx if uniform else ax_dx[0])
            last = (one(-1) - one(-2)) / (ax_dx if uniform else ax_dx[-1])
        else:
            if uniform:
                a, b, c = -1.5 / ax_dx, 2. / ax_dx, -0.5 / ax_dx
            else:
                dx1, dx2 = ax_dx[0], ax_dx[1]
                a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = - dx1 / (dx2 * (dx1 + dx2))
            first = a * one(0) + b * one(1) + c * one(2)
            if uniform:
                a, b, c = 0.5 / ax_dx, -2. / ax_dx, 1.5 / ax_dx
            else:
                dx1, dx2 = ax_dx[-2], ax_dx[-1]
                a = (dx2) / (dx1 * (dx1 + dx2))
                b = - (dx2 + dx1) / (dx1 * dx2)
                c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
            last = a * one(-3) + b * one(-2) + c * one(-1)
        out.append(np.concatenate([first, inner, last], axis=ax))
    return out[0] if len(axes) == 1 else tuple(out)


_expose(gradient, functions=("gradient",))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
             **kwargs):
    """``numpy.linspace`` on Tensors: differentiable in ``start`` and ``stop``, computed
    as numpy computes it (the same numbers). An integer ``dtype`` gives a constant."""
    if kwargs.get("device", None) not in (None, "cpu") or set(kwargs) - {"device"}:
        raise TypeError(f"linspace: arguments {kwargs} are not supported on Tensors")
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    sv, tv = _value(start), _value(stop)
    dt = np.result_type(np.linspace(sv, tv, 0).dtype)      # numpy's result type
    if dtype is not None and np.dtype(dtype) != dt:
        if np.issubdtype(dtype, np.integer):
            return np.linspace(sv, tv, num, endpoint, retstep, dtype, axis, **kwargs)
        raise NotImplementedError(f"linspace: dtype {np.dtype(dtype)} differs from the "
                                  f"inputs' {dt} on Tensors; cast the inputs instead")
    # numbers and arrays in the result's dtype (numpy's arithmetic runs in it)
    start, stop = [_array(v) if isinstance(_array(v), Tensor) else np.asarray(v, dtype=dt)
                   for v in (start, stop)]
    div = (num - 1) if endpoint else num
    delta = stop - start
    y = np.arange(0, num, dtype=dt).reshape((-1,) + (1,) * np.ndim(delta))
    if div > 0:
        step = delta / div
        if np.any(_value(step) == 0):               # denormal steps, as numpy
            y = (y / div) * delta
        else:
            y = y * step
    else:
        step = np.nan
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = np.broadcast_to(stop, np.shape(y)[1:])
        y = np.concatenate([y[:-1], np.reshape(last, (1,) + np.shape(last))], axis=0)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    return (y, step) if retstep else y


_expose(linspace, functions=("linspace",))


def full(shape, fill_value, dtype=None, order="C", **kwargs):
    """``numpy.full`` with a Tensor ``fill_value``: it broadcast to ``shape`` (the
    gradient sums over the copies, as autograd's). An integer ``dtype`` gives a
    constant."""
    fill = _array(fill_value)
    if dtype is not None and np.dtype(dtype) != _dtype(fill):
        if np.dtype(dtype).kind in "biu":
            return np.full(shape, _value(fill_value), dtype, order, **kwargs)
        raise NotImplementedError(f"full: dtype {np.dtype(dtype)} differs from the fill "
                                  f"value's {_dtype(fill)} on Tensors; cast it instead")
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (operator.index(shape),)
    return np.broadcast_to(fill, shape)


_expose(full, functions=("full",))


# ---- constants ----------------------------------------------------------------------------

#: the functions whose results are constants (no gradient flows through them)
CONSTANTS = ("full_like", "zeros_like", "ones_like", "empty_like")
for _name in CONSTANTS:
    _expose(constant_function(getattr(np, _name)), functions=(_name,))
del _name
