# cython: wraparound=True, boundscheck=True
# (Python-level code throughout: the numpy calls dominate, so indexing keeps its checks.)
"""The compiled tensor engine: the primitive registry, levels, the sweeps, ``Tensor``.

The registry
------------
Every differentiable operation is one ``Primitive``: one row, registered by one
``_row(...)`` call in this file, holding

* ``name``: numpy's name for the function (fastgrad's own where numpy has none:
  ``relu``, ``linear``, ``mse_loss``, ...) and ``op``, what ``Tensor.op`` shows (the
  operator symbol for ``+ - * / ** @``, ``"neg"`` for unary minus, else the name);
* the forward: argument checks and numpy only, on plain values (never on Tensors);
* a VJP rule and a JVP rule per operand (``rule(g, ans, args, params, k)``);
* ``saves``: which operands' values the VJP reads (the rest are not kept alive);
* ``fronts``: the names it is reachable by, per front end (Tensor methods, numpy ufuncs
  dispatched by ``__array_ufunc__``, functions of this module, of ``fastgrad.numpy`` and
  of numpy's ``__array_function__``). The dispatch tables are generated from them.

Adding an op: write its forward and rules, add one ``_row(...)`` line (with its
``fronts``), write the Tensor method by hand if it has one (a cdef class cannot get
methods generated, so ``tests/test_registry.py`` fails when a listed one is missing),
add its entry to ``CALLS`` in ``tests/test_registry.py`` (which checks every front end
reaches the row) and a gradient case to ``CASES`` in ``tests/test_tensor_ops.py``
(which ``tests/test_core.py`` runs to second order in both modes). The dispatch tables
at the end of this file and ``fastgrad.numpy`` are generated from the rows.

Levels
------
Every differentiation is a trace with a level: 0 is the eager tape (``Tensor(x,
requires_grad=True)`` and ``backward()``); every ``make_vjp``/``make_jvp`` (``fastgrad.core``)
opens a fresh, higher one. A Tensor belongs to one level, and the value inside a
level-L Tensor (``_data``) is an ndarray or a Tensor of a lower (outer) level. Applying
a primitive (``_bind``) finds the highest level among the operands, unboxes the operands
of that level, applies itself to the unboxed values (so the outer levels record too)
and boxes the result at that level: a reverse-mode level records a node (the
primitive, the operands, the values its VJP reads); a forward-mode level computes the
result's tangent with the JVP rules. An operand of a lower level is a constant to a
higher one, which is why a nested ``grad`` closing over an outer variable is right.

With no level open and no operand requiring a gradient, ``_bind`` runs the forward on
ndarrays and stops; with only the eager tape, it records one node: the first-order
path does the same work as before the levels existed.

The rules are written with differentiable operations: numpy functions and operators,
which run plain numpy on ndarrays and dispatch to the registry on Tensors. A reverse
sweep whose cotangents or saved values are Tensors of an outer level therefore records
on that level (derivatives of any order); ``backward(create_graph=True)`` hands the
rules the recorded Tensors themselves, so the eager sweep records on the tape.
Broadcasting is undone in one place (``_unbroadcast``, after a VJP) and done in one
place (``_broadcast_to_shape``, after the JVPs).

The reverse sweep
-----------------
``_sweep`` gathers the nodes of one level reachable from the root with an explicit
stack (a depth-first post-order, never recursion), which gives a reverse topological
order, and for each node and each operand it differentiates calls that operand's VJP,
undoes broadcasting and accumulates. Leaves accumulate into ``.grad`` across calls (as
in PyTorch); interior nodes hold the adjoint of the latest sweep.

Memory
------
A recorded Tensor references its operands and the values its VJP reads, never its
consumers, so graphs have no reference cycles and CPython frees a graph as soon as its
last Tensor is dropped: a training loop runs in flat memory with no reset call, and
``grad(f)`` leaves nothing behind when it returns. Tensors are therefore left out of the
cyclic garbage collector, whose passes would otherwise grow with every live object.

Numerics
--------
tanh's derivative is ``1 - tanh(x)**2`` (never ``1 / cosh(x)**2``, which overflows for
|x| > 710); sigmoid is computed without overflow for either sign; log_softmax and
cross-entropy subtract the row maximum first. float32 stays float32: every rule uses
the operands' own dtype and Python scalars, which numpy treats as weak. Integer and
boolean operands are promoted to float64 (a Tensor always holds floating or complex data).

Complex numbers
---------------
complex64/complex128 Tensors follow autograd's conventions. A rule is written for a
holomorphic function without conjugation (the VJP of ``sin`` is ``g * cos(x)`` for
complex ``x`` too), so the VJP of a primitive with complex Jacobian ``J`` maps ``g`` to
``J^T g``; where a real operand receives a complex cotangent (``x * 1j``), it keeps the
real part, and a real tangent of a complex result is made complex (``_in_space``, in
``_accumulate`` and ``_push_tangent``). ``grad`` of a real-valued function of ``z`` is
then ``df/dx - i df/dy`` (for ``|z|**2``, ``2 * conj(z)``) and ``holomorphic_grad`` gives
``f'(z)``. The non-holomorphic rows say so in their rules: ``abs`` (``g * conj(x)/|x|``),
``real``, ``imag``, ``conj``, ``angle`` (``fastgrad/ops/complex.py``).
"""

cimport cython

import numpy as np

cdef object ndarray = np.ndarray
cdef object _asarray = np.asarray
cdef object _empty = np.empty
# ufunc methods called directly: ndarray.sum/mean/max go through Python-level wrappers
cdef object _add_reduce = np.add.reduce
cdef object _max_reduce = np.maximum.reduce
cdef object _min_reduce = np.minimum.reduce
cdef object _np_subtract = np.subtract
cdef object _np_multiply = np.multiply

# --------------------------------------------------------------------------------------
# Gradient mode (per thread)
# --------------------------------------------------------------------------------------

cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define FG_THREAD_LOCAL __declspec(thread)
    #else
    #define FG_THREAD_LOCAL __thread
    #endif
    static FG_THREAD_LOCAL int fg_grad_enabled = 1;
    """
    int fg_grad_enabled


def is_grad_enabled():
    """True unless inside ``no_grad()`` (per thread)."""
    return bool(fg_grad_enabled)


def set_grad_enabled(bint mode):
    """Turn recording on or off for this thread; returns the previous setting."""
    global fg_grad_enabled
    cdef bint previous = fg_grad_enabled
    fg_grad_enabled = mode
    return previous


class no_grad:
    """Context manager (and decorator) that turns off recording in this thread.

    Inside it, operations on Tensors compute values only: results are leaves that do
    not require gradients and nothing is kept for a backward pass, on the eager tape
    and on every level of ``make_vjp``/``make_jvp`` (their boxes are unwrapped).
    """

    def __enter__(self):
        self._previous = set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------

cdef bint _holds_tensor(object seq):
    for x in seq:
        if type(x) is Tensor:
            return True
        if (type(x) is list or type(x) is tuple) and _holds_tensor(x):
            return True
    return False


cdef Py_ssize_t _next_serial = 0
cdef unsigned long _next_epoch = 0
cdef int _next_level = 0


cdef object _float_array(object data, str where):
    """``data`` as a floating or complex ndarray: floats and complex numbers kept, ints and
    bools to float64, others refused."""
    cdef object arr = data if type(data) is ndarray else _asarray(data)
    cdef str kind = arr.dtype.kind
    if kind == "f" or kind == "c":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    raise TypeError(f"{where}: cannot make a Tensor from {type(data).__name__} data of "
                    f"dtype {arr.dtype}; give numbers or a numeric array")


cdef inline object _const(object x):
    """The plain value under every level of boxes (an ndarray or a number)."""
    while type(x) is Tensor:
        x = (<Tensor>x)._data
    return x


cdef inline tuple _shape_of(object x):
    if type(x) is ndarray:          # the common case, inlined where it is called
        return (<object>x).shape
    return _shape_of_boxed(x)


cdef tuple _shape_of_boxed(object x):
    x = _const(x)
    if type(x) is ndarray:
        return (<object>x).shape
    if (type(x) is list or type(x) is tuple) and len(x) and _holds_tensor(x):
        return (len(x),) + _shape_of(x[0])      # an array of Tensors (array_of)
    return np.shape(x)


cdef inline str _shape(object x):
    return str(_shape_of(x))


cdef inline object _operand(object x, str where):
    """The value behind a non-Tensor operand of a built-in primitive (a Python number,
    complex ones included, stays a number: numpy treats it as weak)."""
    if type(x) is float or type(x) is int or type(x) is ndarray and x.dtype.kind in "fiub":
        return x
    if isinstance(x, (int, float, complex)):
        return x
    if isinstance(x, ndarray) and x.dtype.kind in "fiubc":
        return x
    return _float_array(x, where)


cdef inline Tensor _leaf(object data):
    # a result that is not recorded (no operand requires a gradient, or no_grad)
    global _next_serial
    cdef Tensor t = Tensor.__new__(Tensor)
    if type(data) is not ndarray:
        data = _asarray(data)
    t._data = data
    t._serial = _next_serial
    _next_serial += 1
    return t


cdef inline bint _on(object a, int level):
    """True for a Tensor of ``level`` that is being differentiated."""
    return (type(a) is Tensor and (<Tensor>a)._requires_grad
            and (<Tensor>a)._level == level)


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------

@cython.final
cdef class Primitive:
    """One row of the registry: a differentiable operation (see the module docstring).

    Built-in rows are made in this module; ``fastgrad.extend.primitive`` makes rows
    for user functions. Calling a row applies it: ``fastgrad._tensor.REGISTRY["tanh"](x)``.
    """

    def __call__(self, *args, **kwargs):
        if not (self.user or self.python):
            raise TypeError(f"call the built-in primitive {self.name!r} through its "
                            "function or method (fastgrad.numpy, Tensor methods)")
        out = _bind(self, args, kwargs or None)
        if type(out) is not Tensor and any([type(a) is Tensor for a in args]):
            return _leaf(out)           # Tensors in, a Tensor out (the eager API)
        return out

    def __repr__(self):
        return f"<fastgrad primitive {self.name}>"

    @property
    def has_vjp(self):
        """Per operand (the first three for a variadic row): whether a VJP is defined."""
        if self.user:
            return self.pyvjp is not None
        if self.python:
            return tuple([r is not None for r in self.pyvjp])
        return tuple([self.cvjp[k] != NULL for k in range(3)])

    @property
    def has_jvp(self):
        """Per operand (the first three for a variadic row): whether a JVP is defined."""
        if self.user:
            return self.pyjvp is not None
        if self.python:
            return tuple([r is not None for r in self.pyjvp])
        return tuple([self.cjvp[k] != NULL for k in range(3)])


#: name -> Primitive: the built-in rows (``fastgrad.extend`` makes rows of its own,
#: kept by the functions it wraps, so a user's name never shadows a built-in one)
REGISTRY = {}
#: The built-in rows, in registration order.
PRIMITIVES = []

cdef unsigned int ALL = 0xffffffff


cdef Primitive _row(str name, str op, int nargs, unsigned int saves, fwd_t fwd, object ufunc,
                    rule_t v0, rule_t v1, rule_t v2, rule_t j0, rule_t j1, rule_t j2,
                    dict fronts):
    cdef Primitive p = Primitive.__new__(Primitive)
    p.name = name
    p.op = op
    p.nargs = nargs
    p.saves = saves
    p.cfwd = fwd
    p.ufunc = ufunc
    p.cvjp[0] = v0
    p.cvjp[1] = v1
    p.cvjp[2] = v2
    p.cjvp[0] = j0
    p.cjvp[1] = j1
    p.cjvp[2] = j2
    p.fronts = fronts
    REGISTRY[name] = p
    PRIMITIVES.append(p)
    return p


def _user_primitive(fun):
    """A new row for the Python function ``fun`` (``fastgrad.extend.primitive``)."""
    cdef Primitive p = Primitive.__new__(Primitive)
    p.name = getattr(fun, "__name__", type(fun).__name__)
    p.op = p.name
    p.nargs = -1
    p.saves = ALL
    p.user = True
    p.pyfwd = fun
    p.fronts = {}
    return p


def _set_user_rules(Primitive p, vjp=None, jvp=None):
    """Set a user row's VJP maker ``(argnum, ans, args, kwargs) -> (g -> cotangent)`` and
    JVP ``(argnum, t, ans, args, kwargs) -> tangent`` (None leaves one unchanged)."""
    if not p.user:
        raise TypeError(f"the rules of the built-in primitive {p.name!r} cannot be changed")
    if vjp is not None:
        p.pyvjp = vjp
    if jvp is not None:
        p.pyjvp = jvp


def _user_function(Primitive p):
    return p.pyfwd


# --------------------------------------------------------------------------------------
# Applying a primitive: levels
# --------------------------------------------------------------------------------------

cdef tuple _values(Primitive p, tuple args):
    """The operands' values for the forward: Tensors (of no level) unwrapped, numbers and
    arrays checked."""
    cdef Py_ssize_t n = len(args), k
    cdef object a
    cdef str name = p.name
    if p.user or p.python:
        return tuple([_const(a) for a in args])
    if n == 2:
        a = args[0]
        b = args[1]
        return ((<Tensor>a)._data if type(a) is Tensor else _operand(a, name),
                (<Tensor>b)._data if type(b) is Tensor else _operand(b, name))
    if n == 1:
        a = args[0]
        return ((<Tensor>a)._data if type(a) is Tensor else _operand(a, name),)
    return tuple([(<Tensor>a)._data if type(a) is Tensor else
                  (None if a is None else _operand(a, name)) for a in args])


cdef object _forward(Primitive p, tuple vals, object params):
    if p.cfwd != NULL:
        return p.cfwd(p, vals, params)
    out = p.pyfwd(*vals, **(params or {}))
    if isinstance(out, (Tensor, list, tuple, dict)) or not isinstance(
            out, (ndarray, np.generic, int, float, complex, bool)):
        raise TypeError(f"primitive {p.name}: the function must return an array or a "
                        f"number, it returned {type(out).__name__}")
    return out


cdef object _bind(Primitive p, tuple args, object params):
    """Apply ``p``: the result's value, or a Tensor where some operand is differentiated."""
    cdef Py_ssize_t n = len(args), k
    cdef int top = -1
    cdef object a
    cdef Tensor t, box = None
    for k in range(n):
        a = args[k]
        if type(a) is Tensor:
            t = <Tensor>a
            if t._requires_grad and t._level > top:
                top = t._level
                box = t
        elif (type(a) is list or type(a) is tuple) and _holds_tensor(a):
            # a (nested) list holding Tensors is an array of them: stacked on the tape
            return _bind(p, tuple([array_of(x) if (type(x) is list or type(x) is tuple)
                                   and _holds_tensor(x) else x for x in args]), params)
    if top <= 0:
        if n == 2 and p.saves == 0 and p.cfwd == _f_ufunc2:
            # add and subtract on the eager tape: nothing saved, so no tuple of values
            a = args[0]
            b = args[1]
            out = _ufunc2(p, (<Tensor>a)._data if type(a) is Tensor else _operand(a, p.name),
                          (<Tensor>b)._data if type(b) is Tensor else _operand(b, p.name))
            if top == 0 and fg_grad_enabled:
                return _record(p, out, args, None, params, 0)
            return out
        vals = _values(p, args)
        out = _forward(p, vals, params)
        if top == 0 and fg_grad_enabled:
            return _record(p, out, args, vals, params, 0)
        return out
    if not fg_grad_enabled:
        return _bind(p, tuple([_const(a) for a in args]), params)
    # the operands' values at level top; when none is itself a Tensor (one level open:
    # the common case), the forward runs on them at once, without checking the boxed
    # values again (they are floating ndarrays); else the values go down a level
    cdef list vl = [None] * n
    cdef bint plain = True
    cdef bint raw = p.user or p.python
    for k in range(n):
        a = args[k]
        if _on(a, top):
            a = (<Tensor>a)._data
            if type(a) is not ndarray:
                plain = False
        elif type(a) is Tensor:
            plain = False
        elif plain and not raw and a is not None:
            a = _operand(a, p.name)
        vl[k] = a
    vals = tuple(vl)
    out = _forward(p, vals, params) if plain else _bind(p, vals, params)
    if box._forward:
        return _push_tangent(p, out, args, vals, params, top)
    return _record(p, out, args, vals, params, top)


def array_of(seq):
    """A (nested) list of Tensors, arrays and numbers as one Tensor, recorded as a stack
    (autograd's ``array`` of boxes): ``np.array([t1, t2])`` in ``fastgrad.numpy``."""
    if type(seq) is not list and type(seq) is not tuple:
        return seq
    if len(seq) == 0:
        return _asarray(seq, dtype=np.float64)
    return _apply(STACK, tuple([array_of(x) for x in seq]), (0,))


cdef inline object _apply(Primitive p, tuple args, object params):
    """``_bind``, with an unrecorded result made a Tensor (the eager API's results)."""
    out = _bind(p, args, params)
    return out if type(out) is Tensor else _leaf(out)


cdef Tensor _record(Primitive p, object out, tuple args, tuple vals, object params,
                    int level):
    global _next_serial
    cdef Tensor t = Tensor.__new__(Tensor)
    cdef Py_ssize_t n = len(args), k
    cdef unsigned int saves = p.saves
    if type(out) is not ndarray and type(out) is not Tensor:
        out = _asarray(out)
    t._data = out
    t._requires_grad = True
    t._level = level
    t._prim = p
    # the parents: the operands on this level's tape, None for the rest (the operands'
    # own tuple where every one is on it: no new tuple)
    if n == 2:
        a = args[0]
        b = args[1]
        on_a = _on(a, level)
        on_b = _on(b, level)
        t._parents = args if on_a and on_b else (a if on_a else None, b if on_b else None)
    elif n == 1:
        t._parents = args           # recorded, so its one operand is on the tape
    else:
        t._parents = tuple([a if _on(a, level) else None for a in args])
    if saves == 0:
        t._saved = None             # the rules read no operand (add, tanh, ...)
    elif saves == ALL or (saves == 3 and n == 2) or (saves == 1 and n == 1):
        t._saved = vals
    elif n == 2:
        t._saved = (vals[0] if saves & 1 else None, vals[1] if saves & 2 else None)
    else:
        t._saved = tuple([vals[k] if saves & (1u << k) else None for k in range(n)])
    t._params = params
    t._serial = _next_serial
    _next_serial += 1
    return t


cdef object _in_space(object g, object dtype):
    """A cotangent or tangent ``g`` in the vector space of an array of ``dtype`` (autograd's
    vspace convention): a complex one for a real array is its real part, a real one for a
    complex array is made complex; an ndarray is also cast to ``dtype``."""
    cdef bint complex_g, complex_x = dtype.kind == "c"
    if type(g) is Tensor:
        complex_g = _const(g).dtype.kind == "c"
        if complex_g and not complex_x:
            return np.real(g)
        if complex_x and not complex_g:
            return g * (1 + 0j)
        return g
    if g.dtype.kind == "c" and not complex_x:
        g = g.real
    return g.astype(dtype)


cdef Tensor _push_tangent(Primitive p, object out, tuple args, tuple vals, object params,
                          int level):
    """A forward-mode box of ``out`` at ``level``: the tangent from the operands' tangents."""
    global _next_serial
    cdef Py_ssize_t k
    cdef object tangent = None, c
    for k in range(len(args)):
        a = args[k]
        if _on(a, level):
            c = _jvp(p, k, (<Tensor>a)._tangent, out, vals, params)
            tangent = c if tangent is None else tangent + c
    cdef tuple shape = _shape_of(out)
    tangent = _broadcast_to_shape(tangent, shape)
    dtype = _const(out).dtype if type(out) is Tensor else _asarray(out).dtype
    if type(tangent) is not Tensor:
        tangent = _asarray(tangent)
        if tangent.dtype != dtype:
            tangent = _in_space(tangent, dtype)
    else:
        tangent = _in_space(tangent, dtype)
    cdef Tensor t = Tensor.__new__(Tensor)
    t._data = out if type(out) is ndarray or type(out) is Tensor else _asarray(out)
    t._tangent = tangent
    t._requires_grad = True
    t._forward = True
    t._level = level
    t._serial = _next_serial
    _next_serial += 1
    return t


cdef inline object _vjp(Primitive p, Py_ssize_t k, object g, object ans, tuple args,
                        object params):
    """Operand k's cotangent (before broadcasting is undone)."""
    cdef rule_t rule
    if not p.user:
        rule = p.cvjp[k if k < 3 else 2]
        if rule != NULL:
            return rule(g, ans, args, params, <int>k)
    return _vjp_checked(p, k, g, ans, args, params)


cdef object _py_rule(Primitive p, tuple rules, Py_ssize_t k, str kind):
    # a row written in Python: operand k's rule (the last serves the remaining operands)
    r = rules[k if k < len(rules) else -1]
    if r is None:
        raise NotImplementedError(f"{p.name}: the {kind} with respect to operand {k} is "
                                  "not defined")
    return r


cdef object _vjp_checked(Primitive p, Py_ssize_t k, object g, object ans, tuple args,
                         object params):
    # a user primitive's VJP, its result's shape checked; a missing rule
    cdef rule_t rule
    if p.python:
        return _py_rule(p, p.pyvjp, k, "VJP")(g, ans, *args, **(params or {}))
    if p.user:
        if p.pyvjp is None:
            raise NotImplementedError(f"the VJP of primitive {p.name} is not defined "
                                      "(fastgrad.extend.defvjp)")
        out = p.pyvjp(k, ans, args, params or {})(g)
        if out is None:
            raise ValueError(f"primitive {p.name}: the VJP for argument {k} returned None")
        if type(out) is not Tensor:
            out = _asarray(out)
        if _shape_of(out) != _shape_of(args[k]):
            raise ValueError(f"primitive {p.name}: the VJP for argument {k} returned shape "
                             f"{_shape_of(out)}, but the argument has shape "
                             f"{_shape_of(args[k])}")
        return out
    rule = p.cvjp[k if k < 3 else 2]
    if rule == NULL:
        raise NotImplementedError(f"{p.name}: the VJP with respect to operand {k} is not "
                                  "defined")
    return rule(g, ans, args, params, <int>k)


cdef object _jvp(Primitive p, Py_ssize_t k, object t, object ans, tuple args, object params):
    """Operand k's contribution to the result's tangent (broadcastable to the result)."""
    cdef rule_t rule
    if p.python:
        return _py_rule(p, p.pyjvp, k, "JVP")(t, ans, *args, **(params or {}))
    if p.user:
        if p.pyjvp is None:
            raise NotImplementedError(f"the JVP of primitive {p.name} is not defined "
                                      "(fastgrad.extend.defjvp)")
        out = p.pyjvp(k, t, ans, args, params or {})
        if out is None:
            raise ValueError(f"primitive {p.name}: the JVP for argument {k} returned None")
        if type(out) is not Tensor:
            out = _asarray(out)
        if _shape_of(out) != _shape_of(ans):
            raise ValueError(f"primitive {p.name}: the JVP for argument {k} returned shape "
                             f"{_shape_of(out)}, but the output has shape {_shape_of(ans)}")
        return out
    rule = p.cjvp[k if k < 3 else 2]
    if rule == NULL:
        raise NotImplementedError(f"{p.name}: the JVP with respect to operand {k} is not "
                                  "defined")
    return rule(t, ans, args, params, <int>k)


# --------------------------------------------------------------------------------------
# Differentiable helpers the rules use: numpy on values, the registry on Tensors
# --------------------------------------------------------------------------------------

cdef object _unbroadcast(object g, tuple shape):
    """Sum ``g`` down to ``shape``: over leading axes numpy added, and over axes of length 1.
    The one place broadcasting is undone."""
    cdef tuple gshape = _shape_of(g)
    if gshape == shape:
        return g
    cdef Py_ssize_t extra = len(gshape) - len(shape), i
    if type(g) is Tensor:
        axes = tuple(range(extra)) + tuple([i + extra for i in range(len(shape))
                                            if shape[i] == 1 and gshape[i + extra] != 1])
        if axes:
            g = _bind(SUM, (g,), (axes, False))
        return g if _shape_of(g) == shape else _bind(RESHAPE, (g,), (shape,))
    if extra > 0:
        g = _add_reduce(g, tuple(range(extra)))
    axes = tuple([i for i in range(len(shape)) if shape[i] == 1 and g.shape[i] != 1])
    if axes:
        g = _add_reduce(g, axes, None, None, True)
    return g


cdef object _broadcast_to_shape(object t, tuple shape):
    """``t`` broadcast to ``shape``: the one place a JVP's broadcasting is done."""
    if _shape_of(t) == shape:
        return t
    if type(t) is Tensor:
        return _bind(BROADCAST, (t,), (shape,))
    return np.broadcast_to(t, shape)


cdef inline object _sum(object x, object axis, bint keepdims):
    if type(x) is Tensor:
        return _bind(SUM, (x,), (axis, keepdims))
    return _add_reduce(x, axis, None, None, keepdims)


cdef inline object _reshape(object x, tuple shape):
    if type(x) is Tensor:
        return _bind(RESHAPE, (x,), (shape,))
    return np.reshape(x, shape)


cdef inline object _transpose(object x, object axes):
    if type(x) is Tensor:
        return _bind(TRANSPOSE, (x,), (axes,))
    return np.transpose(x, axes)


cdef inline object _mm(object a, object b):
    # ndarray.dot skips the gufunc machinery of @: much faster on small matrices
    if type(a) is ndarray and type(b) is ndarray and a.ndim == 2 and b.ndim == 2:
        return a.dot(b)
    return a @ b


cdef inline object _swap(object a):
    # the last two axes exchanged
    if type(a) is Tensor:
        nd = len(_shape_of(a))
        return _bind(TRANSPOSE, (a,), (tuple(range(nd - 2)) + (nd - 1, nd - 2),))
    return a.swapaxes(-1, -2)


cdef inline object _where(object cond, object a, object b):
    if type(a) is Tensor or type(b) is Tensor:
        return _bind(WHERE, (a, b), (cond,))
    return np.where(cond, a, b)


cdef tuple _kept_shape(tuple shape, object axis):
    """The shape a reduction over ``axis`` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple([1 if i in axes else shape[i] for i in range(len(shape))])


cdef object _expand(object g, object axis, bint keepdims, tuple shape):
    """A reduction's output cotangent, reshaped so it broadcasts against its input."""
    if keepdims or axis is None:
        return g
    return _reshape(g, _kept_shape(shape, axis))


cdef Py_ssize_t _count(tuple shape, object axis) except -1:
    # how many elements each output element of a reduction over `axis` summarises
    cdef Py_ssize_t n = 1, i
    if axis is None:
        for i in range(len(shape)):
            n *= <Py_ssize_t>shape[i]
        return n
    if isinstance(axis, tuple):
        for i in range(len(<tuple>axis)):
            n *= <Py_ssize_t>shape[(<tuple>axis)[i]]
        return n
    return shape[axis]


cdef object _spread(object g, object x, object axis, bint keepdims):
    # g, of a reduction's output shape, copied out to x's shape
    cdef tuple shape = _shape_of(x)
    if type(g) is Tensor:
        return _broadcast_to_shape(_expand(g, axis, keepdims, shape), shape)
    out = _empty(shape, dtype=_const(x).dtype)
    if axis is None and not keepdims:
        out.fill(g)                 # a whole-array reduction: g is one number
    else:
        out[...] = _expand(g, axis, keepdims, shape)
    return out


# --------------------------------------------------------------------------------------
# The rows: forward (checks and numpy on values), VJP and JVP per operand, what it saves
# --------------------------------------------------------------------------------------
# A JVP rule given as the VJP rule: the operand's Jacobian is diagonal (elementwise ops)
# or symmetric (softmax), so the same formula maps a tangent as it maps a cotangent.

cdef dict _F(tuple methods=(), tuple ufuncs=(), tuple functions=()):
    return {"method": methods, "ufunc": ufuncs, "function": functions}


# ---- elementwise binary ops ----------------------------------------------------------

cdef object _broadcast_error(str name, tuple a):
    return ValueError(f"{name}: cannot broadcast shapes {_shape(a[0])} and {_shape(a[1])} "
                      "together")

cdef inline object _ufunc2(Primitive p, object a, object b):
    try:
        return p.ufunc(a, b)
    except ValueError:
        raise _broadcast_error(p.name, (a, b)) from None

cdef object _f_ufunc2(object p, tuple a, object params):
    return _ufunc2(<Primitive>p, a[0], a[1])

cdef object _f_power(object p, tuple a, object params):
    try:
        return a[0] ** a[1]
    except ValueError:
        raise _broadcast_error("power", a) from None

cdef object _v_id(object g, object ans, tuple a, object p, int k):
    return g

cdef object _v_neg(object g, object ans, tuple a, object p, int k):
    return -g

cdef object _v_sub(object g, object ans, tuple a, object p, int k):
    return g if k == 0 else -g

cdef object _v_mul(object g, object ans, tuple a, object p, int k):
    return g * a[1 - k]

cdef object _v_div(object g, object ans, tuple a, object p, int k):
    return g / a[1] if k == 0 else -g * ans / a[1]

cdef object _v_pow(object g, object ans, tuple a, object p, int k):
    x, y = a
    if k == 0:      # y * x**(y-1), and 0 where y == 0 (PyTorch's convention)
        if isinstance(y, (int, float)):
            if y == 0:
                return g * 0.0
            if y == 2:
                return g * (2.0 * x)
            return g * (y * x ** (y - 1))
        # the branch not taken is computed at y = 1, so that its derivatives (taken when
        # this rule is itself differentiated) are finite and the masked zeros stay zeros
        zero = _const(y) == 0
        y1 = _where(zero, 1.0, y)
        return g * _where(zero, 0.0, y1 * x ** (y1 - 1))
    # x**y * log(x), and 0 where x == 0 and y >= 0 (PyTorch's convention); the branch not
    # taken reads log(1), not log(0), for the same reason
    zero = (_const(x) == 0) & (_const(y) >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * _where(zero, 0.0, ans * np.log(_where(zero, 1.0, x)))

cdef object _v_select(object g, object ans, tuple a, object p, int k):
    # maximum and minimum: the gradient goes to the operand that was chosen, and half to
    # each on a tie (PyTorch's and autograd's convention)
    x = _const(a[0])
    y = _const(a[1])
    chosen = (x if k == 0 else y) == _const(ans)
    return _where(x == y, 0.5 * g, g * chosen)      # bool masks keep g's dtype

cdef Primitive ADD = _row("add", "+", 2, 0, _f_ufunc2, np.add,
                          _v_id, _v_id, NULL, _v_id, _v_id, NULL,
                          _F(("__add__", "__radd__"), ("add",), ("add",)))
cdef Primitive SUBTRACT = _row("subtract", "-", 2, 0, _f_ufunc2, np.subtract,
                               _v_sub, _v_sub, NULL, _v_sub, _v_sub, NULL,
                               _F(("__sub__", "__rsub__"), ("subtract",), ("subtract",)))
cdef Primitive MULTIPLY = _row("multiply", "*", 2, 3, _f_ufunc2, np.multiply,
                               _v_mul, _v_mul, NULL, _v_mul, _v_mul, NULL,
                               _F(("__mul__", "__rmul__"), ("multiply",), ("multiply",)))
cdef Primitive DIVIDE = _row("divide", "/", 2, 2, _f_ufunc2, np.divide,
                             _v_div, _v_div, NULL, _v_div, _v_div, NULL,
                             _F(("__truediv__", "__rtruediv__"), ("divide",),
                                ("divide", "true_divide")))
cdef Primitive POWER = _row("power", "**", 2, 3, _f_power, None,
                            _v_pow, _v_pow, NULL, _v_pow, _v_pow, NULL,
                            _F(("__pow__", "__rpow__"), ("power",), ("power",)))
cdef Primitive MAXIMUM = _row("maximum", "maximum", 2, 3, _f_ufunc2, np.maximum,
                              _v_select, _v_select, NULL, _v_select, _v_select, NULL,
                              _F((), ("maximum",), ("maximum",)))
cdef Primitive MINIMUM = _row("minimum", "minimum", 2, 3, _f_ufunc2, np.minimum,
                              _v_select, _v_select, NULL, _v_select, _v_select, NULL,
                              _F((), ("minimum",), ("minimum",)))


# ---- elementwise functions of one operand ----------------------------------------------

cdef object _sigmoid_array(object x):
    if x.dtype.kind == "c":         # complex: the holomorphic 1 / (1 + exp(-x))
        return 1.0 / (1.0 + np.exp(-x))
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

cdef object _f_ufunc1(object p, tuple a, object params):
    x = a[0]
    if type(x) is not ndarray:
        x = _float_array(x, (<Primitive>p).name)
    return (<Primitive>p).ufunc(x)

cdef object _f_relu(object p, tuple a, object params):
    x = a[0]
    return np.maximum(x if type(x) is ndarray else _float_array(x, "relu"), 0.0)

cdef object _f_sigmoid(object p, tuple a, object params):
    x = a[0]
    return _sigmoid_array(x if type(x) is ndarray else _float_array(x, "sigmoid"))

cdef object _v_tanh(object g, object ans, tuple a, object p, int k):
    if type(ans) is ndarray and type(g) is ndarray:
        d = ans * ans
        if type(d) is not ndarray:      # 0-d: numpy gives scalars
            return g * (1.0 - d)
        _np_subtract(1.0, d, d)         # in place: one temporary, not three
        return _np_multiply(d, g, d) if d.shape == g.shape else d * g
    return g * (1.0 - ans * ans)

cdef object _v_relu(object g, object ans, tuple a, object p, int k):
    return g * (_const(ans) > 0)                 # relu'(0) = 0, as PyTorch

cdef object _v_sigmoid(object g, object ans, tuple a, object p, int k):
    return g * (ans * (1.0 - ans))

cdef object _v_exp(object g, object ans, tuple a, object p, int k):
    return g * ans

cdef object _v_log(object g, object ans, tuple a, object p, int k):
    return g / a[0]

cdef object _v_sqrt(object g, object ans, tuple a, object p, int k):
    return g * (0.5 / ans)

cdef object _v_abs(object g, object ans, tuple a, object p, int k):
    x = a[0]
    v = _const(x)
    if type(v) is ndarray and v.dtype.kind == "c":
        # complex x: g * conj(x) / |x|, and 0 at x == 0 (autograd's grad_abs)
        return g * np.conj(x) / _where(_const(ans) == 0, 1.0, ans)
    return g * np.sign(v)                       # abs'(0) = 0, as PyTorch

cdef object _j_abs(object t, object ans, tuple a, object p, int k):
    x = a[0]
    v = _const(x)
    if type(v) is ndarray and v.dtype.kind == "c":
        # complex x: Re(t * conj(x)) / |x|, and 0 at x == 0
        return np.real(t * np.conj(x)) / _where(_const(ans) == 0, 1.0, ans)
    return t * np.sign(v)

cdef object _v_sin(object g, object ans, tuple a, object p, int k):
    return g * np.cos(a[0])

cdef object _v_cos(object g, object ans, tuple a, object p, int k):
    return -g * np.sin(a[0])

cdef Primitive NEGATIVE = _row("negative", "neg", 1, 0, _f_ufunc1, np.negative,
                               _v_neg, NULL, NULL, _v_neg, NULL, NULL,
                               _F(("__neg__",), ("negative",), ("negative",)))
cdef Primitive TANH = _row("tanh", "tanh", 1, 0, _f_ufunc1, np.tanh,
                           _v_tanh, NULL, NULL, _v_tanh, NULL, NULL,
                           _F(("tanh",), ("tanh",), ("tanh",)))
cdef Primitive RELU = _row("relu", "relu", 1, 0, _f_relu, None,
                           _v_relu, NULL, NULL, _v_relu, NULL, NULL,
                           _F(("relu",), (), ("relu",)))
cdef Primitive SIGMOID = _row("sigmoid", "sigmoid", 1, 0, _f_sigmoid, None,
                              _v_sigmoid, NULL, NULL, _v_sigmoid, NULL, NULL,
                              _F(("sigmoid",), (), ("sigmoid",)))
cdef Primitive EXP = _row("exp", "exp", 1, 0, _f_ufunc1, np.exp,
                          _v_exp, NULL, NULL, _v_exp, NULL, NULL,
                          _F(("exp",), ("exp",), ("exp",)))
cdef Primitive LOG = _row("log", "log", 1, 1, _f_ufunc1, np.log,
                          _v_log, NULL, NULL, _v_log, NULL, NULL,
                          _F(("log",), ("log",), ("log",)))
cdef Primitive SQRT = _row("sqrt", "sqrt", 1, 0, _f_ufunc1, np.sqrt,
                           _v_sqrt, NULL, NULL, _v_sqrt, NULL, NULL,
                           _F(("sqrt",), ("sqrt",), ("sqrt",)))
cdef Primitive ABSOLUTE = _row("absolute", "abs", 1, 1, _f_ufunc1, np.absolute,
                               _v_abs, NULL, NULL, _j_abs, NULL, NULL,
                               _F(("abs", "__abs__"), ("absolute",), ("absolute", "abs")))
cdef Primitive SIN = _row("sin", "sin", 1, 1, _f_ufunc1, np.sin,
                          _v_sin, NULL, NULL, _v_sin, NULL, NULL,
                          _F(("sin",), ("sin",), ("sin",)))
cdef Primitive COS = _row("cos", "cos", 1, 1, _f_ufunc1, np.cos,
                          _v_cos, NULL, NULL, _v_cos, NULL, NULL,
                          _F(("cos",), ("cos",), ("cos",)))


# ---- matrix products -------------------------------------------------------------------

cdef object _f_matmul(object p, tuple a, object params):
    x, y = a
    try:
        return _mm(x, y)
    except ValueError:
        raise ValueError(f"matmul: shapes {_shape(x)} and {_shape(y)} are not aligned: "
                         "the last axis of the first must equal the second-to-last (or "
                         "only) axis of the second") from None

cdef object _v_matmul(object g, object ans, tuple a, object p, int k):
    x, y = a
    if type(g) is ndarray and type(x) is ndarray and type(y) is ndarray:
        if (<object>x).ndim == 2 and (<object>y).ndim == 2:     # the common case
            return g.dot(y.T) if k == 0 else x.T.dot(g)
    cdef int xd = x.ndim, yd = y.ndim
    if xd == 2 and yd == 2:
        return _mm(g, y.T) if k == 0 else _mm(x.T, g)
    if k == 0:
        if yd == 1:
            return g[..., None] * y if xd > 1 else g * y
        if xd == 1:
            return (g[..., None, :] @ _swap(y))[..., 0, :]
        return g @ _swap(y)
    if xd == 1:
        return x[:, None] * g[..., None, :] if yd > 1 else g * x
    if yd == 1:
        return (_swap(x) @ g[..., None])[..., 0]
    return _swap(x) @ g

cdef object _j_matmul(object t, object ans, tuple a, object p, int k):
    return _mm(t, a[1]) if k == 0 else _mm(a[0], t)

cdef Primitive MATMUL = _row("matmul", "@", 2, 3, _f_matmul, None,
                             _v_matmul, _v_matmul, NULL, _j_matmul, _j_matmul, NULL,
                             _F(("__matmul__", "__rmatmul__"), ("matmul",), ("matmul",)))

cdef object _f_linear(object p, tuple a, object params):
    # x @ weight + bias in one op: the bias is added in place, so a layer makes one
    # array instead of two, and the sweep has one node less
    x = a[0]
    W = a[1]
    if type(W) is not ndarray or W.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (n_in, n_out), got shape {_shape(W)}")
    try:
        out = x.dot(W) if type(x) is ndarray and x.ndim == 2 else x @ W
    except ValueError:
        raise ValueError(f"linear: input of shape {_shape(x)} does not fit weight of shape "
                         f"{_shape(W)}: the input's last axis must be {W.shape[0]}") from None
    if len(a) == 3:
        bias = a[2]
        if np.shape(bias) != (W.shape[1],):
            raise ValueError(f"linear: bias must have shape ({W.shape[1]},), got "
                             f"{_shape(bias)}")
        if type(out) is ndarray and out.dtype == bias.dtype:
            out += bias
        else:
            out = out + bias
    return out

cdef object _v_linear(object g, object ans, tuple a, object p, int k):
    x = a[0]
    W = a[1]
    if k == 0:
        return _mm(g, W.T)
    if k == 1:
        if x.ndim == 2:
            return _mm(x.T, g)
        n_in, n_out = _shape_of(W)
        return _mm(_reshape(x, (-1, n_in)).T, _reshape(g, (-1, n_out)))
    return g                        # the bias: _unbroadcast sums the batch axes

cdef object _j_linear(object t, object ans, tuple a, object p, int k):
    if k == 0:
        return _mm(t, a[1])
    return _mm(a[0], t) if k == 1 else t

cdef Primitive LINEAR = _row("linear", "linear", -1, 3, _f_linear, None,
                             _v_linear, _v_linear, _v_linear, _j_linear, _j_linear,
                             _j_linear, _F((), (), ("linear",)))


# ---- reductions: params (axis, keepdims), the axis normalised ---------------------------

cdef object _f_reduce(object p, tuple a, object params):
    x = a[0]
    if type(x) is not ndarray:
        x = _float_array(x, (<Primitive>p).name)
    axis, keepdims = params
    if p is SUM:
        return _add_reduce(x, axis, None, None, keepdims)
    if p is MEAN:
        return _add_reduce(x, axis, None, None, keepdims) / _count(x.shape, axis)
    if x.size == 0:
        raise ValueError(f"{(<Primitive>p).name}: the array is empty")
    return (_max_reduce if p is MAX else _min_reduce)(x, axis, None, None, keepdims)

cdef object _v_sum(object g, object ans, tuple a, object p, int k):
    axis, keepdims = p
    return _spread(g, a[0], axis, keepdims)

cdef object _j_sum(object t, object ans, tuple a, object p, int k):
    return _sum(t, p[0], p[1])

cdef object _v_mean(object g, object ans, tuple a, object p, int k):
    axis, keepdims = p
    return _spread(g / _count(_shape_of(a[0]), axis), a[0], axis, keepdims)

cdef object _j_mean(object t, object ans, tuple a, object p, int k):
    return _sum(t, p[0], p[1]) / _count(_shape_of(a[0]), p[0])

cdef object _extreme_mask(object x, object ans, object axis, bint keepdims):
    # where x attains the max (min); ties share the gradient equally (PyTorch's amax)
    r = _const(ans)
    if not keepdims and axis is not None:
        r = np.expand_dims(r, axis)
    return _const(x) == r

cdef object _v_extreme(object g, object ans, tuple a, object p, int k):
    axis, keepdims = p
    mask = _extreme_mask(a[0], ans, axis, keepdims)
    return _expand(g, axis, keepdims, mask.shape) * mask / mask.sum(axis=axis, keepdims=True)

cdef object _j_extreme(object t, object ans, tuple a, object p, int k):
    axis, keepdims = p
    mask = _extreme_mask(a[0], ans, axis, keepdims)
    return _sum(t * mask, axis, keepdims) / mask.sum(axis=axis, keepdims=keepdims)

cdef Primitive SUM = _row("sum", "sum", 1, 1, _f_reduce, None,
                          _v_sum, NULL, NULL, _j_sum, NULL, NULL,
                          _F(("sum",), (), ("sum",)))
cdef Primitive MEAN = _row("mean", "mean", 1, 1, _f_reduce, None,
                           _v_mean, NULL, NULL, _j_mean, NULL, NULL,
                           _F(("mean",), (), ("mean",)))
cdef Primitive MAX = _row("max", "max", 1, 1, _f_reduce, None,
                          _v_extreme, NULL, NULL, _j_extreme, NULL, NULL,
                          _F(("max",), (), ("max", "amax")))
cdef Primitive MIN = _row("min", "min", 1, 1, _f_reduce, None,
                          _v_extreme, NULL, NULL, _j_extreme, NULL, NULL,
                          _F(("min",), (), ("min", "amin")))


# ---- shape ops -------------------------------------------------------------------------

cdef object _f_reshape(object p, tuple a, object params):
    x = a[0]
    try:
        return np.reshape(x, params[0])
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an array of shape {_shape(x)} "
                         f"into shape {params[0]}") from None

cdef object _v_reshape(object g, object ans, tuple a, object p, int k):
    return _reshape(g, _shape_of(a[0]))

cdef object _j_reshape(object t, object ans, tuple a, object p, int k):
    return _reshape(t, _shape_of(ans))

cdef object _f_transpose(object p, tuple a, object params):
    x = a[0]
    try:
        return np.transpose(x, params[0])
    except ValueError:
        raise ValueError(f"transpose: axes {params[0]} do not fit an array of shape "
                         f"{_shape(x)}") from None

cdef object _v_transpose(object g, object ans, tuple a, object p, int k):
    axes = p[0]
    return _transpose(g, None if axes is None else tuple(np.argsort(axes).tolist()))

cdef object _j_transpose(object t, object ans, tuple a, object p, int k):
    return _transpose(t, p[0])

cdef object _f_broadcast_to(object p, tuple a, object params):
    x = a[0]
    try:
        return np.broadcast_to(x, params[0])
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {_shape(x)} to "
                         f"{params[0]}") from None

cdef object _v_broadcast_to(object g, object ans, tuple a, object p, int k):
    return _unbroadcast(g, _shape_of(a[0]))

cdef object _j_broadcast_to(object t, object ans, tuple a, object p, int k):
    return _broadcast_to_shape(t, p[0])

cdef Primitive RESHAPE = _row("reshape", "reshape", 1, 1, _f_reshape, None,
                              _v_reshape, NULL, NULL, _j_reshape, NULL, NULL,
                              _F(("reshape", "squeeze", "expand_dims"), (),
                                 ("reshape", "squeeze", "expand_dims")))
cdef Primitive TRANSPOSE = _row("transpose", "transpose", 1, 0, _f_transpose, None,
                                _v_transpose, NULL, NULL, _j_transpose, NULL, NULL,
                                _F(("transpose", "T", "swapaxes"), (),
                                   ("transpose", "swapaxes")))
cdef Primitive BROADCAST = _row("broadcast_to", "broadcast_to", 1, 1, _f_broadcast_to,
                                None, _v_broadcast_to, NULL, NULL, _j_broadcast_to,
                                NULL, NULL, _F((), (), ("broadcast_to",)))


# ---- joining: params (axis,), the axis normalised; any number of operands ---------------

cdef object _f_join(object p, tuple a, object params):
    cdef str name = (<Primitive>p).name
    try:
        return (np.concatenate if p is CONCATENATE else np.stack)(list(a), axis=params[0])
    except ValueError as exc:
        shapes = ", ".join([_shape(d) for d in a])
        raise ValueError(f"{name}: cannot join shapes {shapes} along axis {params[0]}: "
                         f"{exc}") from None

cdef object _v_concatenate(object g, object ans, tuple a, object p, int k):
    cdef int axis = p[0]
    cdef Py_ssize_t start = 0, j
    for j in range(k):
        start += _shape_of(a[j])[axis]
    index = [slice(None)] * len(_shape_of(g))
    index[axis] = slice(start, start + _shape_of(a[k])[axis])
    return g[tuple(index)]

cdef object _v_stack(object g, object ans, tuple a, object p, int k):
    index = [slice(None)] * len(_shape_of(g))
    index[p[0]] = k
    return g[tuple(index)]

cdef object _j_join(object t, object ans, tuple a, object p, int k):
    # the result's tangent when only operand k moves: zeros in the other operands' places
    dtype = _const(ans).dtype
    parts = tuple([t if j == k else np.zeros(_shape_of(a[j]), dtype) for j in range(len(a))])
    # concatenate keeps the operands' number of axes; stack adds one
    stacked = len(_shape_of(ans)) != len(_shape_of(a[0]))
    return _bind(STACK if stacked else CONCATENATE, parts, p)

cdef Primitive CONCATENATE = _row("concatenate", "concatenate", -1, ALL, _f_join, None,
                                  _v_concatenate, _v_concatenate, _v_concatenate,
                                  _j_join, _j_join, _j_join,
                                  _F((), (), ("concatenate",)))
cdef Primitive STACK = _row("stack", "stack", -1, ALL, _f_join, None,
                            _v_stack, _v_stack, _v_stack, _j_join, _j_join, _j_join,
                            _F((), (), ("stack",)))


# ---- indexing: params (index,) -----------------------------------------------------------

cdef bint _targets_unique(object index):
    # True unless the index holds integer arrays or lists, which may repeat a position
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)):
            continue
        if isinstance(i, ndarray) and i.dtype == bool:
            continue
        return False
    return True

cdef object _f_getitem(object p, tuple a, object params):
    return a[0][params[0]]

cdef object _v_getitem(object g, object ans, tuple a, object p, int k):
    return _bind(UNTAKE, (g,), (p[0], _shape_of(a[0])))

cdef object _j_getitem(object t, object ans, tuple a, object p, int k):
    return _bind(GETITEM, (t,), p)

cdef object _f_untake(object p, tuple a, object params):
    # getitem's transpose: g put back at the positions the index took, zeros elsewhere
    g = _asarray(a[0])
    index, shape = params
    z = np.zeros(shape, dtype=g.dtype)
    if _targets_unique(index):
        z[index] = g
    else:                           # repeated indices add up
        np.add.at(z, index, g)
    return z

cdef object _v_untake(object g, object ans, tuple a, object p, int k):
    return _bind(GETITEM, (g,), (p[0],))

cdef object _j_untake(object t, object ans, tuple a, object p, int k):
    return _bind(UNTAKE, (t,), p)

cdef Primitive GETITEM = _row("getitem", "getitem", 1, 1, _f_getitem, None,
                              _v_getitem, NULL, NULL, _j_getitem, NULL, NULL,
                              _F(("__getitem__",), (), ()))
# internal: only the rules of getitem reach it
cdef Primitive UNTAKE = _row("untake", "untake", 1, 0, _f_untake, None,
                             _v_untake, NULL, NULL, _j_untake, NULL, NULL, _F())


# ---- selection ---------------------------------------------------------------------------

cdef object _f_where(object p, tuple a, object params):
    x, y = a
    cond = params[0]
    try:
        return np.where(cond, x, y)
    except ValueError:
        raise ValueError(f"where: cannot broadcast shapes {_shape(cond)}, {_shape(x)} and "
                         f"{_shape(y)} together") from None

cdef object _v_where(object g, object ans, tuple a, object p, int k):
    cond = p[0]
    return _where(cond, g, 0.0) if k == 0 else _where(cond, 0.0, g)

cdef object _f_clip(object p, tuple a, object params):
    return np.clip(a[0], params[0], params[1])

cdef object _v_clip(object g, object ans, tuple a, object p, int k):
    x = _const(a[0])                # the gradient passes where lo <= x <= hi (PyTorch)
    lo, hi = p
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return g * inside

cdef Primitive WHERE = _row("where", "where", 2, 0, _f_where, None,
                            _v_where, _v_where, NULL, _v_where, _v_where, NULL,
                            _F((), (), ("where",)))
cdef Primitive CLIP = _row("clip", "clip", 1, 1, _f_clip, None,
                           _v_clip, NULL, NULL, _v_clip, NULL, NULL,
                           _F(("clip",), (), ("clip",)))


# ---- softmax, log-softmax and the losses -----------------------------------------------

cdef object _log_softmax_array(object x, int axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

cdef object _f_softmax(object p, tuple a, object params):
    x = a[0]
    if type(x) is not ndarray:
        x = _float_array(x, (<Primitive>p).name)
    ls = _log_softmax_array(x, params[0])
    return ls if p is LOG_SOFTMAX else np.exp(ls)

cdef object _v_softmax(object g, object ans, tuple a, object p, int k):
    return ans * (g - _sum(g * ans, p[0], True))

cdef object _v_log_softmax(object g, object ans, tuple a, object p, int k):
    return g - np.exp(ans) * _sum(g, p[0], True)

cdef object _j_log_softmax(object t, object ans, tuple a, object p, int k):
    return t - _sum(np.exp(ans) * t, p[0], True)

cdef Primitive SOFTMAX = _row("softmax", "softmax", 1, 0, _f_softmax, None,
                              _v_softmax, NULL, NULL, _v_softmax, NULL, NULL,
                              _F(("softmax",), (), ("softmax",)))
cdef Primitive LOG_SOFTMAX = _row("log_softmax", "log_softmax", 1, 0, _f_softmax, None,
                                  _v_log_softmax, NULL, NULL, _j_log_softmax, NULL, NULL,
                                  _F(("log_softmax",), (), ("log_softmax",)))

# mse_loss(prediction, target) records the difference (one subtraction) and this row,
# the mean of its squares: the VJP reads the difference it saved instead of computing it
# again, and the target's gradient is the subtraction's.

cdef object _f_mse(object p, tuple a, object params):
    diff = a[0]
    if type(diff) is ndarray and diff.size:
        sq = diff * diff            # the mean as a sum over a count of the same dtype
        return _add_reduce(sq, None) / sq.dtype.type(sq.size)
    return np.mean(diff * diff)

cdef object _v_mse(object g, object ans, tuple a, object p, int k):
    diff = a[0]
    return g * (2.0 / _count(_shape_of(diff), None)) * diff

cdef object _j_mse(object t, object ans, tuple a, object p, int k):
    diff = a[0]
    return _sum(t * diff, None, False) * (2.0 / _count(_shape_of(diff), None))

cdef Primitive MSE_LOSS = _row("mse_loss", "mse_loss", 1, 1, _f_mse, None,
                               _v_mse, NULL, NULL, _j_mse, NULL, NULL,
                               _F((), (), ("mse_loss",)))

cdef object _xent_probs(object z, object target):
    # the target as class probabilities: one-hot rows for integer class indices
    t = _const(target)
    if type(t) is ndarray and t.dtype.kind in "iu":
        n = _shape_of(z)[0]
        probs = np.zeros(_shape_of(z), dtype=_const(z).dtype)
        probs[np.arange(n), t] = 1.0
        return probs
    return target

cdef object _f_xent(object p, tuple a, object params):
    z, target = a
    if type(z) is not ndarray or z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (batch, classes), got "
                         f"{_shape(z)}")
    t = _asarray(target)
    n = z.shape[0]
    if t.dtype.kind in "iu":            # class indices
        if t.shape != (n,):
            raise ValueError(f"cross_entropy: class indices must have shape ({n},), got "
                             f"{t.shape}")
        if n and (t.min() < 0 or t.max() >= z.shape[1]):
            raise ValueError(f"cross_entropy: class indices must lie in [0, {z.shape[1]}), "
                             f"got values from {t.min()} to {t.max()}")
    elif t.dtype.kind == "f":           # class probabilities (one-hot or soft)
        if t.shape != z.shape:
            raise ValueError(f"cross_entropy: target probabilities must have the logits' "
                             f"shape {z.shape}, got {t.shape}")
    else:
        raise TypeError(f"cross_entropy: target must be integer class indices or float "
                        f"probabilities, got dtype {t.dtype}")
    return -(_xent_probs(z, t) * _log_softmax_array(z, 1)).sum() / n

cdef object _log_softmax_rows(object z):
    if type(z) is Tensor:
        return _bind(LOG_SOFTMAX, (z,), (1,))
    return _log_softmax_array(z, 1)

cdef object _xent_dlogits(object z, object target):
    # d cross_entropy / d logits: (softmax(z) * sum(probs) - probs) / n
    probs = _xent_probs(z, target)
    s = np.exp(_log_softmax_rows(z))
    return (s * _sum(probs, 1, True) - probs) / _shape_of(z)[0]

cdef object _v_xent(object g, object ans, tuple a, object p, int k):
    z, target = a
    if k == 1:                          # soft targets: d/dt of -sum(t * ls) / n
        return g * (-_log_softmax_rows(z) / _shape_of(z)[0])
    return g * _xent_dlogits(z, target)

cdef object _j_xent(object t, object ans, tuple a, object p, int k):
    z, target = a
    if k == 1:
        return -_sum(t * _log_softmax_rows(z), None, False) / _shape_of(z)[0]
    return _sum(t * _xent_dlogits(z, target), None, False)

cdef Primitive CROSS_ENTROPY = _row("cross_entropy", "cross_entropy", 2, 3, _f_xent, None,
                                    _v_xent, _v_xent, NULL, _j_xent, _j_xent, NULL,
                                    _F((), (), ("cross_entropy",)))


#: The name of each recorded op, as ``Tensor.op`` shows it (``""``: a leaf).
OP_NAMES = ("",) + tuple([(<Primitive>p).op for p in PRIMITIVES])


# --------------------------------------------------------------------------------------
# The reverse sweep
# --------------------------------------------------------------------------------------

cdef list _gather(Tensor root, unsigned long ep):
    """Recorded Tensors reachable from root, in reverse topological order (iterative DFS)."""
    cdef list order = []
    cdef list stack = [root]
    cdef list next_parent = [0]
    cdef Tensor node, p
    cdef Py_ssize_t i
    cdef object q
    root._epoch = ep
    while stack:
        node = <Tensor>stack[-1]
        i = next_parent[-1]
        if i < len(node._parents):
            next_parent[-1] = i + 1
            q = node._parents[i]
            if q is not None:
                p = <Tensor>q
                if p._epoch != ep and p._prim is not None:
                    p._epoch = ep
                    stack.append(p)
                    next_parent.append(0)
        else:
            stack.pop()
            next_parent.pop()
            order.append(node)
    order.reverse()
    return order


cdef void _accumulate(Tensor p, object g, bint shared) except *:
    # shared: g is (or views) an array someone else holds: the consumer's adjoint,
    # passed through by add, reshape, ...
    # a real operand takes the real part of a complex cotangent (autograd's vspaces)
    if type(g) is Tensor:           # a recorded cotangent (create_graph, nested levels)
        g = _in_space(g, _const(p._data).dtype)
        p._grad = g if p._grad is None else p._grad + g
        return
    d = p._data
    dtype = (<object>d).dtype if type(d) is ndarray else _const(d).dtype
    gdtype = g.dtype
    if gdtype is not dtype and gdtype != dtype:
        g = _in_space(g, dtype)
        shared = False
    if p._prim is None and p._grad is None:
        # a leaf's .grad is the user's: never an array shared with anything else
        if type(g) is not ndarray:
            g = _asarray(g).copy()
        elif shared or g.base is not None:
            g = g.copy()
        p._grad = g
    elif p._grad is None:
        p._grad = g if type(g) is ndarray else _asarray(g)
    else:
        g = p._grad + g                 # never in place: g may be shared
        p._grad = g if type(g) is ndarray or type(g) is Tensor else _asarray(g)


cdef int _sweep(Tensor root, object seed, bint retain, bint graph) except -1:
    """Reverse sweep of root's level from ``seed``. graph: the rules get the recorded
    Tensors (operands and result) instead of their values, so the sweep is recorded."""
    global _next_epoch
    _next_epoch += 1
    if root._prim is None:
        _accumulate(root, seed, True)
        return 0
    cdef list order = _gather(root, _next_epoch)
    cdef Tensor node, p
    cdef object q, g, gp, ans, d
    cdef tuple parents, args, saved
    cdef Py_ssize_t k
    for node in order:
        node._grad = None
    root._grad = seed
    for node in order:
        g = node._grad
        if g is None:
            continue
        parents = node._parents
        if graph:
            saved = node._saved
            args = tuple([parents[k] if parents[k] is not None else
                          (None if saved is None else saved[k])
                          for k in range(len(parents))])
            ans = node
        else:
            args = node._saved
            ans = node._data
        for k in range(len(parents)):
            q = parents[k]
            if q is None:
                continue
            p = <Tensor>q
            d = p._data
            gp = _unbroadcast(_vjp(node._prim, k, g, ans, args, node._params),
                              (<object>d).shape if type(d) is ndarray else _shape_of(d))
            _accumulate(p, gp, gp is g)
        if not retain:
            node._grad = None           # as PyTorch: interior gradients are not kept
    return 0


# --------------------------------------------------------------------------------------
# Traces: the engine side of fastgrad.core (make_vjp, make_jvp)
# --------------------------------------------------------------------------------------

def new_level():
    """A fresh level, higher than every level opened so far (one per differentiation)."""
    global _next_level
    _next_level += 1
    return _next_level


def box(value, int level, tangent=None):
    """A Tensor of ``level`` holding ``value`` (an ndarray, or a Tensor of a lower level):
    a reverse-mode leaf, or with ``tangent`` a forward-mode box carrying it."""
    global _next_serial
    cdef Tensor t = Tensor.__new__(Tensor)
    t._data = value
    t._requires_grad = True
    t._level = level
    if tangent is not None:
        t._forward = True
        t._tangent = tangent
    t._serial = _next_serial
    _next_serial += 1
    return t


def box_arrays(list xs, int level):
    """``[box(a, level) for a in xs]`` for a list of floating ndarrays, in one call; None
    (nothing boxed) when an item is anything else (the caller takes the general path)."""
    global _next_serial
    cdef list out = []
    cdef Tensor t
    for a in xs:
        if type(a) is not ndarray or a.dtype.kind != "f":
            return None
    for a in xs:
        t = Tensor.__new__(Tensor)
        t._data = a
        t._requires_grad = True
        t._level = level
        t._serial = _next_serial
        _next_serial += 1
        out.append(t)
    return out


def level_of(x):
    """The level of a Tensor being differentiated; -1 for anything else."""
    if type(x) is Tensor and (<Tensor>x)._requires_grad:
        return (<Tensor>x)._level
    return -1


def unbox(x, int level):
    """(value, True) for a Tensor of ``level``, else (x, False)."""
    if _on(x, level):
        return (<Tensor>x)._data, True
    return x, False


def tangent_of(Tensor x):
    """The tangent a forward-mode box carries."""
    return x._tangent


def value_of(x):
    """The plain value under every level of boxes."""
    return _const(x)


def reverse(Tensor root, seed, list leaves):
    """Sweep root's level back from ``seed`` and return each leaf's cotangent (None where
    the sweep did not reach it). The leaves' gradients are reset before and after."""
    cdef Tensor t
    for t in leaves:
        t._grad = None
    _sweep(root, seed, False, False)
    out = [t._grad for t in leaves]
    for t in leaves:
        t._grad = None
    return out


# --------------------------------------------------------------------------------------
# The Tensor class
# --------------------------------------------------------------------------------------

cdef object _axes_arg(tuple axes):
    if len(axes) == 0:
        return None
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return None if axes[0] is None else tuple(axes[0])
    return axes


cdef object _normalize_axis(object axis, int ndim, str where):
    if axis is None:
        return None
    try:
        if isinstance(axis, (tuple, list)):
            return tuple(sorted([_axis_index(a, ndim) for a in axis]))
        return _axis_index(axis, ndim)
    except (TypeError, IndexError, AttributeError):
        raise ValueError(f"{where}: invalid axis {axis!r} for an array of {ndim} "
                         f"dimension(s)") from None


cdef int _axis_index(object a, int ndim) except? -1:
    cdef int i = a.__index__()
    if i < -ndim or i >= ndim:
        raise IndexError(i)
    return i + ndim if i < 0 else i


cdef object _reduce(Primitive p, object a, object axis, bint keepdims):
    return _apply(p, (a,), (_normalize_axis(axis, len(_shape_of(a)), p.name),
                            bool(keepdims)))


cdef dict _METHODS = {}
cdef dict _ATTRIBUTES = {}


cdef object _compare(object ufunc, object a, object b):
    # comparisons: plain boolean arrays of the values, not differentiable, off the tape
    return ufunc(_const(a), _const(b))


@cython.final
@cython.no_gc          # a Tensor references its operands, never its consumers: no cycles
@cython.freelist(64)
cdef class Tensor:
    """An n-dimensional array recorded for differentiation.

    Parameters
    ----------
    data : array_like
        Numbers. float16/32/64 and complex64/128 data keeps its dtype; integers and
        bools become float64 (a Tensor always holds floating-point or complex data);
        object and string data raise ``TypeError``.
    requires_grad : bool, default False
        Record operations on this Tensor so ``backward()`` can reach it.
    dtype : numpy dtype, optional
        Convert the data to this floating or complex dtype.

    Notes
    -----
    Arithmetic (``+ - * / **``, ``@``) takes Tensors, arrays and numbers on either side,
    with numpy broadcasting; numpy functions and ufuncs called on Tensors
    (``np.tanh(t)``, ``np.mean(t)``, ``ndarray @ t``) return Tensors on the tape.
    ``backward()`` (on a one-element Tensor) or ``backward(gradient)`` fills ``.grad`` of
    every leaf that requires gradients, accumulating across calls like PyTorch;
    ``backward(create_graph=True)`` records the sweep, so ``.grad`` can be differentiated
    again. Comparisons (``== != < <= > >=``) give boolean ndarrays, off the tape; a
    Tensor hashes by identity. ``fastgrad.core.make_vjp``/``make_jvp`` hand functions
    Tensors of their own levels (the module docstring of ``fastgrad._tensor``).
    """

    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        global _next_serial
        if isinstance(data, Tensor):
            if (<Tensor>data)._requires_grad and (<Tensor>data)._level > 0:
                raise TypeError("Tensor(): this Tensor is being differentiated by "
                                "make_vjp/make_jvp (grad & co.); a new leaf would cut it "
                                "from that differentiation: use it as it is")
            data = (<Tensor>data)._data
        arr = _float_array(data, "Tensor()")
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f" and dt.kind != "c":
                raise TypeError(f"Tensor(): dtype must be a floating type (or complex), "
                                f"got {dt}")
            arr = arr.astype(dt, copy=False)
        self._data = arr
        self._requires_grad = bool(requires_grad)
        self._serial = _next_serial
        _next_serial += 1

    # ---- attributes -------------------------------------------------------------------

    @property
    def data(self):
        """The values (an ndarray). Settable on leaves, with the same shape."""
        return _const(self._data)

    @data.setter
    def data(self, value):
        if self._prim is not None:
            raise AttributeError(
                f"cannot set .data of a Tensor computed by '{self.op}': its data follows "
                "from its operands. Set .data on the leaves and compute it again.")
        if self._level > 0:
            raise AttributeError("cannot set .data of a Tensor being differentiated by "
                                 "make_vjp/make_jvp")
        arr = _float_array(value.data if isinstance(value, Tensor) else value, "Tensor.data")
        if arr.shape != self._data.shape:
            raise ValueError(f"Tensor.data: new data of shape {arr.shape} does not match "
                             f"the Tensor's shape {self._data.shape}")
        self._data = arr

    @property
    def grad(self):
        """d(root)/d(self) after ``backward()``: None before; accumulates on leaves. A
        Tensor on the tape after ``backward(create_graph=True)``."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if isinstance(value, Tensor) and (<Tensor>value)._requires_grad:
            arr = value
        else:
            arr = _float_array(_const(value), "Tensor.grad")
        if _shape_of(arr) != _shape_of(self):
            raise ValueError(f"Tensor.grad: a gradient of shape {_shape_of(arr)} does not "
                             f"match the Tensor's shape {_shape_of(self)}")
        self._grad = arr

    @property
    def requires_grad(self):
        """Whether operations on this Tensor are recorded for ``backward()``."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._prim is not None or self._level > 0:
            raise AttributeError("requires_grad can only be changed on leaf Tensors; use "
                                 "detach() to cut a computed Tensor from its graph")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self):
        """True unless the Tensor was computed by a recorded operation."""
        return self._prim is None

    @property
    def op(self):
        """The recorded operation: the operator for ``+ - * / ** @``, ``"neg"`` for unary
        minus, else the function's name (``"tanh"``, ``"sum"``, ...); ``""`` for leaves."""
        return "" if self._prim is None else self._prim.op

    @property
    def parents(self):
        """The Tensors this one was computed from, in operand order (constants left out)."""
        if self._parents is None:
            return ()
        return tuple([p for p in self._parents if p is not None])

    @property
    def id(self):
        """Recording-order number: a result always has a larger id than its operands."""
        return self._serial

    @property
    def shape(self):
        return _const(self._data).shape

    @property
    def dtype(self):
        return _const(self._data).dtype

    @property
    def ndim(self):
        return _const(self._data).ndim

    @property
    def size(self):
        return _const(self._data).size

    @property
    def T(self):
        """The transpose (axes reversed)."""
        return _apply(TRANSPOSE, (self,), (None,))

    def __len__(self):
        return len(_const(self._data))

    def __repr__(self):
        body = np.array2string(_const(self._data), separator=", ", prefix="Tensor(")
        extra = ""
        if self.dtype != np.float64:
            extra += f", dtype={self.dtype}"
        if self._prim is not None:
            extra += f", op={self.op!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        if self._level > 0:
            extra += f", level={self._level}"
        return f"Tensor({body}{extra})"

    # ---- conversions ------------------------------------------------------------------

    def detach(self):
        """A leaf sharing this Tensor's data, cut from the graph."""
        return _leaf(_const(self._data))

    def numpy(self):
        """The data as an ndarray (shared, not copied)."""
        return _const(self._data)

    def item(self):
        """The value of a one-element Tensor as a Python float."""
        data = _const(self._data)
        if data.size != 1:
            raise ValueError(f"item(): only one-element Tensors have an item, this one "
                             f"has shape {data.shape}")
        return data.item()

    def __float__(self):
        return float(self.item())

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise TypeError("cannot convert a Tensor that requires grad to an ndarray "
                            "silently: use t.detach().numpy() (or t.numpy())")
        return self._data if dtype is None else self._data.astype(dtype)

    def __reduce__(self):
        if self._prim is not None or self._level > 0:
            raise TypeError("only leaf Tensors can be copied or pickled; use detach()")
        return (_rebuild, (self._data, self._requires_grad, self._grad))

    # ---- backward ---------------------------------------------------------------------

    def backward(self, gradient=None, retain_grads=False, create_graph=False):
        """Reverse sweep: fill ``.grad`` of every leaf this Tensor depends on.

        Parameters
        ----------
        gradient : array_like, optional
            d(loss)/d(self), the seed; required unless the Tensor has one element.
        retain_grads : bool, default False
            Keep the gradient of every recorded (non-leaf) Tensor too, for inspection and
            drawing. By default, as in PyTorch, only leaves keep theirs: each interior
            gradient is dropped as soon as the sweep has passed it on, which saves memory.
        create_graph : bool, default False
            Record the sweep on the tape (as PyTorch's): every ``.grad`` it fills is a
            Tensor that can itself be differentiated (``backward()`` again, or ``grad``).
        """
        if not self._requires_grad:
            raise RuntimeError("backward(): this Tensor does not require grad and was not "
                               "computed from any Tensor that does (requires_grad=True)")
        if self._level > 0:
            raise RuntimeError("backward(): this Tensor is being differentiated by "
                               "make_vjp/make_jvp (grad & co.); return it from the "
                               "function instead")
        cdef object data = self._data
        if gradient is None:
            if data.size != 1:
                raise ValueError(f"backward(): the Tensor has shape {data.shape}; "
                                 "give backward(gradient) with that shape, or reduce it "
                                 "to one element (e.g. .sum()) first")
            seed = (_asarray(1.0, data.dtype) if data.ndim == 0
                    else np.ones(data.shape, data.dtype))
        elif create_graph and isinstance(gradient, Tensor) and (<Tensor>gradient)._requires_grad:
            seed = gradient
            if _shape_of(seed) != data.shape:
                raise ValueError(f"backward(gradient): gradient of shape {_shape_of(seed)} "
                                 f"does not match the Tensor's shape {data.shape}")
        else:
            seed = _float_array(_const(gradient), "backward(gradient)")
            if seed.shape != data.shape:
                raise ValueError(f"backward(gradient): gradient of shape {seed.shape} does "
                                 f"not match the Tensor's shape {data.shape}")
            seed = seed.astype(data.dtype, copy=False)
        if create_graph and not fg_grad_enabled:
            raise RuntimeError("backward(create_graph=True) inside no_grad() cannot record "
                               "the sweep")
        _sweep(self, seed, retain_grads, create_graph)

    # ---- arithmetic -------------------------------------------------------------------

    def __add__(self, other):
        return _apply(ADD, (self, other), None)

    def __radd__(self, other):
        return _apply(ADD, (other, self), None)

    def __sub__(self, other):
        return _apply(SUBTRACT, (self, other), None)

    def __rsub__(self, other):
        return _apply(SUBTRACT, (other, self), None)

    def __mul__(self, other):
        return _apply(MULTIPLY, (self, other), None)

    def __rmul__(self, other):
        return _apply(MULTIPLY, (other, self), None)

    def __truediv__(self, other):
        return _apply(DIVIDE, (self, other), None)

    def __rtruediv__(self, other):
        return _apply(DIVIDE, (other, self), None)

    def __pow__(self, other, modulo=None):
        return _apply(POWER, (self, other), None)

    def __rpow__(self, other, modulo=None):
        return _apply(POWER, (other, self), None)

    def __mod__(self, other):
        # np.remainder's row (fastgrad/ops/elementwise.py), through the dispatch table
        return _UFUNCS[np.remainder](self, other)

    def __rmod__(self, other):
        return _UFUNCS[np.remainder](other, self)

    def __matmul__(self, other):
        return _apply(MATMUL, (self, other), None)

    def __rmatmul__(self, other):
        return _apply(MATMUL, (other, self), None)

    def __neg__(self):
        return _apply(NEGATIVE, (self,), None)

    def __pos__(self):
        return self

    def __abs__(self):
        return _apply(ABSOLUTE, (self,), None)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = _const(index)
        return _apply(GETITEM, (self,), (index,))

    # ---- comparisons: boolean arrays (not differentiable, off the tape) ----------------

    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __hash__(self):
        return object.__hash__(self)

    # ---- elementwise functions ----------------------------------------------------------

    def tanh(self):
        """Hyperbolic tangent; derivative ``1 - tanh(x)**2``."""
        return _apply(TANH, (self,), None)

    def relu(self):
        """``max(x, 0)``; derivative 1 for x > 0, else 0."""
        return _apply(RELU, (self,), None)

    def sigmoid(self):
        """Logistic function, computed without overflow."""
        return _apply(SIGMOID, (self,), None)

    def exp(self):
        """Exponential."""
        return _apply(EXP, (self,), None)

    def log(self):
        """Natural logarithm."""
        return _apply(LOG, (self,), None)

    def sqrt(self):
        """Square root."""
        return _apply(SQRT, (self,), None)

    def abs(self):
        """Absolute value; derivative ``sign(x)``, 0 at 0."""
        return _apply(ABSOLUTE, (self,), None)

    def sin(self):
        """Sine."""
        return _apply(SIN, (self,), None)

    def cos(self):
        """Cosine."""
        return _apply(COS, (self,), None)

    def softmax(self, axis=-1):
        """``exp(x) / sum(exp(x))`` along ``axis``, computed with the max subtracted."""
        return softmax(self, axis)

    def log_softmax(self, axis=-1):
        """``x - logsumexp(x)`` along ``axis``, computed with the max subtracted."""
        return log_softmax(self, axis)

    def clip(self, min=None, max=None):
        """Values limited to [min, max]; the gradient passes where min <= x <= max."""
        return clip(self, min, max)

    # ---- reductions -------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default)."""
        return _reduce(SUM, self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (all axes by default)."""
        return _reduce(MEAN, self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return _reduce(MAX, self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis``; tied minima share the gradient equally."""
        return _reduce(MIN, self, axis, keepdims)

    # ---- shape ------------------------------------------------------------------------

    def reshape(self, *shape):
        """The same data in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def transpose(self, *axes):
        """Axes permuted (reversed by default)."""
        return transpose(self, _axes_arg(axes))

    def swapaxes(self, axis1, axis2):
        """Axes ``axis1`` and ``axis2`` exchanged."""
        return swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        """Axes of length one removed (all of them by default)."""
        return squeeze(self, axis)

    def expand_dims(self, axis):
        """An axis of length one inserted at ``axis``."""
        return expand_dims(self, axis)

    def __getattr__(self, str name):
        # the methods and attributes of rows written in Python (fastgrad/ops/)
        f = _METHODS.get(name)
        if f is not None:
            return _BoundMethod(f, self, name)
        f = _ATTRIBUTES.get(name)
        if f is not None:
            return f(self)
        raise AttributeError(f"'fastgrad.Tensor' object has no attribute {name!r}")

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(_METHODS) | set(_ATTRIBUTES))

    # ---- numpy protocols ----------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__":
            if ufunc in _OFF_TAPE_UFUNCS:
                return ufunc(*[_const(x) for x in inputs], **kwargs)
            fn = _UFUNCS.get(ufunc) if not kwargs else None
            if fn is not None:
                return fn(*inputs)
        what = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise TypeError(f"numpy.{what} is not supported on fastgrad Tensors"
                        + (f" with keyword arguments {sorted(kwargs)}" if kwargs else ""))

    def __array_function__(self, func, types, args, kwargs):
        fn = _FUNCTIONS.get(func)
        if fn is None:
            raise TypeError(f"{_numpy_name(func)} is not supported on fastgrad Tensors")
        return fn(*args, **kwargs)


class _BoundMethod:
    """A method of a row written in Python, bound to a Tensor (``t.cumsum``)."""
    __slots__ = ("__func__", "__self__", "__name__")

    def __init__(self, f, t, name):
        self.__func__ = f
        self.__self__ = t
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self.__func__(self.__self__, *args, **kwargs)

    def __repr__(self):
        return f"<bound method Tensor.{self.__name__}>"


def _rebuild(data, requires_grad, grad):
    t = Tensor(data, requires_grad=requires_grad)
    t._grad = grad
    return t


# --------------------------------------------------------------------------------------
# Functions: the module-level API, and the targets of the numpy dispatch tables
# --------------------------------------------------------------------------------------

def add(a, b):
    """Elementwise ``a + b`` with broadcasting."""
    return _apply(ADD, (a, b), None)

def subtract(a, b):
    """Elementwise ``a - b`` with broadcasting."""
    return _apply(SUBTRACT, (a, b), None)

def multiply(a, b):
    """Elementwise ``a * b`` with broadcasting."""
    return _apply(MULTIPLY, (a, b), None)

def divide(a, b):
    """Elementwise ``a / b`` with broadcasting."""
    return _apply(DIVIDE, (a, b), None)

true_divide = divide

def power(a, b):
    """Elementwise ``a ** b`` with broadcasting."""
    return _apply(POWER, (a, b), None)

def maximum(a, b):
    """Elementwise larger of ``a`` and ``b`` (``np.maximum(z, 0)`` is relu); on a tie each
    side gets half the gradient, as in PyTorch and autograd."""
    return _apply(MAXIMUM, (a, b), None)

def minimum(a, b):
    """Elementwise smaller of ``a`` and ``b``; on a tie each side gets half the gradient."""
    return _apply(MINIMUM, (a, b), None)

def negative(a):
    """Elementwise ``-a``."""
    return _apply(NEGATIVE, (a,), None)

def square(a):
    """Elementwise ``a ** 2``."""
    return _apply(POWER, (a, 2), None)

def tanh(a):
    """Hyperbolic tangent."""
    return _apply(TANH, (a,), None)

def relu(a):
    """``max(a, 0)``; derivative 0 at 0."""
    return _apply(RELU, (a,), None)

def sigmoid(a):
    """Logistic function, computed without overflow."""
    return _apply(SIGMOID, (a,), None)

def exp(a):
    """Exponential."""
    return _apply(EXP, (a,), None)

def log(a):
    """Natural logarithm."""
    return _apply(LOG, (a,), None)

def sqrt(a):
    """Square root."""
    return _apply(SQRT, (a,), None)

def absolute(a):
    """Absolute value; derivative ``sign(a)``, 0 at 0."""
    return _apply(ABSOLUTE, (a,), None)

abs = absolute

def sin(a):
    """Sine."""
    return _apply(SIN, (a,), None)

def cos(a):
    """Cosine."""
    return _apply(COS, (a,), None)

def matmul(a, b):
    """Matrix product (1-D, 2-D and batched, as ``numpy.matmul``)."""
    return _apply(MATMUL, (a, b), None)

def linear(x, weight, bias=None):
    """``x @ weight + bias`` as one op (weight of shape (n_in, n_out), bias (n_out,))."""
    return _apply(LINEAR, (x, weight) if bias is None else (x, weight, bias), None)

def dot(a, b):
    """``numpy.dot``: 1-D and 2-D operands (and numbers) on the compiled matrix product;
    an operand of more than 2 dimensions on the ``dot`` row written in Python
    (``fastgrad/ops/products.py``: the sum over a's last axis and b's second-to-last)."""
    cdef int na = len(_shape_of(a)), nb = len(_shape_of(b))
    if na > 2 or nb > 2:
        return _apply(<Primitive>REGISTRY["dot"], (a, b), None)
    if na == 0 or nb == 0:
        return _apply(MULTIPLY, (a, b), None)
    return _apply(MATMUL, (a, b), None)

cdef dict _BY_OP = {(<Primitive>p).op: p for p in PRIMITIVES}

def unary(str name, x):
    """Apply the elementwise function ``name`` (as ``Tensor.op`` shows it, or
    ``"negative"``) to a Tensor, recorded on the tape."""
    return _apply(_BY_OP.get(name) or REGISTRY[name], (x,), None)

def unary_array(str name, x):
    """Apply the elementwise function ``name`` to an array: the same forward rule."""
    p = _BY_OP.get(name) or REGISTRY[name]
    return (<Primitive>p).cfwd(p, (_float_array(x, name),), None)

def sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Sum over ``axis``."""
    if dtype is not None or out is not None or kwargs:
        _no_extras("sum", dtype=dtype, out=out, **kwargs)
    return _reduce(SUM, a, axis, keepdims)

def mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Mean over ``axis``."""
    if dtype is not None or out is not None or kwargs:
        _no_extras("mean", dtype=dtype, out=out, **kwargs)
    return _reduce(MEAN, a, axis, keepdims)

def max(a, axis=None, out=None, keepdims=False, **kwargs):
    """Maximum over ``axis``."""
    _no_extras("max", out=out, **kwargs)
    return _reduce(MAX, a, axis, keepdims)

def min(a, axis=None, out=None, keepdims=False, **kwargs):
    """Minimum over ``axis``."""
    _no_extras("min", out=out, **kwargs)
    return _reduce(MIN, a, axis, keepdims)

amax = max
amin = min

def reshape(a, shape, *args, **kwargs):
    """The same data in a new shape."""
    if args or kwargs:
        raise TypeError("reshape: only reshape(a, shape) is supported on Tensors")
    if not isinstance(shape, tuple):
        shape = tuple(shape) if isinstance(shape, list) else (shape,)
    return _apply(RESHAPE, (a,), (shape,))

def transpose(a, axes=None):
    """Axes permuted (reversed by default)."""
    return _apply(TRANSPOSE, (a,), (None if axes is None else tuple(axes),))

def swapaxes(a, axis1, axis2):
    """Axes ``axis1`` and ``axis2`` exchanged."""
    cdef int nd = len(_shape_of(a))
    axes = list(range(nd))
    i = _normalize_axis(axis1, nd, "swapaxes")
    j = _normalize_axis(axis2, nd, "swapaxes")
    axes[i], axes[j] = axes[j], axes[i]
    return _apply(TRANSPOSE, (a,), (tuple(axes),))

def squeeze(a, axis=None):
    """Axes of length one removed (all of them by default)."""
    try:
        shape = np.squeeze(np.empty(_shape_of(a), dtype=bool), axis).shape
    except ValueError:
        raise ValueError(f"squeeze: axis {axis} of shape {_shape(a)} does not have "
                         "length 1") from None
    return _apply(RESHAPE, (a,), (shape,))

def expand_dims(a, axis):
    """An axis of length one inserted at ``axis``."""
    shape = np.expand_dims(np.empty(_shape_of(a), dtype=bool), axis).shape
    return _apply(RESHAPE, (a,), (shape,))

def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` (the gradient sums the broadcast axes back)."""
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return _apply(BROADCAST, (a,), (shape,))

cdef object _join(Primitive p, object seq, object axis):
    if isinstance(seq, Tensor) or not hasattr(seq, "__len__") or len(seq) == 0:
        raise ValueError(f"{p.name}: needs a non-empty sequence of arrays or Tensors")
    seq = tuple(seq)
    cdef int nd = len(_shape_of(seq[0])) + (p is STACK)
    return _apply(p, seq, (_normalize_axis(axis, nd, p.name),))

def concatenate(seq, axis=0, **kwargs):
    """Join Tensors (and arrays) along an existing axis."""
    _no_extras("concatenate", **kwargs)
    return _join(CONCATENATE, seq, axis)

def stack(seq, axis=0, **kwargs):
    """Join Tensors (and arrays) along a new axis."""
    _no_extras("stack", **kwargs)
    return _join(STACK, seq, axis)

def where(condition, x, y):
    """Elements of x where condition holds, else of y; gradients flow to the chosen side."""
    return _apply(WHERE, (x, y), (_asarray(_const(condition), dtype=bool),))

def clip(a, a_min=None, a_max=None, **kwargs):
    """Values limited to [a_min, a_max]."""
    _no_extras("clip", **kwargs)
    if a_min is None and a_max is None:
        raise ValueError("clip: give at least one of the bounds")
    return _apply(CLIP, (a,), (_const(a_min), _const(a_max)))

def softmax(x, axis=-1):
    """Softmax along ``axis``."""
    return _apply(SOFTMAX, (x,), (_normalize_axis(axis, len(_shape_of(x)), "softmax"),))

def log_softmax(x, axis=-1):
    """Log-softmax along ``axis``."""
    return _apply(LOG_SOFTMAX, (x,),
                  (_normalize_axis(axis, len(_shape_of(x)), "log_softmax"),))

def mse_loss(prediction, target):
    """Mean squared error ``mean((prediction - target)**2)``; shapes must match."""
    if _shape_of(prediction) != _shape_of(target):
        raise ValueError(f"mse_loss: prediction of shape {_shape(prediction)} and target "
                         f"of shape {_shape(target)} differ")
    return _apply(MSE_LOSS, (_apply(SUBTRACT, (prediction, target), None),), None)

def cross_entropy(logits, target):
    """Mean cross-entropy of ``softmax(logits)`` (shape (batch, classes)) against class
    indices (integers, shape (batch,)) or class probabilities (the logits' shape)."""
    if not isinstance(target, (Tensor, ndarray)):
        target = _asarray(target)
    return _apply(CROSS_ENTROPY, (logits, target), None)

def _no_extras(name, **kwargs):
    bad = sorted(k for k, v in kwargs.items() if v is not None and v is not False)
    if bad:
        raise TypeError(f"{name}: arguments {bad} are not supported on Tensors")


# --------------------------------------------------------------------------------------
# The numpy dispatch tables, generated from the rows' fronts
# --------------------------------------------------------------------------------------

cdef dict _module = globals()

cdef dict _UFUNCS = {getattr(np, u): _module[(<Primitive>p).fronts["function"][0]]
                     for p in PRIMITIVES for u in (<Primitive>p).fronts["ufunc"]}
_UFUNCS[np.square] = square
_UFUNCS[np.positive] = lambda a: a

# comparisons, signs and tests: plain arrays of the values, not differentiable
cdef frozenset _OFF_TAPE_UFUNCS = frozenset([
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.sign, np.isfinite, np.isnan, np.isinf, np.floor, np.ceil, np.rint, np.trunc,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.signbit])

cdef dict _FUNCTIONS = {getattr(np, f): _module[f]
                        for p in PRIMITIVES for f in (<Primitive>p).fronts["function"]
                        if hasattr(np, f)}
_FUNCTIONS.update({
    np.dot: dot, np.square: square,
    # shape queries and non-differentiable results
    np.shape: lambda a: _shape_of(a), np.ndim: lambda a: len(_shape_of(a)),
    np.size: lambda a, axis=None: np.size(_const(a), axis),
    np.argmax: lambda a, axis=None, **kw: np.argmax(_const(a), axis, **kw),
    np.argmin: lambda a, axis=None, **kw: np.argmin(_const(a), axis, **kw),
})

#: numpy function -> the function numpy's dispatch calls on Tensors (this module's, and
#: the rows written in Python add theirs: ``define``/``expose``)
FUNCTIONS = _FUNCTIONS
#: numpy ufunc -> the function ``__array_ufunc__`` calls on Tensors
UFUNCS = _UFUNCS
#: Tensor method name -> function(tensor, *args, **kwargs): the methods of the rows
#: written in Python (``Tensor.__getattr__`` finds them; the compiled rows' are written
#: out in the class)
METHODS = _METHODS
#: Tensor attribute name -> function(tensor): attributes of those rows (``real``, ...)
ATTRIBUTES = _ATTRIBUTES


# --------------------------------------------------------------------------------------
# Rows written in Python (fastgrad/ops/): the same registry, the same dispatch tables
# --------------------------------------------------------------------------------------

cdef str _numpy_name(object func):
    """numpy's public name of a function: ``numpy.linalg.norm``, not ``numpy.norm``."""
    module = getattr(func, "__module__", None) or "numpy"
    parts = [p for p in module.split(".") if not p.startswith("_")]
    if not parts or parts[0] != "numpy":
        parts = ["numpy"]
    return ".".join(parts + [func.__name__])


cdef object _numpy_attr(str dotted):
    obj = np
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def expose(fn, functions=(), ufuncs=(), methods=(), attributes=()):
    """Make ``fn`` what numpy's dispatch calls on Tensors for the numpy ``functions``
    (dotted names below numpy: ``"linalg.inv"``) and ``ufuncs``, and the Tensor
    ``methods`` (called as ``fn(tensor, *args, **kwargs)``) and ``attributes``
    (``fn(tensor)``). A name numpy does not have is skipped (older numpy). Returns fn."""
    for name in functions:
        f = _numpy_attr(name)
        if f is not None:
            _FUNCTIONS[f] = fn
    for name in ufuncs:
        u = _numpy_attr(name)
        if u is not None:
            _UFUNCS[u] = fn
    for name in methods:
        _METHODS[name] = fn
    for name in attributes:
        _ATTRIBUTES[name] = fn
    return fn


def define(str name, fwd, vjps, jvps, *, str op=None, functions=(), ufuncs=(), methods=(),
           attributes=(), front=None):
    """Register a built-in row written in Python; returns the row (a callable).

    ``fwd(*args, **params)`` computes the value on plain ndarrays and numbers; ``vjps[k]``
    is ``vjp(g, ans, *args, **params)``, operand k's cotangent (broadcasting is undone
    by the engine), and ``jvps[k]`` is ``jvp(t, ans, *args, **params)``, the result's
    tangent when operand k moves by ``t`` (broadcastable to the result); ``None``: that
    operand is not differentiable; the last rule serves the remaining operands. Rules
    are written with numpy functions and operators, which dispatch on Tensors, so they
    differentiate again. Positional arguments may be Tensors; keyword arguments are
    parameters. ``front`` (default: the row) is what the named front ends call."""
    global OP_NAMES
    if name in REGISTRY:
        raise ValueError(f"define: a row named {name!r} exists already")
    cdef Primitive p = Primitive.__new__(Primitive)
    p.name = name
    p.op = op or name
    p.nargs = -1
    p.saves = ALL
    p.python = True
    p.pyfwd = fwd
    p.pyvjp = tuple(vjps)
    p.pyjvp = tuple(jvps)
    if len(p.pyvjp) == 0 or len(p.pyvjp) != len(p.pyjvp):
        raise ValueError(f"define {name!r}: give one VJP and one JVP rule per operand")
    p.fronts = _F(tuple(methods) + tuple(attributes), tuple(ufuncs), tuple(functions))
    REGISTRY[name] = p
    PRIMITIVES.append(p)
    OP_NAMES = OP_NAMES + (p.op,)
    expose(p if front is None else front, functions, ufuncs, methods, attributes)
    return p


cdef object _deep_const(object x):
    if type(x) is Tensor:
        return _const(x)
    if type(x) is list or type(x) is tuple:
        return type(x)([_deep_const(v) for v in x])
    return x


def constant_function(f):
    """``f`` on the values under any Tensors (no gradient flows through it: argmax,
    floor, allclose, ...), as autograd's non-differentiable functions."""
    def on_values(*args, **kwargs):
        return f(*[_deep_const(a) for a in args],
                 **{k: _deep_const(v) for k, v in kwargs.items()})
    on_values.__name__ = on_values.__qualname__ = getattr(f, "__name__", "function")
    on_values.__doc__ = (f"``{getattr(f, '__name__', f)}`` on the values of Tensors: "
                         "not differentiable, the result is a constant.")
    return on_values
