"""A pure-Python scalar engine with the API and the numbers of the compiled one.

``fastgrad.reference.Value`` behaves like ``fastgrad.Value`` (same constructor, operators,
methods, properties, errors, ``repr``, sweep semantics and, operation for operation, the
same floating-point results), but is written in plain Python. It serves two purposes:

* **the baseline** the compiled core is benchmarked against, so it is written to be as fast
  as pure Python allows, not as a strawman;
* **an oracle** for tests: every rule is a few lines of Python that can be read next to
  the compiled rule in ``src_cython/fastgrad/_scalar.pyx``.

Design
------
Nodes
    Each ``Value`` is a node with ``__slots__``: the forward value, the gradient, up to
    two parent nodes with the local partial derivative with respect to each, the op's row
    in the op table, a label and a serial number drawn from one module-level
    ``itertools.count()`` in recording order. The partials are computed in the forward
    pass, by the op's rule, exactly as the compiled tape does; the reverse sweep therefore
    has no per-op code: ``parent.grad += node.grad * partial``.
An op with a constant
    ``x * 3``, ``3 - x``, ``x ** 2``, ``2 ** x``, ... keep the constant and only their Value
    operand as a parent (the compiled ``OP_ADDK .. OP_RPOWK``): ``(x * 3).parents`` is
    ``(x,)``, ``.constant`` is ``3.0``. The constant sits in the second partial's slot.
The op table
    ``OPS`` holds one row per op: its key (the compiled engine's key for the same op,
    e.g. ``"rsubk"`` for ``k - x``), the name that ``Value.op`` shows, the method name
    (``"tanh"``; None for operators), its arity and its *rule*, a function returning the
    value and the partial(s) side by side. Every row with a method name becomes a method
    of ``Value``, so adding an op is one rule and one row (and the compiled row of the
    same key: ``tests/test_ops.py`` checks that the two tables agree). The compiled
    engine's guard rows (comparisons) have no counterpart here: the reference engine
    compares ``.data`` and records nothing.
No closures, no cycles
    A node holds references to its parents only, never to its children nor to a closure
    that captures them, so the graph has no reference cycle: CPython's reference counting
    frees a dropped graph at once (a micrograd-style training loop runs in flat memory
    with no reset call), and the cyclic collector never has anything to find. Dropping a
    very deep graph does not overflow the C stack: CPython's deallocator unwinds long
    chains of container objects iteratively ("trashcan").
Reverse sweep
    ``backward()`` first gathers the interior nodes reachable from the root with an
    explicit worklist (never recursion, so a chain of a million nodes is fine), resetting
    their gradients as it goes, then sorts them by serial number, descending. A child is
    always recorded after its parents, so that is a reverse topological order, and it is
    the order of the compiled tape's rows: every gradient is a sum of the same terms
    added in the same order. One pass then pushes each node's gradient to its parents,
    with separate branches for nodes with one and with two parents.

    Two details keep the gather cheap. A gathered node is marked by the zero its gradient
    is reset to: a float object made for this sweep alone, recognised with ``is``, so no
    set of visited nodes is hashed into. And the gather notes whether the nodes came in
    descending serial order already (they do in chains); if so the sort is skipped.

Sweep semantics
---------------
As in the compiled engine: leaves (``op == ""``) accumulate into ``.grad`` across
``backward()`` calls until set to zero (``v.grad = 0``); interior nodes reached by a sweep
have their gradient reset first, so they show the adjoint of the latest sweep that reached
them; nodes outside the graph are untouched. An interior root's gradient is set to the
seed, a leaf root's gradient is increased by it.

Floating point
--------------
Results follow IEEE 754 and C's ``libm``, never Python exceptions: ``log(-1)`` is nan,
``log(0)`` is -inf, ``1 / 0`` is inf (with the sign IEEE gives it), ``0 / 0`` is nan,
``exp(1000)`` is inf, ``(-8) ** (1/3)`` is nan (not complex), ``0 ** -1`` is inf, and
``backward()`` still runs. The ``math`` functions call the same ``libm`` as the compiled
core; only the cases where Python raises instead of returning inf or nan are caught and
answered by hand. Each rule uses the compiled rule's formulas in the same order, so the
values and partials are bit for bit those of the compiled engine, and so are gradients
(the sweep adds the same products in the same order). Derivative conventions are
PyTorch's: ``relu'(0) = 0``, ``abs'(0) = 0``, ``d(x**k)/dx = 0`` for ``k == 0``,
``d(x**y)/dy = 0`` for ``x == 0, y >= 0``.

Notes
-----
Values of this engine and of the compiled engine cannot be mixed in one expression: doing
so raises ``TypeError``. Both carry a class attribute ``_fastgrad_engine`` (``"reference"``
here, ``"compiled"`` there) that tells them apart.

Nodes are allocated with ``object.__new__`` and filled slot by slot, which is the
cheapest way CPython offers to make an object without running ``__init__``. The node code
is therefore written out in each generated method rather than in a helper: a Python call
costs as much as filling half the slots. ``Value(...)`` does its work in ``__new__``, so
calling ``__init__`` again is a harmless no-op (the compiled ``Value`` raises
``RuntimeError``).

Speed, relative to the compiled engine: a node costs about a Python call for the method,
one for the rule, an allocation and nine slot stores to record, about ten times the
compiled cost; the sweep costs a few attribute loads and two float allocations per edge,
about thirty times the compiled cost. Pure-Python nodes are also tracked by the cyclic
garbage collector (every instance of a class defined in Python is), which finds nothing
here but, with ``gc`` enabled, makes recording a graph of a million nodes two to three
times slower; ``timeit`` turns ``gc`` off while it times.

Concurrent ``backward()`` calls from several threads on graphs that share nodes race (as
in any pure-Python engine); the compiled engine's sweep holds the GIL throughout.

See Also
--------
fastgrad.Value : the compiled engine.

Examples
--------
>>> from fastgrad.reference import Value
>>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
>>> L = (a * b + 10) * -2.0
>>> L.backward()
>>> a.grad, b.grad
(6.0, -4.0)
"""
import itertools
import math
import numbers
from operator import attrgetter

__all__ = ["Value", "OpRow", "OPS", "OP_NAMES", "UNARY_OPS", "apply_unary"]

_inf = math.inf
_nan = math.nan
_copysign = math.copysign
_fmod = math.fmod
_m_pow = math.pow
_m_log = math.log
_m_exp = math.exp
_m_tanh = math.tanh
_m_sin = math.sin
_m_cos = math.cos
_m_sqrt = math.sqrt


# --------------------------------------------------------------------------------------
# IEEE arithmetic where Python raises. Each helper is reached only in the case Python
# refuses (division by zero, a math domain error, an overflow) and returns what C does.
# --------------------------------------------------------------------------------------

def _div0(a, b):
    """``a / b`` for ``b == 0`` (either sign), as IEEE 754 defines it."""
    if a != a or a == 0.0:
        return _nan
    return _copysign(_inf, a) * _copysign(1.0, b)


def _fdiv(a, b):
    """``a / b`` with IEEE results for a zero divisor."""
    try:
        return a / b
    except ZeroDivisionError:
        return _div0(a, b)


def _odd_integer(y):
    return _fmod(y, 2.0) in (1.0, -1.0)


def _libm_pow(x, y):
    """C's ``pow(x, y)``: nan for a negative base and a non-integer exponent, inf for
    ``0 ** negative`` and for overflow (signed when an odd power of a negative base)."""
    try:
        return _m_pow(x, y)
    except ValueError:          # 0 ** negative, or negative ** non-integer
        if x == 0.0:
            return _copysign(_inf, x) if _odd_integer(y) else _inf
        return _nan
    except OverflowError:
        return -_inf if (x < 0.0 and _odd_integer(y)) else _inf


def _libm_log(x):
    """C's ``log(x)``: -inf at 0, nan below 0."""
    if x > 0.0:
        return _m_log(x)
    return -_inf if x == 0.0 else _nan


def _libm_exp(x):
    """C's ``exp(x)``: inf on overflow."""
    try:
        return _m_exp(x)
    except OverflowError:
        return _inf


# --------------------------------------------------------------------------------------
# The op table: one rule per op, forward value and local partials side by side.
#
# A rule takes floats and returns the value followed by the partial(s):
#   two Value operands       rule(x, y) -> (value, d/dx, d/dy)
#   a Value and a constant   rule(x, k) -> (value, d/dx)
#   one Value                rule(x)    -> (value, d/dx)
# Codes and names are those of the compiled engine (src_cython/fastgrad/_scalar.pxd).
# --------------------------------------------------------------------------------------

class OpRow:
    """One row of the op table.

    Attributes
    ----------
    code : int
        The op code (the row's index in ``OPS``).
    key : str
        Unique name of the op, the compiled engine's key for it (``"rsubk"``).
    name : str
        What ``Value.op`` shows (``""`` for a leaf).
    method : str or None
        The name of the ``Value`` method made from the row (None for operators).
    arity : int
        0 for a leaf, 1 for one Value operand (possibly with a constant), 2 for two.
    constant : bool
        True when the op combines its Value operand with a number (``x * 3``).
    rule : callable or None
        Returns the value and the local partial(s): ``rule(x, y) -> (value, d/dx,
        d/dy)`` for two Values, ``rule(x, k) -> (value, d/dx)`` for a Value and a
        constant, ``rule(x) -> (value, d/dx)`` for one Value.
    doc : str
        One line for the method's docstring (unary ops).
    """

    __slots__ = ("code", "key", "name", "method", "arity", "constant", "rule", "doc")

    def __init__(self, code, key, name, method, arity, constant, rule, doc=""):
        self.code = code
        self.key = key
        self.name = name
        self.method = method
        self.arity = arity
        self.constant = constant
        self.rule = rule
        self.doc = doc

    def __repr__(self):
        return f"OpRow({self.code}, {self.key!r}, {self.name!r}, arity={self.arity})"


_rows: list[OpRow] = []


def _row(key, name, arity, rule, constant=False, method=None, doc=""):
    # Append a row; return its op code.
    _rows.append(OpRow(len(_rows), key, name, method, arity, constant, rule, doc))
    return len(_rows) - 1


OP_LEAF = _row("leaf", "", 0, None)

# ---- two Value operands --------------------------------------------------------------

def _add(x, y):
    return x + y, 1.0, 1.0
OP_ADD = _row("add", "+", 2, _add)


def _sub(x, y):
    return x - y, 1.0, -1.0
OP_SUB = _row("sub", "-", 2, _sub)


def _mul(x, y):
    return x * y, y, x
OP_MUL = _row("mul", "*", 2, _mul)


def _div(x, y):
    try:
        return x / y, 1.0 / y, -x / (y * y)
    except ZeroDivisionError:           # y (or y * y) is zero: IEEE inf or nan
        return _fdiv(x, y), _fdiv(1.0, y), _fdiv(-x, y * y)
OP_DIV = _row("div", "/", 2, _div)


def _dpow_base(x, y):
    # d(x**y)/dx; PyTorch's convention: 0 when the exponent is 0 (no 0 * inf at x = 0)
    return 0.0 if y == 0.0 else y * _libm_pow(x, y - 1.0)


def _pow(x, y):
    v = _libm_pow(x, y)
    return v, _dpow_base(x, y), (0.0 if (x == 0.0 and y >= 0.0) else v * _libm_log(x))
OP_POW = _row("pow", "**", 2, _pow)

# ---- one Value operand x and a constant k ----------------------------------------------

def _addk(x, k):
    return x + k, 1.0
OP_ADDK = _row("addk", "+", 1, _addk, constant=True)


def _subk(x, k):
    return x - k, 1.0
OP_SUBK = _row("subk", "-", 1, _subk, constant=True)


def _rsubk(x, k):
    return k - x, -1.0
OP_RSUBK = _row("rsubk", "-", 1, _rsubk, constant=True)


def _mulk(x, k):
    return x * k, k
OP_MULK = _row("mulk", "*", 1, _mulk, constant=True)


def _divk(x, k):
    try:
        return x / k, 1.0 / k
    except ZeroDivisionError:
        return _div0(x, k), _div0(1.0, k)
OP_DIVK = _row("divk", "/", 1, _divk, constant=True)


def _rdivk(x, k):
    try:
        return k / x, -k / (x * x)
    except ZeroDivisionError:
        return _fdiv(k, x), _fdiv(-k, x * x)
OP_RDIVK = _row("rdivk", "/", 1, _rdivk, constant=True)


def _powk(x, k):
    return _libm_pow(x, k), _dpow_base(x, k)
OP_POWK = _row("powk", "**", 1, _powk, constant=True)


def _rpowk(x, k):
    v = _libm_pow(k, x)
    return v, (0.0 if (k == 0.0 and x >= 0.0) else v * _libm_log(k))
OP_RPOWK = _row("rpowk", "**", 1, _rpowk, constant=True)

# ---- one Value operand -----------------------------------------------------------------

def _neg(x):
    return -x, -1.0
OP_NEG = _row("neg", "neg", 1, _neg)


def _tanh(x):
    t = _m_tanh(x)
    return t, 1.0 - t * t       # never cosh(x)**-2, which overflows for |x| > 710
_row("tanh", "tanh", 1, _tanh, method="tanh",
               doc="Hyperbolic tangent; derivative ``1 - tanh(x)**2``.")


def _relu(x):
    # relu'(0) = 0, as PyTorch; nan stays nan
    return (0.0 if x <= 0.0 else x), (1.0 if x > 0.0 else 0.0)
_row("relu", "relu", 1, _relu, method="relu",
               doc="``max(x, 0)``; derivative 1 for x > 0, else 0.")


def _sigmoid(x):
    if x >= 0.0:                # exp of a non-positive number never overflows
        s = 1.0 / (1.0 + _m_exp(-x))
    else:
        e = _m_exp(x)
        s = e / (1.0 + e)
    return s, s * (1.0 - s)
_row("sigmoid", "sigmoid", 1, _sigmoid, method="sigmoid",
                  doc="Logistic function ``1 / (1 + exp(-x))``, computed without overflow.")


def _exp(x):
    e = _libm_exp(x)
    return e, e
_row("exp", "exp", 1, _exp, method="exp", doc="Exponential (inf on overflow).")


def _log(x):
    if x > 0.0:
        return _m_log(x), 1.0 / x
    if x == 0.0:
        return -_inf, _copysign(_inf, x)
    return _nan, 1.0 / x        # x < 0 or nan
_row("log", "log", 1, _log, method="log", doc="Natural logarithm (nan below 0, -inf at 0).")


def _sin(x):
    try:
        return _m_sin(x), _m_cos(x)
    except ValueError:          # x is infinite
        return _nan, _nan
_row("sin", "sin", 1, _sin, method="sin", doc="Sine.")


def _cos(x):
    try:
        return _m_cos(x), -_m_sin(x)
    except ValueError:          # x is infinite
        return _nan, _nan
_row("cos", "cos", 1, _cos, method="cos", doc="Cosine.")


def _sqrt(x):
    if x >= 0.0:                # -0.0 and inf included
        s = _m_sqrt(x)
        try:
            return s, 0.5 / s
        except ZeroDivisionError:
            return s, _copysign(_inf, s)
    return _nan, _nan           # x < 0 or nan
_row("sqrt", "sqrt", 1, _sqrt, method="sqrt", doc="Square root (nan below 0).")


def _abs(x):
    # abs'(0) = 0, as PyTorch
    return abs(x), (1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0))
OP_ABS = _row("abs", "abs", 1, _abs, method="abs", doc="Absolute value; derivative ``sign(x)``, 0 at 0.")


#: The op table, indexed by op code.
OPS = tuple(_rows)
_LEAF_ROW = OPS[OP_LEAF]

#: ``Value.op`` for each op code (equal to the compiled engine's ``OP_NAMES``).
OP_NAMES = tuple(row.name for row in OPS)

#: The elementwise functions of one Value: method name -> op code (as the compiled one).
UNARY_OPS = {row.method: row.code for row in OPS if row.method and row.arity == 1}


def apply_unary(name, x):
    """Evaluate the rule of the unary op ``name`` on a float.

    Parameters
    ----------
    name : str
        A key of ``UNARY_OPS`` (``"tanh"``, ``"log"``, ...).
    x : float

    Returns
    -------
    tuple of float
        ``(value, derivative)``, as ``fastgrad._scalar.apply_unary`` returns them.
    """
    return OPS[UNARY_OPS[name]].rule(float(x))


# --------------------------------------------------------------------------------------
# Argument checks (the messages are the compiled engine's)
# --------------------------------------------------------------------------------------

def _describe(x):
    r = repr(x)
    if len(r) > 40:
        r = r[:37] + "..."
    return f"{type(x).__name__} ({r})"


def _real(x, where):
    """``x`` as a float, or TypeError naming its type. Accepts int, float, bool, numpy reals."""
    if type(x) is float:
        return x
    if isinstance(x, (int, float)) or isinstance(x, numbers.Real):
        return float(x)
    engine = getattr(type(x), "_fastgrad_engine", None)
    if engine is not None and engine != "reference":
        raise TypeError(f"{where} takes a real number, got a {type(x).__module__}."
                        f"{type(x).__qualname__} of the {engine!r} engine: Values of "
                        "different engines cannot be combined (pass float(v) for its number)")
    if isinstance(x, numbers.Complex):
        raise TypeError(f"{where} takes a real number, got {_describe(x)}: "
                        "fastgrad differentiates real-valued functions only")
    raise TypeError(f"{where} takes a real number (int, float or numpy real), "
                    f"got {_describe(x)}")


def _constant(other, symbol):
    """``other`` as a float if it is a real number, else None; TypeError for a Value of
    another engine."""
    if isinstance(other, (int, float)) or isinstance(other, numbers.Real):
        return float(other)
    engine = getattr(type(other), "_fastgrad_engine", None)
    if engine is not None and engine != "reference":
        raise TypeError(
            f"cannot combine a fastgrad.reference.Value with a {type(other).__module__}."
            f"{type(other).__qualname__} in '{symbol}': they belong to different engines "
            f"('reference' and {engine!r}); build the whole expression with one of them")
    return None


# --------------------------------------------------------------------------------------
# Methods, generated from the op table. Each builds one node: the rule gives the value and
# the partials, the slots are filled in place (no __init__ call), the serial is taken last.
# --------------------------------------------------------------------------------------

_new = object.__new__
_serial = itertools.count(1).__next__


def _binary_method(code_vv, code_vk, name):
    op_vv = OPS[code_vv]
    op_vk = OPS[code_vk]
    rule_vv = op_vv.rule
    rule_vk = op_vk.rule
    symbol = op_vv.name

    def method(self, other):
        if type(other) is Value:
            v, dx, dy = rule_vv(self._data, other._data)
            n = _new(Value)
            n._data = v
            n._grad = 0.0
            n._p0 = self
            n._d0 = dx
            n._p1 = other
            n._d1 = dy
            n._op = op_vv
            n._label = ""
            n._serial = _serial()
            return n
        if type(other) is float:
            k = other
        elif type(other) is int:
            k = float(other)
        else:
            k = _constant(other, symbol)
            if k is None:
                return NotImplemented
        v, dx = rule_vk(self._data, k)
        n = _new(Value)
        n._data = v
        n._grad = 0.0
        n._p0 = self
        n._d0 = dx
        n._p1 = None
        n._d1 = k
        n._op = op_vk
        n._label = ""
        n._serial = _serial()
        return n

    method.__name__ = name
    method.__qualname__ = "Value." + name
    return method


def _reflected_method(code_kv, name):
    op_kv = OPS[code_kv]
    rule = op_kv.rule
    symbol = op_kv.name

    def method(self, other):
        if type(other) is float:
            k = other
        elif type(other) is int:
            k = float(other)
        else:
            k = _constant(other, symbol)
            if k is None:
                return NotImplemented
        v, dx = rule(self._data, k)
        n = _new(Value)
        n._data = v
        n._grad = 0.0
        n._p0 = self
        n._d0 = dx
        n._p1 = None
        n._d1 = k
        n._op = op_kv
        n._label = ""
        n._serial = _serial()
        return n

    method.__name__ = name
    method.__qualname__ = "Value." + name
    return method


def _unary_method(code, name=None, doc=None):
    op = OPS[code]
    rule = op.rule
    name = name or op.method

    def method(self):
        v, dx = rule(self._data)
        n = _new(Value)
        n._data = v
        n._grad = 0.0
        n._p0 = self
        n._d0 = dx
        n._p1 = None
        n._d1 = 0.0
        n._op = op
        n._label = ""
        n._serial = _serial()
        return n

    method.__name__ = name
    method.__qualname__ = "Value." + name
    method.__doc__ = doc if doc is not None else op.doc
    return method


def _power_method(binary):
    # pow(x, y, modulo) is not a differentiable operation
    def method(self, other, modulo=None):
        if modulo is not None:
            return NotImplemented
        return binary(self, other)

    method.__name__ = binary.__name__
    method.__qualname__ = binary.__qualname__
    return method


_by_serial = attrgetter("_serial")


class _Zero(float):
    """A zero float with an identity of its own (see ``_fresh_zero``)."""

    __slots__ = ()


# The sweep marks the nodes it gathers by storing in their `_grad` a zero made for that
# sweep alone, and tests `is`. In CPython `float(0)` makes a new object each time, and an
# object's identity is unique while it lives, so no node holds this zero unless the sweep
# put it there. (Every node it gathers receives a contribution, which replaces the zero,
# before the sweep ends.) Where equal floats may be one object (PyPy's `is` compares floats
# by value), a float subclass keeps its identity; CPython takes the exact float, for
# which `+=` has a fast path.
_fresh_zero = float if float(0) is not float(0) else _Zero


def _data_of(other):
    if type(other) is Value:
        return other._data
    if type(other) is float:
        return other
    return _real(other, "comparison with a Value")


# --------------------------------------------------------------------------------------
# The Value node
# --------------------------------------------------------------------------------------

class Value:
    """A scalar node of a pure-Python computation graph, with its gradient.

    The reference twin of ``fastgrad.Value``: same API, same results.

    Parameters
    ----------
    data : int, float or numpy real
        The value. Anything else (str, None, complex, ...) raises ``TypeError``.
    label : str, optional
        A name for printing and drawing.

    Attributes
    ----------
    data : float
        The forward value (settable on leaves only).
    grad : float
        d(root)/d(self) from ``backward()``; accumulates on leaves, settable.
    label : str
    op : str
        ``""`` for a leaf, else ``"+"``, ``"-"``, ``"*"``, ``"/"``, ``"**"``, ``"neg"``,
        ``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"exp"``, ``"log"``, ``"sin"``, ``"cos"``,
        ``"sqrt"`` or ``"abs"``.
    is_leaf : bool
    constant : float or None
        The number in ops such as ``x * 3``.
    parents : tuple of Value

    Notes
    -----
    ``+ - * / **`` combine Values with Values or numbers on either side; unary ``-``;
    ``tanh relu sigmoid exp log sin cos sqrt abs`` are methods. ``backward()`` sets the
    gradient of every Value the result depends on: leaves accumulate across calls until
    set to zero (``v.grad = 0``), interior nodes show the latest sweep's adjoint.
    Derivative conventions follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``. Domain
    errors follow IEEE: ``log(-1)`` is nan, ``1 / 0`` is inf, and backward still runs.

    Ordering comparisons (``< <= > >=``) compare ``.data``; ``==`` and ``hash`` are by
    identity, so Values can be dict keys and set members.

    Examples
    --------
    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> L = (a * b + 10) * -2.0
    >>> L.backward()
    >>> a.grad, b.grad
    (6.0, -4.0)
    """

    __slots__ = (
        "_data",    # forward value (float)
        "_grad",    # adjoint: accumulated on leaves, latest sweep's on interior nodes
        "_p0",      # first parent (None for leaves)
        "_d0",      # d _data / d _p0._data, computed in the forward pass
        "_p1",      # second parent (None for leaves and one-operand ops)
        "_d1",      # d _data / d _p1._data; for ops with a constant, the constant
        "_op",      # the op's OpRow
        "_label",   # str, for printing and drawing
        "_serial",  # recording order: parents have smaller serials than their children
    )

    __array_ufunc__ = None          # numpy defers to our reflected operators
    _fastgrad_engine = "reference"

    def __new__(cls, data, label=""):
        # All the work is done here rather than in __init__, so that calling __init__
        # again cannot turn a node back into a leaf.
        x = data if type(data) is float else _real(data, "Value()")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {_describe(label)}")
        self = _new(cls)
        self._data = x
        self._grad = 0.0
        self._p0 = None
        self._d0 = 0.0
        self._p1 = None
        self._d1 = 0.0
        self._op = _LEAF_ROW
        self._label = label
        self._serial = _serial()
        return self

    def __init_subclass__(cls, **kwargs):
        # The operators test `type(other) is Value`, as the compiled Value is final.
        raise TypeError("type 'fastgrad.reference.Value' is not an acceptable base type")

    # ---- attributes -------------------------------------------------------------------

    @property
    def data(self):
        """The forward value (settable on leaves only)."""
        return self._data

    @data.setter
    def data(self, value):
        x = value if type(value) is float else _real(value, "Value.data")
        if self._p0 is not None:
            raise AttributeError(
                f"cannot set .data of a Value computed by '{self._op.name}': its data "
                "follows from its parents. Set .data on the leaves and compute it again.")
        self._data = x

    @property
    def grad(self):
        """d(root)/d(self) from ``backward()``; accumulates on leaves, settable."""
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value if type(value) is float else _real(value, "Value.grad")

    @property
    def label(self):
        """A name for printing and drawing."""
        return self._label

    @label.setter
    def label(self, value):
        if not isinstance(value, str):
            raise TypeError(f"Value label must be a str, got {_describe(value)}")
        self._label = value

    @property
    def op(self):
        """The operation that produced this Value: ``"+"``, ``"tanh"``, ...; ``""`` for a leaf."""
        return self._op.name

    @property
    def is_leaf(self):
        """True for a Value made by ``Value(...)`` rather than by an operation."""
        return self._p0 is None

    @property
    def id(self):
        """Recording order: a result always has a larger id than its operands."""
        return self._serial

    @property
    def constant(self):
        """The number in ops such as ``x * 3`` (None for other Values)."""
        return self._d1 if self._op.constant else None

    @property
    def parents(self):
        """The Values this one was computed from (a tuple; empty for leaves)."""
        if self._p0 is None:
            return ()
        if self._p1 is None:
            return (self._p0,)
        return (self._p0, self._p1)

    # ---- the reverse sweep ------------------------------------------------------------

    def backward(self, gradient=1.0):
        """Reverse sweep: set ``.grad`` on every Value this one depends on.

        Parameters
        ----------
        gradient : float, default 1.0
            d(loss)/d(self), the seed of the sweep.

        Notes
        -----
        Leaves accumulate into ``.grad`` across calls; interior nodes reached by this
        sweep show its adjoint; Values outside the graph are left alone. Iterative: the
        depth of the graph is limited by memory only.
        """
        seed = gradient if type(gradient) is float else _real(gradient, "backward(gradient)")
        if self._p0 is None:
            self._grad += seed
            return
        # Gather the interior nodes reachable from the root. Each one gets its adjoint
        # reset to `zero`, a float object made for this sweep alone, which also marks it
        # as gathered (`is`, no set). `nodes` is its own worklist: iterating over a list
        # visits the items appended during the iteration. While the nodes come in
        # descending serial order (true of chains), `last` is the latest serial; it
        # becomes None, and the list is sorted, as soon as they do not.
        zero = _fresh_zero(0)     # from an int: float(0.0) would return the constant itself
        self._grad = zero
        nodes = [self]
        gather = nodes.append
        last = self._serial
        for n in nodes:
            p = n._p0
            if p._p0 is not None and p._grad is not zero:
                p._grad = zero
                gather(p)
                if last is not None:
                    s = p._serial
                    last = s if s < last else None
            p = n._p1
            if p is not None and p._p0 is not None and p._grad is not zero:
                p._grad = zero
                gather(p)
                if last is not None:
                    s = p._serial
                    last = s if s < last else None
        # Children are recorded after their parents: descending serials are a reverse
        # topological order, and the order of the compiled tape's rows (so the sums
        # below add the same terms in the same order).
        if last is None:
            nodes.sort(key=_by_serial, reverse=True)
        self._grad = seed
        for n in nodes:
            if n._p1 is None:                       # one parent
                n._p0._grad += n._grad * n._d0
            else:                                   # two parents
                g = n._grad
                n._p0._grad += g * n._d0
                n._p1._grad += g * n._d1

    # ---- printing and conversion ------------------------------------------------------

    def __repr__(self):
        parts = [f"data={self._data!r}", f"grad={self._grad!r}"]
        if self._p0 is not None:
            parts.append(f"op={self._op.name!r}")
        if self._label:
            parts.append(f"label={self._label!r}")
        return f"Value({', '.join(parts)})"

    def __float__(self):
        return self._data

    def __reduce__(self):
        # copy.copy, copy.deepcopy and pickle all come here
        raise TypeError("a fastgrad.reference.Value cannot be copied or pickled: it is a node "
                        "of a graph. Make a new leaf with Value(v.data), or save floats.")

    # ---- arithmetic -------------------------------------------------------------------

    __add__ = _binary_method(OP_ADD, OP_ADDK, "__add__")
    __radd__ = _reflected_method(OP_ADDK, "__radd__")
    __sub__ = _binary_method(OP_SUB, OP_SUBK, "__sub__")
    __rsub__ = _reflected_method(OP_RSUBK, "__rsub__")
    __mul__ = _binary_method(OP_MUL, OP_MULK, "__mul__")
    __rmul__ = _reflected_method(OP_MULK, "__rmul__")
    __truediv__ = _binary_method(OP_DIV, OP_DIVK, "__truediv__")
    __rtruediv__ = _reflected_method(OP_RDIVK, "__rtruediv__")
    __pow__ = _power_method(_binary_method(OP_POW, OP_POWK, "__pow__"))
    __rpow__ = _power_method(_reflected_method(OP_RPOWK, "__rpow__"))
    __neg__ = _unary_method(OP_NEG, "__neg__", "``-x``.")
    __abs__ = _unary_method(OP_ABS, "__abs__")      # abs(x); x.abs() comes from the table

    def __pos__(self):
        return self

    # ---- elementwise functions: tanh, relu, ... are added from the op table below ----

    # ---- identity equality, ordering on .data --------------------------------------------

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__      # the C slot itself: sets and dicts pay no Python call

    def __lt__(self, other):
        return self._data < _data_of(other)

    def __le__(self, other):
        return self._data <= _data_of(other)

    def __gt__(self, other):
        return self._data > _data_of(other)

    def __ge__(self, other):
        return self._data >= _data_of(other)


# Every row with a method name becomes a method of Value: x.tanh(), x.log(), ...
for _op in OPS:
    if _op.method is not None:
        if _op.arity != 1 or _op.method in Value.__dict__:
            raise RuntimeError(f"op table: the row {_op.key!r} cannot become the method "
                               f"{_op.method!r} (one Value operand, a new name)")
        setattr(Value, _op.method, _unary_method(_op.code))
del _op
