"""``make_vjp`` and ``make_jvp``: the two differentiations every other tool is built on.

``make_vjp(fun, x)`` runs ``fun`` once on ``x`` with every array or number in it
replaced by a Tensor of a fresh reverse-mode level, and returns a function that sweeps
that recording back from any cotangent: reverse mode. ``make_jvp(fun, x)`` returns a
function that runs ``fun`` on Tensors of a fresh forward-mode level carrying tangents,
so the output comes with its tangent: forward mode, with a JVP rule per primitive (not
a double reverse pass). ``fastgrad.functional`` (``grad``, ``jacobian``, ``hessian``,
...) is a layer of thin wrappers over these two, as autograd's is.

Levels
------
Each call opens its own level (``fastgrad._tensor`` explains levels), so the two nest
in any order and to any depth: ``make_vjp`` inside the function given to ``make_jvp`` is
forward-over-reverse (Hessian-vector products), ``make_vjp`` inside ``make_vjp`` gives
second derivatives, and a closure over an outer variable is a constant to the inner
differentiation (no perturbation confusion). A ``vjp`` or ``jvp`` called while an outer
differentiation is running records its own work on the outer level, so every
derivative can be differentiated again.

Type rule
---------
``x`` is a float, an int, a numpy scalar, an ndarray, a Tensor of an enclosing
differentiation, or nested lists/tuples/dicts (namedtuples included) of those.
Floating and complex arrays keep their dtype; ints, bools and Python reals are
promoted to float64 (Python complex numbers to complex128); object data raise
``TypeError`` naming where in the structure they are. Cotangents come back in ``x``'s
structure: floats (complex for a complex number) for Python numbers, arrays of the
input's dtype otherwise (Tensors when an enclosing differentiation is recording them).
Complex values follow autograd's convention (``fastgrad._tensor``, "Complex numbers"):
a real input's cotangent is real, and ``vjp(g)`` takes a complex ``g`` for a complex
output.

A function whose output does not depend on ``x`` (it went through ``float()`` or
``.item()``, or is a constant) gets ``UserWarning("Output seems independent of
input.")``, as in autograd, and zero derivatives.

autograd's other ``core`` names
-------------------------------
``vspace(x)`` and the ``VSpace`` classes: the vector space of a value (arrays, floats,
complex numbers, lists/tuples/dicts of them), written with differentiable operations.
``primitive``: ``fastgrad.extend.primitive`` with autograd's deprecated ``defvjp``/
``defgrad``/``defvjp_is_zero`` methods. ``primitive_vjps``: a read-only view of the
registry's VJPs, keyed by the functions that apply a row.
"""
import math
import numbers
import warnings
from collections.abc import Mapping

import numpy as np

from . import _tensor
from ._tensor import Tensor

_box, _box_arrays, _unbox = _tensor.box, _tensor.box_arrays, _tensor.unbox
_reverse, _level_of = _tensor.reverse, _tensor.level_of

__all__ = ["make_vjp", "make_jvp", "vspace", "VSpace", "primitive", "primitive_vjps"]

_INDEPENDENT = "Output seems independent of input."

#: the recorders of the ``fastgrad.misc.const_graph`` traces in progress (innermost
#: last): a ``fastgrad.extend`` primitive or a ``fastgrad.functional`` operator called
#: with a value being traced is recorded as one operation instead of applied
_GRAPH_RECORDERS: list = []


class _Unsupported(TypeError):
    """Raised while wrapping; collects the keys leading to the offending item."""

    def __init__(self, what, who="make_vjp"):
        super().__init__(what)
        self.what = what
        self.who = who
        self.path = []

    def __str__(self):
        where = "the argument" + "".join(f"[{k!r}]" for k in self.path)
        return f"{self.who}: cannot differentiate with respect to {where}: {self.what}"


def _float_value(x):
    """(value, was_number) for one item of x: a floating ndarray, or an outer Tensor."""
    if isinstance(x, Tensor):
        if _tensor.level_of(x) >= 0:
            return x, False
        x = x.data
    if not isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        # a type may say why it cannot be differentiated (const_graph's traced values)
        raise _Unsupported(getattr(type(x), "_not_differentiable", None) or
                           f"a {type(x).__name__}; give floats, arrays, or "
                           "lists/tuples/dicts of them")
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind in "iub":
        arr = arr.astype(np.float64)
    elif kind != "f" and kind != "c":
        raise _Unsupported(f"data of dtype {arr.dtype}; give numbers or a numeric array")
    return arr, isinstance(x, numbers.Number)


def _items(x):
    """The keys of a container, or None for a leaf item."""
    if isinstance(x, dict):
        return list(x.keys())
    if isinstance(x, (list, tuple)):
        return range(len(x))
    return None


def _rebuild(template, items):
    kind = type(template)
    if isinstance(template, dict):
        return kind(zip(template.keys(), items))
    return kind(*items) if hasattr(template, "_fields") else kind(items)


def _wrap(x, level, leaves, v, who):
    """x's structure with every item a Tensor of ``level``; with ``v`` (same structure),
    forward-mode Tensors carrying v's items as tangents."""
    if v is _NO:
        # the common cases, quickly: a floating ndarray, or a list of them (what the
        # general path below does for these, without its checks)
        kind = type(x)
        if kind is np.ndarray and x.dtype.kind == "f":
            t = _box(x, level)
            leaves.append((t, False, x))
            return t
        if kind is list:
            items = []
            for k, item in enumerate(x):
                if type(item) is np.ndarray and item.dtype.kind == "f":
                    t = _box(item, level)
                    leaves.append((t, False, item))
                    items.append(t)
                    continue
                try:
                    items.append(_wrap(item, level, leaves, v, who))
                except _Unsupported as exc:
                    exc.path.insert(0, k)
                    raise
            return items
    keys = _items(x)
    if keys is not None:
        if v is not _NO and (_items(v) is None or list(_items(v)) != list(keys)):
            raise _Unsupported(f"the tangent ({type(v).__name__}) does not have the "
                               f"structure of the argument ({type(x).__name__} of "
                               f"{len(keys)} item(s))", who)
        items = []
        for k in keys:
            try:
                items.append(_wrap(x[k], level, leaves, _NO if v is _NO else v[k], who))
            except _Unsupported as exc:
                exc.path.insert(0, k)
                raise
        return _rebuild(x, items)
    try:
        value, was_number = _float_value(x)
    except _Unsupported as exc:
        exc.who = who
        raise
    tangent = None
    if v is not _NO:
        tangent = _tangent_value(v, value, who)
    t = _tensor.box(value, level, tangent)
    leaves.append((t, was_number, value))
    return t


_NO = object()          # no tangent structure given (reverse mode)
_ARRAY = {np.ndarray}


def _tangent_value(v, value, who):
    dtype = _tensor.value_of(value).dtype
    if isinstance(v, Tensor) and _tensor.level_of(v) >= 0:
        t = v
    else:
        try:
            t, _ = _float_value(v)
        except _Unsupported as exc:
            exc.who = who
            exc.what = "the tangent: " + exc.what
            raise
        t = t.astype(dtype, copy=False)
    if np.shape(_tensor.value_of(t)) != np.shape(_tensor.value_of(value)):
        raise _Unsupported(f"the tangent has shape {np.shape(_tensor.value_of(t))}, the "
                           f"argument {np.shape(_tensor.value_of(value))}", who)
    return t


def _unwrap(x, leaves, values):
    """x's structure (as wrapped) with its i-th leaf Tensor replaced by values[i]."""
    it = iter(values)

    def walk(item):
        keys = _items(item)
        if keys is None:
            return next(it)
        return _rebuild(item, [walk(item[k]) for k in keys])
    return walk(x)


def _result(c, was_number, value):
    """A cotangent or tangent as handed back: an outer Tensor, a float, or an array of
    the input's float dtype."""
    dtype = _tensor.value_of(value).dtype
    if c is None:
        c = np.zeros(np.shape(_tensor.value_of(value)), dtype)
    elif isinstance(c, Tensor):
        if _tensor.level_of(c) >= 0:
            return c
        c = c.data
    c = np.asarray(c)
    if c.dtype != dtype:
        c = (c.real if c.dtype.kind == "c" and dtype.kind != "c" else c).astype(dtype)
    if was_number:
        return complex(c) if dtype.kind == "c" else float(c)
    return c


class _BadOutput(TypeError):
    """fun returned something that is not an array, a number or a Tensor (``out``)."""

    def __init__(self, message, out):
        super().__init__(message)
        self.out = out


def _plain(out, level, who):
    """fun's output with this level's box removed: (value, True when it depends on x)."""
    if isinstance(out, (list, tuple, dict)) or not isinstance(
            out, (Tensor, np.ndarray, np.generic, numbers.Number)):
        raise _BadOutput(f"{who}: the function must return an array, a number or a "
                        f"Tensor, it returned a {type(out).__name__}", out)
    value, dependent = _tensor.unbox(out, level)
    if isinstance(value, Tensor) and _tensor.level_of(value) < 0:
        value = value.data
    return value, dependent


def _scalar_or_array(value):
    # a 0-d array comes back as a numpy scalar (np.float64 is a float), as autograd's
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


def _make_vjp(fun, x, who="make_vjp"):
    level = _tensor.new_level()
    boxed = _box_arrays(x, level) if type(x) is list else None
    if boxed is not None:       # a list of floating ndarrays, the common case, quickly
        leaves = None
        tensors, values, flat = boxed, list(x), True
    else:
        leaves = []
        boxed = _wrap(x, level, leaves, _NO, who)
        tensors = [t for t, _, _ in leaves]
        values = [v for _, _, v in leaves]
        # a list of ndarrays: no leaf was a number, no structure to rebuild
        flat = type(x) is list and len(leaves) == len(x) and set(map(type, x)) == _ARRAY
    single = type(x) is np.ndarray
    out = fun(boxed)
    if type(out) is Tensor:                             # the common case, quickly
        value, dependent = _unbox(out, level)
        if type(value) is Tensor and _level_of(value) < 0:
            value = value.data
    else:
        value, dependent = _plain(out, level, who)
    if not dependent:
        warnings.warn(_INDEPENDENT, UserWarning, stacklevel=3)
    if type(value) is np.ndarray:
        shape, dtype = value.shape, value.dtype
    else:
        shape = np.shape(_tensor.value_of(value))
        dtype = np.asarray(_tensor.value_of(value)).dtype
    if dtype.kind != "f" and dtype.kind != "c":
        dtype = np.dtype(np.float64)

    def vjp(g):
        if type(g) is float:                            # the common case, quickly
            seed = np.array(g, dtype)
            gshape = ()
        elif isinstance(g, Tensor) and _level_of(g) >= 0:
            seed = g
            gshape = g.shape
        else:
            seed = np.asarray(g.data if isinstance(g, Tensor) else g)
            if seed.dtype.kind not in ("fiubc" if dtype.kind == "c" else "fiub"):
                raise TypeError(f"{who}: vjp(g): g must be real numbers (the output is "
                                f"real), got dtype {seed.dtype}")
            seed = seed.astype(dtype, copy=False)
            gshape = seed.shape
        if gshape != shape:
            raise ValueError(f"{who}: vjp(g): g of shape {gshape} does not match the "
                             f"output's shape {shape}")
        if dependent:
            grads = _reverse(out, seed, tensors)
        else:
            grads = [None] * len(tensors)
        if flat:
            return [c if type(c) is np.ndarray and c.dtype == v.dtype
                    else _result(c, False, v) for c, v in zip(grads, values)]
        results = [_result(c, n, v) for c, (_, n, v) in zip(grads, leaves)]
        if single:
            return results[0]
        return _unwrap(x, leaves, results)

    return vjp, _scalar_or_array(value)


def make_vjp(fun, x):
    """Reverse mode: run ``fun(x)`` once and return its vector-Jacobian product.

    Parameters
    ----------
    fun : callable
        A function of one argument returning an array or a number (any shape).
    x : float, int, numpy scalar, ndarray, Tensor, or nested lists/tuples/dicts of them
        The point. A Tensor of an enclosing differentiation is differentiated through.

    Returns
    -------
    vjp : callable
        ``vjp(g)``, with ``g`` shaped like ``ans``, returns ``g`` times the Jacobian of
        ``fun`` at ``x``: the cotangent in ``x``'s structure. It may be called many
        times; called inside an enclosing differentiation, it is recorded there.
    ans : ndarray, float or Tensor
        ``fun(x)`` with this differentiation's Tensors removed.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.core import make_vjp
    >>> vjp, ans = make_vjp(lambda x: np.sin(x) * 2.0, np.array([0.0, 1.0]))
    >>> vjp(np.ones(2))
    array([2.        , 1.08060461])
    """
    return _make_vjp(fun, x, "make_vjp")


def _make_jvp(fun, x, who="make_jvp"):
    def jvp(v):
        level = _tensor.new_level()
        leaves = []
        boxed = _wrap(x, level, leaves, v, who)
        out = fun(boxed)
        value, dependent = _plain(out, level, who)
        if dependent:
            tangent = _tensor.tangent_of(out)
        else:
            warnings.warn(_INDEPENDENT, UserWarning, stacklevel=2)
            v0 = _tensor.value_of(value)
            dtype = np.asarray(v0).dtype
            tangent = np.zeros(np.shape(v0), dtype if dtype.kind in "fc" else np.float64)
        return _scalar_or_array(value), _scalar_or_array(tangent)
    return jvp


def make_jvp(fun, x):
    """Forward mode: the Jacobian-vector product of ``fun`` at ``x``.

    Parameters
    ----------
    fun : callable
        A function of one argument returning an array or a number (any shape).
    x : float, int, numpy scalar, ndarray, Tensor, or nested lists/tuples/dicts of them
        The point (the same type rule as ``make_vjp``).

    Returns
    -------
    jvp : callable
        ``jvp(v)``, with ``v`` shaped and structured like ``x``, runs ``fun`` once with
        tangents and returns ``(ans, tangent)``: ``fun(x)`` and the Jacobian times
        ``v``, shaped like ``ans``.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.core import make_jvp
    >>> make_jvp(lambda x: x ** 3, 2.0)(1.0)
    (np.float64(8.0), np.float64(12.0))
    """
    return _make_jvp(fun, x, "make_jvp")


# --------------------------------------------------------------------------------------
# Vector spaces: autograd's vspace(x)
# --------------------------------------------------------------------------------------

class VSpace:
    """The vector space a value lives in (autograd's ``VSpace``): ``vspace(x)``.

    Two spaces are equal when they are of one class with equal attributes (for arrays:
    shape and dtype; for containers: the structure and the spaces of the items).
    ``add``, ``scalar_mul``, ``inner_prod``, ``covector`` and ``flatten`` are written
    with operators and numpy functions, so on Tensors they are recorded and can be
    differentiated (to any order), as autograd's primitives of the same names.

    A new kind of value gets a space with ``SomeSpace.register(value_type)`` (or
    ``VSpace.register(value_type, maker)``), as in autograd.
    """

    #: value type -> the function making its space (``register``)
    mappings: dict = {}
    iscomplex = False

    def __init__(self, value):
        pass

    def _abstract(self, what):
        raise NotImplementedError(f"{type(self).__name__} does not define {what}")

    @property
    def size(self):
        """The dimension over the reals (a complex number counts two)."""
        self._abstract("size")

    def zeros(self):
        """The zero vector."""
        self._abstract("zeros")

    def ones(self):
        """The vector with every real component 1 (``1 + 1j`` for complex ones)."""
        self._abstract("ones")

    def randn(self):
        """A vector with independent standard normal components (numpy's global RNG)."""
        self._abstract("randn")

    def standard_basis(self):
        """Yields the unit vectors, one per real dimension (``size`` of them)."""
        self._abstract("standard_basis")

    def add(self, x, y):
        return self._add(x, y)

    def scalar_mul(self, x, a):
        return self._scalar_mul(x, a)

    def inner_prod(self, x, y):
        """The real inner product ``<x, y>`` (``Re(conj(x) . y)`` for complex spaces)."""
        return self._inner_prod(x, y)

    def covector(self, x):
        """The dual vector of ``x`` (its complex conjugate; ``x`` in a real space)."""
        return self._covector(x)

    def flatten(self, x, covector=False):
        """``x`` as one real 1-D vector: ``inner_prod(x, y)`` is
        ``flatten(x) . flatten(y)`` (complex parts as (real, imaginary) pairs of blocks;
        ``covector=True`` flattens ``x`` as a covector, its imaginary parts negated)."""
        self._abstract("flatten")

    def _add(self, x, y):
        return x + y

    def _scalar_mul(self, x, a):
        return x * a

    def _inner_prod(self, x, y):
        self._abstract("inner_prod")

    def _covector(self, x):
        return x

    def __eq__(self, other):
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None     # type: ignore[assignment]  # mutable attributes: unhashable

    def __repr__(self):
        return f"{type(self).__name__}_{self.__dict__}"

    @classmethod
    def register(cls, value_type, vspace_maker=None):
        """``vspace`` of a ``value_type`` value is ``vspace_maker(value)`` (default: this
        class)."""
        VSpace.mappings[value_type] = vspace_maker or cls


def _ravel(x):
    return np.reshape(x, (-1,))     # numpy's dispatch records it for a Tensor


class ArrayVSpace(VSpace):
    """Real arrays and floats of one shape and dtype (a float: shape ``()``)."""

    def __init__(self, value):
        value = np.asarray(value)
        self.shape = value.shape
        self.dtype = value.dtype

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def zeros(self):
        return np.zeros(self.shape, dtype=self.dtype)

    def ones(self):
        return np.ones(self.shape, dtype=self.dtype)

    def standard_basis(self):
        for index in np.ndindex(*self.shape):
            unit = np.zeros(self.shape, dtype=self.dtype)
            unit[index] = 1
            yield unit

    def randn(self):
        return np.asarray(np.random.randn(*self.shape)).astype(self.dtype)

    def _inner_prod(self, x, y):
        return np.sum(x * y)

    def flatten(self, x, covector=False):
        return _ravel(x)


class ComplexArrayVSpace(ArrayVSpace):
    """Complex arrays and numbers: a space over the reals of twice the dimension."""

    iscomplex = True

    @property
    def size(self):
        return 2 * math.prod(self.shape)

    def ones(self):
        return np.ones(self.shape, dtype=self.dtype) * (1 + 1j)

    def standard_basis(self):
        for index in np.ndindex(*self.shape):
            for unit_value in (1.0, 1.0j):
                unit = np.zeros(self.shape, dtype=self.dtype)
                unit[index] = unit_value
                yield unit

    def randn(self):
        real = np.asarray(np.random.randn(*self.shape)).astype(self.dtype)
        imag = np.asarray(np.random.randn(*self.shape)).astype(self.dtype)
        return real + 1j * imag

    def _inner_prod(self, x, y):
        return np.real(np.sum(np.conj(x) * y))

    def _covector(self, x):
        return np.conj(x)

    def flatten(self, x, covector=False):
        imag = -np.imag(x) if covector else np.imag(x)
        return np.concatenate([_ravel(np.real(x)), _ravel(imag)])


class ContainerVSpace(VSpace):
    """A list, tuple or dict of values: the direct sum of the items' spaces.

    ``shape`` is the container of the items' spaces. The operations map over the
    items and ``inner_prod`` sums theirs.
    """

    def __init__(self, value):
        self.shape = self._map_over(value, vspace)

    @property
    def size(self):
        return sum(vs.size for vs in self._spaces())

    def zeros(self):
        return self._map(lambda vs: vs.zeros())

    def ones(self):
        return self._map(lambda vs: vs.ones())

    def randn(self):
        return self._map(lambda vs: vs.randn())

    def standard_basis(self):
        for key, vs in self._items(self.shape):
            for unit in vs.standard_basis():
                vector = self.zeros()
                yield self._replace(vector, key, unit)

    def _add(self, xs, ys):
        return self._map(lambda vs, x, y: vs.add(x, y), xs, ys)

    def _scalar_mul(self, xs, a):
        return self._map(lambda vs, x: vs.scalar_mul(x, a), xs)

    def _inner_prod(self, xs, ys):
        total = 0.0
        for part in self._values(self._map(lambda vs, x, y: vs.inner_prod(x, y), xs, ys)):
            total = total + part
        return total

    def _covector(self, xs):
        return self._map(lambda vs, x: vs.covector(x), xs)

    def flatten(self, xs, covector=False):
        parts = list(self._values(self._map(lambda vs, x: vs.flatten(x, covector), xs)))
        return np.concatenate(parts) if parts else np.zeros(0)

    def _spaces(self):
        return self._values(self.shape)

    def _map(self, f, *args):
        return self._map_over(self.shape, f, *args)


class SequenceVSpace(ContainerVSpace):
    """A list or tuple (``seq_type``) of values."""

    def __init__(self, value):
        self.seq_type = type(value)
        super().__init__(value)

    def _values(self, x):
        return x

    def _items(self, x):
        return enumerate(x)

    def _map_over(self, template, f, *args):
        return self._build(map(f, template, *args))

    def _build(self, items):
        return self.seq_type(items)

    def _replace(self, xs, index, x):
        items = list(xs)
        items[index] = x
        return self._build(items)


class NamedTupleVSpace(SequenceVSpace):
    """A namedtuple of values."""

    def _build(self, items):
        return self.seq_type(*items)


class DictVSpace(ContainerVSpace):
    """A dict of values (in its key order)."""

    def _values(self, x):
        return x.values()

    def _items(self, x):
        return x.items()

    def _map_over(self, template, f, *args):
        return {k: f(item, *[x[k] for x in args]) for k, item in template.items()}

    def _replace(self, xs, key, x):
        xs = dict(xs)
        xs[key] = x
        return xs


VSpace.register(np.ndarray, lambda x: ComplexArrayVSpace(x) if np.iscomplexobj(x)
                else ArrayVSpace(x))
for _real in (float, np.longdouble, np.float64, np.float32, np.float16):
    ArrayVSpace.register(_real)
for _complex in (complex, np.clongdouble, np.complex64, np.complex128):
    ComplexArrayVSpace.register(_complex)
SequenceVSpace.register(list)
SequenceVSpace.register(tuple)
DictVSpace.register(dict)
del _real, _complex


def vspace(value):
    """The vector space of ``value`` (autograd's ``vspace``).

    Parameters
    ----------
    value : ndarray, float, complex, numpy floating or complex scalar, Tensor, or
        lists/tuples (namedtuples included)/dicts of them, nested
        A Tensor's space is that of its value (an ndarray; a 0-d one for a number).

    Returns
    -------
    VSpace
        ``ArrayVSpace`` (real arrays and floats: ``shape``, ``dtype``),
        ``ComplexArrayVSpace``, or a ``SequenceVSpace``/``NamedTupleVSpace``/
        ``DictVSpace`` whose ``shape`` holds the items' spaces. It has ``zeros()``,
        ``ones()``, ``randn()``, ``standard_basis()``, ``size``, ``add``,
        ``scalar_mul``, ``inner_prod``, ``covector`` and ``flatten``.

    Raises
    ------
    TypeError
        For a value with no vector space: ints and bools (as in autograd: give floats),
        strings, None, other objects (also as an item of a container); the message
        names the type.

    Examples
    --------
    >>> import numpy as np
    >>> from fastgrad.core import vspace
    >>> vs = vspace([1.0, np.zeros((2, 3))])
    >>> vs.size
    7
    >>> float(vs.inner_prod(vs.ones(), vs.ones()))
    7.0
    """
    maker = VSpace.mappings.get(type(value))
    if maker is not None:
        return maker(value)
    if isinstance(value, Tensor):
        return vspace(_tensor.value_of(value))
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return NamedTupleVSpace(value)
    raise TypeError(f"vspace: no vector space for a value of type {type(value).__name__} "
                    f"({_short(value)}); vector spaces are defined for floats, complex "
                    "numbers, ndarrays, Tensors and lists/tuples/dicts of them")


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------
# autograd.core's primitive (with its deprecated methods) and primitive_vjps
# --------------------------------------------------------------------------------------

_DEPRECATED = ("{}: the {} method is deprecated (as in autograd); use "
               "fastgrad.extend.defvjp(fun, vjpmaker, ...) instead")


def primitive(f_raw):
    """``fastgrad.extend.primitive``, with autograd's deprecated methods (as
    ``autograd.core.primitive`` has them).

    The wrapped function also has, each warning ``DeprecationWarning``:

    * ``defvjp(vjpfun, argnum=0)``: ``vjpfun(g, ans, vs, gvs, *args, **kwargs)`` is the
      cotangent of argument ``argnum`` (``vs``, ``gvs``: the spaces of that argument and
      of ``g``);
    * ``defgrad(gradmaker, argnum=0)``: ``gradmaker(ans, *args, **kwargs)`` returns
      ``g -> cotangent`` (today's ``defvjp`` form);
    * ``defvjp_is_zero(argnums=(0,))``: those arguments get zero cotangents.

    Rules given so accumulate, one per argument, as in autograd.
    """
    from . import extend
    f_wrapped = extend.primitive(f_raw)
    makers = {}
    name = getattr(f_raw, "__name__", "primitive")

    def define(method, argnum, maker):
        warnings.warn(_DEPRECATED.format(name, method), DeprecationWarning, stacklevel=3)
        if isinstance(argnum, bool) or not isinstance(argnum, numbers.Integral) or argnum < 0:
            raise TypeError(f"{name}.{method}: argnum must be an int >= 0, got {argnum!r}")
        makers[int(argnum)] = maker
        argnums = sorted(makers)
        extend.defvjp(f_wrapped, *[makers[k] for k in argnums], argnums=argnums)

    def defvjp(vjpfun, argnum=0):
        def maker(ans, *args, **kwargs):
            return lambda g: vjpfun(g, ans, vspace(args[argnum]), vspace(g), *args, **kwargs)
        define("defvjp", argnum, maker)

    def defgrad(gradmaker, argnum=0):
        define("defgrad", argnum, gradmaker)

    def defvjp_is_zero(argnums=(0,)):
        for argnum in argnums:
            define("defvjp_is_zero", argnum,
                   lambda ans, *args, _k=argnum, **kwargs:
                   lambda g: vspace(args[_k]).zeros())

    f_wrapped.defvjp = defvjp
    f_wrapped.defgrad = defgrad
    f_wrapped.defvjp_is_zero = defvjp_is_zero
    return f_wrapped


class _PrimitiveVJPs(Mapping):
    """autograd's ``primitive_vjps`` as a read-only view of fastgrad's registry.

    Keys: the functions that apply one registry row and have a VJP rule: the
    ``fastgrad.numpy`` functions of the built-in rows (``fastgrad.numpy.sin``, ...) and
    the live ``fastgrad.extend.primitive`` functions once ``defvjp`` gave them rules.
    Composite functions (``fastgrad.numpy.dot``, built from rows) are not keys.

    A value is the VJP maker in autograd's form, ``vjpmaker(argnums, ans, args, kwargs)``
    returning ``g -> tuple`` of the cotangents of ``args[argnums[i]]``; it runs the row's
    own VJP rules (through ``make_vjp``, which applies the function once more: ``ans``
    is not read).

    The view is read-only: fastgrad's built-in rules are compiled, and a user's are set
    with ``fastgrad.extend.defvjp``. Assignment and deletion raise ``TypeError``;
    ``pop(key, default)`` of a key that is not there returns ``default``, as a dict's.
    """

    def _rows(self):
        from . import extend, numpy as fnp
        rows = {}
        for p in _tensor.PRIMITIVES:
            if not any(p.has_vjp):
                continue
            for dotted in p.fronts["function"] + p.fronts["ufunc"]:
                space = fnp
                for part in dotted.split("."):
                    space = getattr(space, part, None)
                if space is not None:
                    rows[space] = p
        for f in list(extend._USER_PRIMITIVES):
            if f._fastgrad_primitive.has_vjp:
                rows[f] = f._fastgrad_primitive
        return rows

    def _has(self, fun):
        row = getattr(fun, "_fastgrad_primitive", None)
        if row is not None:
            return bool(row.has_vjp)
        try:
            return fun in self._rows()
        except TypeError:               # an unhashable key
            return False

    def __getitem__(self, fun):
        if not self._has(fun):
            raise KeyError(fun)
        return _vjp_maker(fun)

    def __contains__(self, fun):
        return self._has(fun)

    def __iter__(self):
        return iter(self._rows())

    def __len__(self):
        return len(self._rows())

    def _read_only(self, *args, **kwargs):
        raise TypeError("primitive_vjps is a read-only view of fastgrad's registry: "
                        "define a primitive's VJPs with fastgrad.extend.defvjp")

    __setitem__ = __delitem__ = popitem = clear = update = setdefault = _read_only

    def pop(self, fun, *default):
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        if fun in self:
            self._read_only()
        if default:
            return default[0]
        raise KeyError(fun)

    def __repr__(self):
        return f"<primitive_vjps: a read-only view of {len(self)} fastgrad primitives>"


def _vjp_maker(fun):
    """``vjpmaker(argnums, ans, args, kwargs) -> (g -> tuple of cotangents)`` for fun."""
    def vjpmaker(argnums, ans, args, kwargs):
        argnums = tuple(argnums)

        def of_operands(operands):
            full = list(args)
            for k, operand in zip(argnums, operands):
                full[k] = operand
            return fun(*full, **kwargs)

        vjp, _ = _make_vjp(of_operands, [args[k] for k in argnums], "primitive_vjps")
        return lambda g: tuple(vjp(g))
    vjpmaker.__name__ = f"vjpmaker_of_{getattr(fun, '__name__', 'primitive')}"
    return vjpmaker


#: autograd's dict of VJP makers keyed by primitive: a read-only view of the registry
primitive_vjps = _PrimitiveVJPs()
