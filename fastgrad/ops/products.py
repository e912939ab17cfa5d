"""Products: ``einsum``, ``tensordot``, ``dot`` (n-d), ``inner``, ``outer``, ``kron``,
``cross``, ``vdot``, ``linalg.multi_dot``.

Every product here but ``cross`` is an einsum: a multilinear function of its operands.
Its row's forward is numpy's own function; its rules come from one place,
``_multilinear``: the JVP for operand k is the product with the tangent in operand k's
place, and the VJP for operand k is the einsum of the cotangent with the other operands
(``_einsum_adjoint``: autograd's ``grad_einsum``, with repeated indices -- traces,
diagonals -- tied to their copy by an identity, and indices only operand k has summed
against ones). A product's row only says how its operands' axes map to an einsum
(``spec(*shapes, **params) -> (input subscripts, output subscripts)``). ``outer``,
``kron`` and ``vdot`` are composites of rows (each element is one product, or numpy's
own 1-D dot).
"""
import operator
import string

import numpy as np

from .._tensor import define, expose
from .._tensor import dot as _dot

__all__ = []

# numpy's einsum labels, in numpy's order for the sublist form's integers (0-25 'A'-'Z',
# 26-51 'a'-'z'): the implicit output is sorted by label, so the order must be numpy's
_LETTERS = string.ascii_uppercase + string.ascii_lowercase

#: operands per einsum call numpy accepts (NPY_MAXARGS); the rules cover that many
_MAX_OPERANDS = 64


def _shape(x):
    return np.shape(x)


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.result_type(x)


# --------------------------------------------------------------------------------------
# einsum's subscripts: parsed to explicit letters (no ellipsis, an explicit output)
# --------------------------------------------------------------------------------------

def _parse(subscripts, shapes):
    """``(inputs, output)``: the subscripts of each operand and of the result, one letter
    per axis (an ellipsis spelled out with unused letters, broadcast as numpy does; the
    implicit output made explicit: numpy's order)."""
    s = subscripts.replace(" ", "")
    explicit = "->" in s
    ins, out = s.split("->") if explicit else (s, None)
    ins = ins.split(",")
    free = iter([c for c in _LETTERS if c not in s])
    n_ell = max([len(shape) - (len(sub) - 3) for sub, shape in zip(ins, shapes)
                 if "..." in sub] or [0])
    ell = "".join([next(free) for _ in range(n_ell)])
    for i, (sub, shape) in enumerate(zip(ins, shapes)):
        if "..." in sub:
            k = len(shape) - (len(sub) - 3)
            ins[i] = sub.replace("...", ell[n_ell - k:] if k else "")
    if explicit:
        out = out.replace("...", ell)
    else:
        joined = "".join(ins)
        out = ell + "".join(sorted(c for c in set(joined) if c not in ell
                                   and joined.count(c) == 1))
    return ins, out


def _from_sublists(args):
    """numpy's interleaved form ``(op0, sub0, op1, sub1, ..., [out])`` as
    ``(subscripts, operands)`` in the string form (numpy's own labels)."""
    def letters(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
                continue
            i = operator.index(s)
            if not 0 <= i < len(_LETTERS):
                raise ValueError(f"einsum: subscript {i} is not in [0, {len(_LETTERS)})")
            out.append(_LETTERS[i])
        return "".join(out)

    operands = args[0::2]
    if len(args) % 2:
        operands = operands[:-1]
        subs = ",".join(letters(sub) for sub in args[1:-1:2]) + "->" + letters(args[-1])
    else:
        subs = ",".join(letters(sub) for sub in args[1::2])
    return subs, list(operands)


def _einsum_adjoint(ins, out, k, g, operands, optimize=False):
    """Operand k's cotangent of ``einsum(ins -> out)`` given the result's cotangent ``g``:
    the einsum of ``g`` with the other operands onto operand k's subscripts. A repeated
    index of operand k (``"ii"``) gets a letter of its own tied to the first by an
    identity; an index no other subscript has (summed out) is contracted against ones.
    Axes operand k broadcasts (length 1) come out full length; the engine sums them."""
    target = ins[k]
    shape = _shape(operands[k])
    others = [s for i, s in enumerate(ins) if i != k]
    rest = [x for i, x in enumerate(operands) if i != k]
    used = set("".join(ins) + out)
    free = iter([c for c in _LETTERS if c not in used])
    dtype = _dtype(g)
    subs, extra_subs, extra = [], [], []
    for c, n in zip(target, shape):
        if c in subs:
            f = next(free)
            subs.append(f)
            extra_subs.append(c + f)
            extra.append(np.eye(n, dtype=dtype))
        else:
            subs.append(c)
    present = set(out + "".join(others + extra_subs))
    naked = [(c, n) for c, n in zip(subs, shape) if c not in present]
    if naked:
        extra_subs.append("".join(c for c, _ in naked))
        extra.append(np.ones(tuple(n for _, n in naked), dtype=dtype))
    spec = ",".join([out] + others + extra_subs) + "->" + "".join(subs)
    return np.einsum(spec, g, *rest, *extra, optimize=optimize)


def _multilinear(name, fwd, spec, nargs, **fronts):
    """A row for a product multilinear in its operands (``nargs`` rules: its arity, or
    numpy's maximum for a variadic one): ``spec(*operands, **params)`` gives its einsum
    ``(inputs, output)`` subscripts."""
    def vjp(k):
        def rule(g, ans, *args, **params):
            ins, out = spec(*args, **params)
            return _einsum_adjoint(ins, out, k, g, args,
                                   optimize=params.get("optimize", False))
        return rule

    def jvp(k):
        return lambda t, ans, *args, **params: row(*args[:k], t, *args[k + 1:], **params)

    row = define(name, fwd, [vjp(k) for k in range(nargs)], [jvp(k) for k in range(nargs)],
                 **fronts)
    return row


# --------------------------------------------------------------------------------------
# einsum
# --------------------------------------------------------------------------------------

def einsum(*operands, out=None, optimize=False, **kwargs):
    """``numpy.einsum`` on Tensors: the string form (``"ij,jk->ik"``, implicit outputs,
    ``...``, repeated indices) and the sublist form; ``optimize`` as numpy's. ``out`` and
    numpy's ``dtype``/``order``/``casting`` are not supported on Tensors."""
    if out is not None or kwargs:
        raise TypeError("einsum: arguments "
                        f"{sorted(['out'] * (out is not None) + list(kwargs))} are not "
                        "supported on Tensors")
    if not operands:
        raise ValueError("einsum: no subscripts given")
    if isinstance(operands[0], str):
        subscripts, ops = operands[0], list(operands[1:])
    else:
        subscripts, ops = _from_sublists(operands)
    if len(ops) > _MAX_OPERANDS:
        raise ValueError(f"einsum: at most {_MAX_OPERANDS} operands are supported")
    return _einsum(*ops, subscripts=subscripts, optimize=optimize)


def _einsum_fwd(*operands, subscripts, optimize=False):
    return np.einsum(subscripts, *operands, optimize=optimize)


_einsum = _multilinear(
    "einsum", _einsum_fwd,
    lambda *ops, subscripts, optimize=False: _parse(subscripts, [_shape(x) for x in ops]),
    _MAX_OPERANDS, functions=("einsum",), front=einsum)


# --------------------------------------------------------------------------------------
# tensordot, dot, inner
# --------------------------------------------------------------------------------------

def _tensordot_axes(na, nb, axes):
    """numpy's ``axes`` as two lists of non-negative axes (a's, b's)."""
    try:
        n = operator.index(axes)
    except TypeError:
        ia, ib = axes
        ia = [ia] if np.ndim(ia) == 0 else list(ia)
        ib = [ib] if np.ndim(ib) == 0 else list(ib)
        return [operator.index(i) % na for i in ia], [operator.index(i) % nb for i in ib]
    n = max(n, 0)           # numpy: a negative count contracts nothing
    return list(range(na - n, na)), list(range(n))


def _contraction(na, nb, ia, ib):
    """Subscripts contracting a's axes ``ia`` with b's ``ib``: the result has a's other
    axes then b's (numpy's order for tensordot, dot and inner)."""
    a = _LETTERS[:na]
    b = list(_LETTERS[na:na + nb])
    for i, j in zip(ia, ib):
        b[j] = a[i]
    b = "".join(b)
    out = "".join(c for i, c in enumerate(a) if i not in ia) + \
        "".join(c for j, c in enumerate(b) if j not in ib)
    return [a, b], out


def _tensordot_spec(a, b, axes=2):
    na, nb = np.ndim(a), np.ndim(b)
    return _contraction(na, nb, *_tensordot_axes(na, nb, axes))


def tensordot(a, b, axes=2):
    """``numpy.tensordot`` on Tensors (``axes`` an integer or a pair of axis lists)."""
    return _tensordot(a, b, axes=axes)


_tensordot = _multilinear("tensordot", np.tensordot, _tensordot_spec, 2,
                          functions=("tensordot",), front=tensordot)


def _dot_spec(a, b):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return _contraction(na, nb, [], [])
    return _contraction(na, nb, [na - 1], [max(nb - 2, 0)])


# 1-D and 2-D operands (and numbers) take the compiled matrix product:
# fastgrad._tensor.dot is numpy.dot's front, and hands operands of more dimensions to
# this row
_dot_nd = _multilinear("dot", np.dot, _dot_spec, 2, functions=("dot",), front=_dot)


def _inner_spec(a, b):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return _contraction(na, nb, [], [])
    return _contraction(na, nb, [na - 1], [nb - 1])


_inner = _multilinear("inner", np.inner, _inner_spec, 2, functions=("inner",))


def _multi_dot_spec(*arrays):
    """``A @ B @ ... @ Z``: operand i is ``l_i l_{i+1}``; a 1-D first (last) array is a
    row (column) vector, its outer letter dropped from the result."""
    n = len(arrays)
    ins = [_LETTERS[i:i + 2] for i in range(n)]
    out = _LETTERS[0] + _LETTERS[n]
    if np.ndim(arrays[0]) == 1:
        ins[0], out = ins[0][1], out[1:]
    if np.ndim(arrays[-1]) == 1:
        ins[-1], out = ins[-1][0], out[:-1]
    return ins, out


def _multi_dot_fwd(*arrays):
    return np.linalg.multi_dot(arrays)


def multi_dot(arrays, *, out=None):
    """``numpy.linalg.multi_dot`` on Tensors (numpy's evaluation order)."""
    if out is not None:
        raise TypeError("multi_dot: argument 'out' is not supported on Tensors")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) > len(_LETTERS) - 1:
        raise ValueError(f"multi_dot: at most {len(_LETTERS) - 1} arrays are supported")
    return _multi_dot(*arrays)


_multi_dot = _multilinear("multi_dot", _multi_dot_fwd, _multi_dot_spec, _MAX_OPERANDS,
                          functions=("linalg.multi_dot",), front=multi_dot)


# --------------------------------------------------------------------------------------
# outer, kron, vdot: composites; cross: its own row
# --------------------------------------------------------------------------------------

def outer(a, b, out=None):
    """``numpy.outer`` on Tensors: the flattened operands' products (numpy's
    ``ravel(a)[:, None] * ravel(b)[None, :]``)."""
    if out is not None:
        raise TypeError("outer: argument 'out' is not supported on Tensors")
    return np.multiply(np.reshape(a, (-1, 1)), np.reshape(b, (1, -1)))


expose(outer, functions=("outer",))


def kron(a, b):
    """``numpy.kron`` on Tensors: the products of every element of ``a`` with every
    element of ``b`` (an einsum), laid out in blocks (a reshape); the operand with fewer
    dimensions gets leading axes of length 1, as in numpy."""
    sa, sb = _shape(a), _shape(b)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    la, lb = _LETTERS[:n], _LETTERS[n:2 * n]
    spec = f"{la},{lb}->" + "".join(x + y for x, y in zip(la, lb))
    prod = np.einsum(spec, np.reshape(a, sa), np.reshape(b, sb))
    return np.reshape(prod, tuple(x * y for x, y in zip(sa, sb)))


expose(kron, functions=("kron",))


def vdot(a, b):
    """``numpy.vdot`` on Tensors: the dot product of the flattened operands, the first
    conjugated."""
    if np.iscomplexobj(a):
        a = np.conj(a)
    return _dot(np.reshape(a, -1), np.reshape(b, -1))


expose(vdot, functions=("vdot",))


def _cross_axes(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    for x, ax in ((a, axisa), (b, axisb)):
        if _shape(x)[ax] != 3:
            raise NotImplementedError(
                "cross: derivatives are implemented for 3-component vectors only (numpy "
                "deprecates 2-component ones), got an operand of shape "
                f"{_shape(x)} with its vectors along axis {ax}")
    return axisa, axisb, axisc


def _cross_vjp(k):
    def rule(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
        axisa, axisb, axisc = _cross_axes(a, b, axisa, axisb, axisc, axis)
        x, ax = (a, axisa) if k == 0 else (b, axisb)
        # <g, a x b> = <a, b x g> = <b, g x a>: the vectors on the last axis, then the
        # broadcast batch axes summed down to x's before the vector axis goes back
        c = (np.cross(b, g, axisa=axisb, axisb=axisc, axisc=-1) if k == 0 else
             np.cross(g, a, axisa=axisc, axisb=axisa, axisc=-1))
        nd = np.ndim(x)
        while np.ndim(c) > nd:
            c = np.sum(c, axis=0)
        ax = ax % nd
        perm = list(range(nd - 1))
        perm.insert(ax, nd - 1)
        return np.transpose(c, perm)
    return rule


def _cross_jvp(k):
    def rule(t, ans, a, b, **axes):
        _cross_axes(a, b, **axes)
        return _cross(t, b, **axes) if k == 0 else _cross(a, t, **axes)
    return rule


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """``numpy.cross`` on Tensors (its axis arguments; derivatives for 3-vectors)."""
    return _cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


_cross = define("cross", np.cross, [_cross_vjp(0), _cross_vjp(1)],
                [_cross_jvp(0), _cross_jvp(1)], functions=("cross",), front=cross)
