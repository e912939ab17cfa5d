"""autograd's ``misc``: ``flatten``, ``flatten_func`` and ``const_graph``.

``flatten(value)`` returns ``(vector, unflatten)``: the leaves of a nested structure of
lists, tuples and dicts (numbers and arrays) raveled and concatenated into one 1-D
array, and the function that turns such a vector back into the structure. Both
directions are differentiable: flattening a structure of Tensors gives a Tensor, and
``unflatten`` of a Tensor gives Tensors, so optimisers written for one parameter vector
work on nested parameters.

``const_graph(fun)`` runs ``fun`` once, recording the operations its arguments go
through, and from then on evaluates that recording instead of running ``fun``'s Python
code (autograd's ``const_graph``, for functions whose graph does not change).
"""
import functools
import numbers
import operator

import numpy as np

from ._tensor import Tensor
from .core import _GRAPH_RECORDERS
from .functional import _flatten

__all__ = ["flatten", "flatten_func", "const_graph"]


def flatten(value):
    """``(vector, unflatten)`` for a nested structure of numbers and arrays.

    Parameters
    ----------
    value : number, ndarray, Tensor, or nested lists/tuples/dicts of them
        Dicts are taken in their key order.

    Returns
    -------
    vector : ndarray or Tensor
        Every leaf raveled, concatenated in structure order (1-D; empty for no leaves).
    unflatten : callable
        ``unflatten(vector)`` rebuilds the structure: each leaf in its shape and, for
        plain values, its floating dtype (a numpy scalar for a 0-d leaf).
    """
    return _flatten(value)


def flatten_func(func, example):
    """``func`` of a nested structure as a function of one flat vector.

    Returns
    -------
    flat_func : callable
        ``flat_func(vector, *args, **kwargs) = func(unflatten(vector), *args, **kwargs)``.
    unflatten : callable
    flat_example : ndarray
        ``example`` flattened.
    """
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kwargs):
        return func(unflatten(vector), *args, **kwargs)
    return flat_func, unflatten, flat_example


# --------------------------------------------------------------------------------------
# const_graph
# --------------------------------------------------------------------------------------

def const_graph(fun, *args, **kwargs):
    """``fun`` with its graph recorded on the first call and replayed after that.

    The first call runs ``fun(*args, *call_args, **kwargs)`` with every number and
    array of ``call_args`` (nested lists/tuples/dicts too) replaced by a traced value
    that records each operation applied to it: Python operators, indexing and methods,
    numpy ufuncs and functions (``fastgrad.numpy``'s included) and
    ``fastgrad.extend.primitive`` functions. Later calls evaluate only the recorded
    operations the output depends on, at the new arguments, without running ``fun``'s
    Python code; they can be differentiated (``grad`` of the returned function) since
    each operation is applied again to the new values. ``args`` and ``kwargs`` are
    fixed, and are constants of the graph, as in autograd.

    The graph is assumed constant: control flow that depends on an argument's value
    raises while tracing (``bool()``, ``float()`` of a traced value); shapes are those
    of the first call; closed-over values are those of the first call.

    Returns
    -------
    callable
        ``wrapped(*call_args)``, returning what ``fun`` returns.

    Raises
    ------
    TypeError
        While tracing, when a traced value is converted to a plain value (``float()``,
        ``bool()``, ``np.asarray``, an operation with a Tensor, differentiation inside
        ``fun``), or meets a Tensor or another trace's value (it would be frozen into
        the graph); at a later call, for arguments not of the traced structure.
    ValueError
        If the output does not depend on the call's arguments.

    Examples
    --------
    >>> import fastgrad.numpy as np
    >>> from fastgrad.misc import const_graph
    >>> calls = []
    >>> def f(x, y):
    ...     calls.append(1)
    ...     return np.sin(x) * y + 2.0
    >>> g = const_graph(f)
    >>> float(g(0.5, 3.0)), float(g(0.0, 1.0)), len(calls)
    (3.438276615812609, 2.0, 1)
    """
    bound = functools.partial(fun, *args, **kwargs)
    state = {}

    @functools.wraps(fun)
    def wrapped(*call_args):
        leaves, tree = _leaves_of(call_args)
        graph = state.get("graph")
        if graph is None:
            graph, out = _Graph.trace(bound, call_args, leaves)
            state["graph"], state["tree"] = graph, tree
            return out
        if tree != state["tree"]:
            raise TypeError(f"const_graph({_name(fun)}): called with arguments "
                            f"{_describe_args(tree)}, but the graph was traced with "
                            f"{_describe_args(state['tree'])}")
        return graph.replay(leaves)
    return wrapped


def _name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _leaves_of(x):
    """(leaves, tree): x's numbers/arrays/Tensors in order, and its hashable structure."""
    leaves = []

    def walk(item):
        if isinstance(item, (list, tuple)):
            kind = type(item)
            return (kind, tuple(walk(i) for i in item))
        if isinstance(item, dict):
            return (dict, tuple(item.keys()), tuple(walk(i) for i in item.values()))
        if isinstance(item, _Traced) or not isinstance(
                item, (numbers.Number, np.ndarray, np.generic, Tensor)) or isinstance(
                item, bool):
            raise TypeError(f"const_graph: an argument is a {type(item).__name__}; give "
                            "floats, arrays, Tensors or lists/tuples/dicts of them")
        leaves.append(item)
        return None
    return leaves, walk(x)


def _describe_args(tree):
    return "(" + ", ".join(_describe(t) for t in tree[1]) + ")"


def _describe(tree):
    if tree is None:
        return "a value"
    if tree[0] is dict:
        return "{" + ", ".join(f"{k!r}: {_describe(t)}" for k, t in zip(tree[1], tree[2])) + "}"
    inner = ", ".join(_describe(t) for t in tree[1])
    return f"[{inner}]" if tree[0] is list else f"{tree[0].__name__}({inner})"


def _rebuild(x, leaf):
    """x with every leaf (a number/array/Tensor) replaced by leaf(item), in order."""
    if isinstance(x, (list, tuple)):
        items = [_rebuild(i, leaf) for i in x]
        return type(x)(*items) if hasattr(type(x), "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: _rebuild(v, leaf) for k, v in x.items()}
    return leaf(x)


class _Slot:
    """In a recorded call: the value of node ``index`` of the graph."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _map_structure(x, f):
    """x with f applied to each item that is not a list, tuple or dict (deeply)."""
    if type(x) is list or type(x) is tuple:
        return type(x)(_map_structure(i, f) for i in x)
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return type(x)(*[_map_structure(i, f) for i in x])
    if type(x) is dict:
        return {k: _map_structure(v, f) for k, v in x.items()}
    return f(x)


class _Graph:
    """The operations recorded from a traced call: nodes ``(fun, args, kwargs)`` whose
    arguments hold ``_Slot`` s where a traced value was; values 0..n-1 are the inputs."""

    def __init__(self, n_inputs):
        self.n_inputs = n_inputs
        self.nodes = []             # (fun, args, kwargs, the slots it reads)
        self.output = None          # the output's structure, with _Slots
        self.steps = None           # after tracing: the nodes the output needs, in order
        self.tracing = True
        self.applying = []          # the recorded operations being applied (nested)

    @classmethod
    def trace(cls, bound, call_args, leaves):
        graph = cls(len(leaves))
        it = iter([_Traced(graph, i, v) for i, v in enumerate(leaves)])
        traced_args = _rebuild(call_args, lambda _: next(it))
        _GRAPH_RECORDERS.append(graph.record_call)
        try:
            out = bound(*traced_args)
        finally:
            _GRAPH_RECORDERS.remove(graph.record_call)
            graph.tracing = False
        reads = set()
        graph.output = graph._slots_of(out, reads, "the output")
        if not reads:
            raise ValueError(f"const_graph: the output of {_name(bound.func)} does not "
                             "depend on its arguments")
        graph.steps = graph._needed(reads)
        return graph, _map_structure(out, lambda v: v._value if isinstance(v, _Traced)
                                     else v)

    def _slots_of(self, x, reads, what):
        def slot(item):
            if isinstance(item, _Traced):
                if item._graph is not self:
                    raise TypeError("const_graph: a value traced by another const_graph "
                                    f"reached {what}; it would be frozen into this graph")
                reads.add(item._index)
                return _Slot(item._index)
            if isinstance(item, Tensor):
                raise TypeError(f"const_graph: a Tensor reached {what} of a traced "
                                "operation; its value would be frozen into the graph "
                                "(pass it as an argument instead)")
            return item
        return _map_structure(x, slot)

    def record_call(self, fun, args, kwargs):
        """Record ``fun(*args, **kwargs)`` if an argument is traced by this graph (else
        NotImplemented); returns the result, traced."""
        if not self.tracing:
            return NotImplemented
        reads = set()
        slot_args = self._slots_of(args, reads, "an argument")
        slot_kwargs = self._slots_of(kwargs, reads, "an argument")
        if not reads:
            return NotImplemented
        if self.applying:
            raise TypeError(f"const_graph: a traced value reached {self.applying[-1]} "
                            "other than through its arguments (a closure over a traced "
                            "value?); it would be frozen into the graph: pass it as an "
                            "argument")
        self.applying.append(getattr(fun, "__name__", repr(fun)))
        try:
            value = fun(*_map_structure(args, _plain), **_map_structure(kwargs, _plain))
        finally:
            self.applying.pop()
        if value is NotImplemented:
            return NotImplemented
        self.nodes.append((fun, slot_args, slot_kwargs, reads))
        return _Traced(self, self.n_inputs + len(self.nodes) - 1, value)

    def _needed(self, reads):
        needed = set(reads)
        for index in range(self.n_inputs + len(self.nodes) - 1, self.n_inputs - 1, -1):
            if index in needed:
                needed |= self.nodes[index - self.n_inputs][3]
        return [(i, self.nodes[i - self.n_inputs][:3]) for i in sorted(needed)
                if i >= self.n_inputs]

    def replay(self, leaves):
        values = dict(enumerate(leaves))

        def fill(item):
            return values[item.index] if isinstance(item, _Slot) else item
        for index, (fun, args, kwargs) in self.steps:
            values[index] = fun(*_map_structure(args, fill), **_map_structure(kwargs, fill))
        return _map_structure(self.output, fill)


def _plain(item):
    return item._value if isinstance(item, _Traced) else item


class _Method:
    """``_Method(name)(obj, *args, **kwargs)`` calls ``obj.name(*args, **kwargs)``."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, obj, *args, **kwargs):
        return getattr(obj, self.name)(*args, **kwargs)

    def __repr__(self):
        return f"<method {self.name}>"


class _Traced:
    """A value being traced by ``const_graph``: operations on it are recorded."""
    __slots__ = ("_graph", "_index", "_value")
    _not_differentiable = ("a value being traced by fastgrad.misc.const_graph "
                           "(differentiating inside a const_graph function is not "
                           "supported; differentiate the function const_graph returns)")

    def __init__(self, graph, index, value):
        self._graph = graph
        self._index = index
        self._value = value

    def _record(self, fun, *args, **kwargs):
        out = self._graph.record_call(fun, args, kwargs)
        if out is NotImplemented:
            raise TypeError(f"const_graph: {getattr(fun, '__name__', fun)} of a traced "
                            "value after the trace ended")
        return out

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            raise TypeError(f"const_graph: {ufunc.__name__}(..., out=...) of a traced "
                            "value cannot be recorded")
        fun = ufunc if method == "__call__" else getattr(ufunc, method)
        return self._record(fun, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return self._record(func, *args, **kwargs)

    def _refuse(self, what):
        raise TypeError(f"const_graph: {what} of a traced value: the cached graph cannot "
                        "record it (it would freeze the first call's value); keep "
                        "the computation in numpy operations")

    def __array__(self, *args, **kwargs):
        self._refuse("conversion to a plain array (np.asarray, np.array, or an operation "
                     "with a Tensor)")

    def __bool__(self):
        self._refuse("bool() (control flow on a value)")

    def __float__(self):
        self._refuse("float()")

    def __int__(self):
        self._refuse("int()")

    def __index__(self):
        self._refuse("use as an index")

    def __complex__(self):
        self._refuse("complex()")

    def __iter__(self):
        self._refuse("iteration")

    def __len__(self):
        return len(self._value)

    @property
    def shape(self):
        return np.shape(self._value)

    @property
    def ndim(self):
        return np.ndim(self._value)

    @property
    def size(self):
        return np.size(self._value)

    @property
    def dtype(self):
        return np.asarray(self._value).dtype if not isinstance(self._value, Tensor) \
            else self._value.dtype

    def __getitem__(self, index):
        return self._record(operator.getitem, self, index)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._value, name)
        if callable(attr):
            method = _Method(name)
            return lambda *args, **kwargs: self._record(method, self, *args, **kwargs)
        return self._record(operator.attrgetter(name), self)

    def __repr__(self):
        return f"<value traced by const_graph: {self._value!r}>"


def _binary(fun, reflected):
    if reflected:
        return lambda self, other: self._record(fun, other, self)
    return lambda self, other: self._record(fun, self, other)


for _name_, _fun in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                     ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                     ("mod", operator.mod), ("pow", operator.pow),
                     ("matmul", operator.matmul)]:
    setattr(_Traced, f"__{_name_}__", _binary(_fun, False))
    setattr(_Traced, f"__r{_name_}__", _binary(_fun, True))
for _name_, _fun in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                     ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)]:
    setattr(_Traced, f"__{_name_}__", _binary(_fun, False))
for _name_, _fun in [("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs)]:
    setattr(_Traced, f"__{_name_}__", lambda self, _f=_fun: self._record(_f, self))
del _name_, _fun
