"""The compiled scalar engine: op table, tape, reverse sweep and the ``Value`` handle.

Data flow
---------
Every operation on a ``Value`` appends one row to a ``Tape`` (a Wengert list): the op
code, the indices of its operands (its *parents*), the forward value and the local
partial derivative with respect to each parent. The partials are computed right away,
in the forward pass, by the op's *rule* (one small C function per op that returns the
value and writes both partials). The reverse sweep therefore has no per-op code: it walks
the rows from the root down and, for each row reached, does ``adj[a] += adj[i] * da[i]``
and ``adj[b] += adj[i] * db[i]``. Rows are in recording order, so every parent has a
smaller index than its children and one descending pass is a valid reverse topological
order. Nothing is recursive.

Row layout
----------
Structure of arrays, each grown by doubling ``realloc``: op code (1 byte), parents a and b
(4 + 4), value, partial a, partial b, adjoint (4 x 8), sweep stamp (4) and a borrowed
pointer to the row's handle (8): 53 bytes a node. Row 0 is the *sink*: leaves point both
parents at it, and ops with one Value operand point parent b at it. The sweep may add
into the sink; nothing ever reads it, and the sweep stays branch-free over op kinds.
For an op with one Value operand, ``db`` holds the op's constant (the 3 in ``x * 3``), so
the tape keeps every operand and can be re-evaluated with new leaf values (replay).

The columns are listed once, in ``Tape._columns`` (pointer, item size, kind); growing,
shrinking, freeing, ``nbytes`` and compaction all iterate that list. Resizing is all or
nothing: a growth raises ``cap`` only once every column has grown (a failed ``realloc``
raises ``MemoryError`` and leaves ``cap`` as it was), a shrink lowers ``cap`` before
shrinking any column (a column that fails to shrink keeps its larger block). So ``cap``
never exceeds the rows of any column, whatever fails.

The op table
------------
One row per op (``_row(...)`` calls under "The op table" below): a unique key, the name
``Value.op`` shows, the method name, the arity, whether it takes a constant, whether it
is a guard, and two rules side by side, ``rule`` (value and partials) and ``rule2``
(second partials, for ``Function.hessian``), each a loop over n samples so that the
same rule records one node (n = 1) and replays a batch (``_function.pyx``). Everything
else is generated from the rows: ``Value``'s methods (``tanh``, ``log``, ...; written
into the type after the class, see ``_install_methods``), ``fastgrad.tanh``-style
functions and their ``__all__`` (``fastgrad/functions.py``), ``OPS``, ``OP_NAMES``,
``UNARY_OPS``, and the Function replay, tangent and Hessian sweeps, which call the
rules through the table and have no per-op code.

**Adding an op** (say ``log1p``): (1) here, write ``_log1p`` and ``_log1p2`` and one
``_row(b"log1p", b"log1p", b"log1p", 1, False, False, _log1p, _log1p2, b"doc")``;
(2) one case in ``CASES`` of ``tests/test_ops.py``, which then checks it against finite
differences, PyTorch (values, gradients, second partials) and the reference engine;
(3) the same row in ``fastgrad/reference.py`` (pure Python: ``_row("log1p", "log1p", 1,
_log1p, method="log1p")``), which ``test_engines_op_tables_agree`` requires; (4) the
method's line in ``fastgrad/_scalar.pyi``, which ``tests/test_typing.py`` (stubtest)
requires. A row without a case, a reference row or a stub line fails the suite. For
arrays, ``fastgrad.log1p(ndarray)`` needs the Tensor engine's row too
(``_tensor.unary_array``). Operators (``+ - * / **``, unary ``-``, ``abs()``) are type
slots of ``Value`` and name their rows (``OP_ADD``, ``OP_ADDK``, ...) in the class body.

Guards
------
``x < y``, ``x <= y``, ``x > y``, ``x >= y`` on Values compare ``.data`` and return a
bool; they also record a *guard row*: the comparison (``x > y`` as ``y < x``; a number on
one side as ``x < k`` and friends), its outcome as the value (1.0 or 0.0) and the compared
values in ``da``/``db``. No Value refers to a guard row and the sweep never reaches one;
a ``fastgrad.Function`` built from the graph re-evaluates its guards on replay and raises
``BranchChanged`` where one would go the other way. Guard rows stop the tail trimming
(their operands might be compared again by a Function); compaction drops a guard once
an operand is dead or no longer holds the compared value (a leaf whose ``.data`` was set),
except while ``fastgrad.trace`` records (``Tape._hold_guards``): then every guard and
what it compares survive.
``==`` is identity and records nothing.

Sweep semantics
---------------
``backward()`` stamps the rows it reaches with a fresh epoch. A row reached for the first
time in a sweep has its adjoint reset (interior nodes) or kept (leaves), then receives
its contributions: leaves accumulate across ``backward()`` calls until set to zero,
interior nodes show the adjoint of the latest sweep that reached them, and rows of
unrelated graphs are left alone. The sweep reads rows ``root .. 1`` only.

Memory: reclaiming nodes without a reset call
---------------------------------------------
A node is *live* while a Python ``Value`` handle points at it or it is an ancestor of a
live node. Each row keeps a borrowed pointer to its handle (at most one handle exists
per row; ``.parents`` reuses it); a handle clears the pointer when it is deallocated.
Two mechanisms reclaim dead rows, both O(1) amortised and neither recursive:

* **Tail trimming.** The last row has no children (children come later), so when its
  handle dies the row is dead, and so is every handle-less row below it until the first
  row with a handle. Dropping a whole graph (``del loss``) gives its rows back at once.
* **Mark and compact on growth.** When the tape is full it first marks live rows in one
  descending pass (a row is live if it has a handle or a live row named it as a parent),
  then slides live rows down in recording order, remapping parent indices and updating
  each handle's index through its pointer. Only if the tape is still more than half full
  does it double. Arrays shrink when a trim leaves them less than 1/8 full, but never
  below 2**17 rows (7 MB): a training loop that drops its graph every step would
  otherwise shrink and regrow the tape every step. A micrograd-style loop (persistent parameters, a new graph each step,
  no reset) therefore runs in a tape of about twice its live graph, for any number of
  steps.

Handles hold a strong reference to their tape and the tape only borrowed pointers to
handles, so no reference cycle exists and handles are not tracked by the cyclic garbage
collector at all.

Threads
-------
Each thread records new leaves on a tape of its own; an op is recorded on the tape of its
operands, and combining Values of two different tapes raises ``ValueError``. All tape
code runs with the GIL held and never calls back into Python while it changes a tape, so
Values shared between threads cannot corrupt memory.
"""

cimport cython
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.object cimport PyObject, PyTypeObject
from cpython.type cimport PyType_Modified
from libc.math cimport cos, exp, fabs, log, pow, sin, sqrt, tanh
from libc.stdint cimport INT32_MAX
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy, memset

import numbers
import threading

cdef enum:
    MIN_CAP = 1024          # smallest allocation, in rows (53 KiB)
    KEEP_CAP = 1 << 17      # rows a tape keeps when its graphs are dropped (7 MB), so a
                            # training loop reuses them instead of regrowing every step


# --------------------------------------------------------------------------------------
# The op table: one row per op. Everything about an op is in its row: the key tests and
# the reference engine know it by, the name Value.op shows, the method that Value,
# fastgrad.<method>() and the reference engine get, its arity, and two rules written side
# by side, each a loop over n samples (n = 1 when recording, the batch size in a
# vmap-ed replay; see _function.pyx):
#   rule(n, x, y, v, dx, dy)       value v = f(x, y) and the partials df/dx, df/dy
#   rule2(n, x, y, dxx, dxy, dyy)  the second partials (for Hessians, _function.pyx)
# x and y point at n operand values; for an op with a constant (x * 3) y points at the
# one constant k, and for an op of one Value neither y nor dy/dxy/dyy is used.
# Adding an op: write its two rules and one _row(...) call below, then one case in
# tests/test_ops.py (CASES) and one row in fastgrad/reference.py; see the module docstring.
# --------------------------------------------------------------------------------------

cdef OpRow ROWS[MAX_OPS]
cdef int N_OPS = 0


cdef int _row(const char* key, const char* name, const char* method, int arity,
              bint constant, bint guard, rule_t rule, rule2_t rule2,
              const char* doc=NULL, int curvature=-1, int unit=0) except -1:
    """Append a row to the op table; returns its op code. ``doc``: the method's docstring.

    ``curvature``: the CURV_* bits of the second partials that may be nonzero; by
    default none for a linear op (``_no_rule2``), else every one of its operands' (safe:
    a bit too many only costs the Hessian some sparsity, a bit too few gives wrong
    Hessians; tests/test_function_hessian.py checks every row's bits against its rule2).
    ``unit``: the UNIT_* bits of partials that are +1 or -1 at every point (checked
    against the rule by tests/test_function_replay.py).
    """
    global N_OPS
    if N_OPS == MAX_OPS:
        raise RuntimeError("fastgrad: the scalar op table is full; raise MAX_OPS")
    if curvature < 0:
        curvature = (0 if rule2 == _no_rule2 else
                     CURV_XX if arity == 1 else CURV_XX | CURV_XY | CURV_YY)
    ROWS[N_OPS] = OpRow(key, name, method, arity, constant, guard, rule, rule2, curvature,
                        unit, doc)
    N_OPS += 1
    return N_OPS - 1


cdef const OpRow* op_row(int code) noexcept nogil:
    return &ROWS[code]


cdef int n_ops() noexcept nogil:
    return N_OPS


cdef void _no_rule2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                    float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    # a linear op (or a piecewise linear one away from its kink): no curvature
    cdef Py_ssize_t s
    for s in range(n):
        dxx[s] = 0.0
        dxy[s] = 0.0
        dyy[s] = 0.0


cdef void _leaf(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    pass
_row(b"leaf", b"", NULL, 0, False, False, _leaf, _no_rule2)

# ---- two Value operands --------------------------------------------------------------

cdef void _add(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = x[s] + y[s]
        dx[s] = 1.0
        dy[s] = 1.0
cdef int OP_ADD = _row(b"add", b"+", NULL, 2, False, False, _add, _no_rule2, NULL, -1,
                       UNIT_X | UNIT_Y)

cdef void _sub(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = x[s] - y[s]
        dx[s] = 1.0
        dy[s] = -1.0
cdef int OP_SUB = _row(b"sub", b"-", NULL, 2, False, False, _sub, _no_rule2, NULL, -1,
                       UNIT_X | UNIT_NEG_Y)

cdef void _mul(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = x[s] * y[s]
        dx[s] = y[s]
        dy[s] = x[s]
cdef void _mul2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = 0.0
        dxy[s] = 1.0
        dyy[s] = 0.0
cdef int OP_MUL = _row(b"mul", b"*", NULL, 2, False, False, _mul, _mul2, NULL,
                       CURV_XY)

cdef void _div(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = x[s] / y[s]
        dx[s] = 1.0 / y[s]
        dy[s] = -x[s] / (y[s] * y[s])
cdef void _div2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = 0.0
        dxy[s] = -1.0 / (y[s] * y[s])
        dyy[s] = 2.0 * x[s] / (y[s] * y[s] * y[s])
cdef int OP_DIV = _row(b"div", b"/", NULL, 2, False, False, _div, _div2, NULL,
                       CURV_XY | CURV_YY)

cdef inline float64_t _dpow_base(float64_t x, float64_t y) noexcept nogil:
    # d(x**y)/dx; PyTorch's convention: 0 when the exponent is 0 (no 0 * inf at x = 0)
    return 0.0 if y == 0.0 else y * pow(x, y - 1.0)

cdef inline float64_t _dpow_exponent(float64_t v, float64_t x, float64_t y) noexcept nogil:
    # d(x**y)/dy = x**y log(x); PyTorch's convention: 0 where x == 0 and y >= 0
    return 0.0 if (x == 0.0 and y >= 0.0) else v * log(x)

cdef void _pow(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t p
    for s in range(n):
        p = pow(x[s], y[s])
        v[s] = p
        dx[s] = _dpow_base(x[s], y[s])
        dy[s] = _dpow_exponent(p, x[s], y[s])
cdef void _pow2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t l
    for s in range(n):
        l = log(x[s])
        dxx[s] = y[s] * _dpow_base(x[s], y[s] - 1.0)
        dxy[s] = pow(x[s], y[s] - 1.0) * (1.0 + y[s] * l)
        dyy[s] = _dpow_exponent(pow(x[s], y[s]), x[s], y[s]) * l
cdef int OP_POW = _row(b"pow", b"**", NULL, 2, False, False, _pow, _pow2)

# ---- one Value operand x and a constant k = y[0] ---------------------------------------

cdef void _addk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = x[s] + k
        dx[s] = 1.0
cdef int OP_ADDK = _row(b"addk", b"+", NULL, 1, True, False, _addk, _no_rule2, NULL, -1,
                        UNIT_X)

cdef void _subk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = x[s] - k
        dx[s] = 1.0
cdef int OP_SUBK = _row(b"subk", b"-", NULL, 1, True, False, _subk, _no_rule2, NULL, -1,
                        UNIT_X)

cdef void _rsubk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                 float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = k - x[s]
        dx[s] = -1.0
cdef int OP_RSUBK = _row(b"rsubk", b"-", NULL, 1, True, False, _rsubk, _no_rule2, NULL, -1,
                         UNIT_NEG_X)

cdef void _mulk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = x[s] * k
        dx[s] = k
cdef int OP_MULK = _row(b"mulk", b"*", NULL, 1, True, False, _mulk, _no_rule2)

cdef void _divk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = x[s] / k
        dx[s] = 1.0 / k
cdef int OP_DIVK = _row(b"divk", b"/", NULL, 1, True, False, _divk, _no_rule2)

cdef void _rdivk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                 float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = k / x[s]
        dx[s] = -k / (x[s] * x[s])
cdef void _rdivk2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                  float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        dxx[s] = 2.0 * k / (x[s] * x[s] * x[s])
cdef int OP_RDIVK = _row(b"rdivk", b"/", NULL, 1, True, False, _rdivk, _rdivk2)

cdef void _powk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = pow(x[s], k)
        dx[s] = _dpow_base(x[s], k)
cdef void _powk2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                 float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        dxx[s] = k * _dpow_base(x[s], k - 1.0)
cdef int OP_POWK = _row(b"powk", b"**", NULL, 1, True, False, _powk, _powk2)

cdef void _rpowk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                 float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0], p
    for s in range(n):
        p = pow(k, x[s])
        v[s] = p
        dx[s] = _dpow_exponent(p, k, x[s])
cdef void _rpowk2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                  float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        dxx[s] = _dpow_exponent(pow(k, x[s]), k, x[s]) * log(k)
cdef int OP_RPOWK = _row(b"rpowk", b"**", NULL, 1, True, False, _rpowk, _rpowk2)

# ---- one Value operand -----------------------------------------------------------------

cdef void _neg(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = -x[s]
        dx[s] = -1.0
cdef int OP_NEG = _row(b"neg", b"neg", NULL, 1, False, False, _neg, _no_rule2, NULL, -1,
                       UNIT_NEG_X)

cdef void _tanh(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t t
    for s in range(n):
        t = tanh(x[s])
        v[s] = t
        dx[s] = 1.0 - t * t         # never cosh(x)**-2, which overflows for |x| > 710
cdef void _tanh2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                 float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t t
    for s in range(n):
        t = tanh(x[s])
        dxx[s] = -2.0 * t * (1.0 - t * t)
_row(b"tanh", b"tanh", b"tanh", 1, False, False, _tanh, _tanh2,
     b"Hyperbolic tangent; derivative ``1 - tanh(x)**2``.")

cdef void _relu(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = 0.0 if x[s] <= 0.0 else x[s]     # nan stays nan
        dx[s] = 1.0 if x[s] > 0.0 else 0.0      # relu'(0) = 0, as PyTorch
_row(b"relu", b"relu", b"relu", 1, False, False, _relu, _no_rule2,
     b"``max(x, 0)``; derivative 1 for x > 0, else 0.")

cdef inline float64_t _logistic(float64_t x) noexcept nogil:
    cdef float64_t e
    if x >= 0.0:                    # exp of a non-positive number never overflows
        return 1.0 / (1.0 + exp(-x))
    e = exp(x)
    return e / (1.0 + e)

cdef void _sigmoid(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                   float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t sg
    for s in range(n):
        sg = _logistic(x[s])
        v[s] = sg
        dx[s] = sg * (1.0 - sg)
cdef void _sigmoid2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                    float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    cdef float64_t sg
    for s in range(n):
        sg = _logistic(x[s])
        dxx[s] = sg * (1.0 - sg) * (1.0 - 2.0 * sg)
_row(b"sigmoid", b"sigmoid", b"sigmoid", 1, False, False, _sigmoid, _sigmoid2,
     b"Logistic function ``1 / (1 + exp(-x))``, computed without overflow.")

cdef void _exp(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t e
    for s in range(n):
        e = exp(x[s])
        v[s] = e
        dx[s] = e
cdef void _exp2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = exp(x[s])
_row(b"exp", b"exp", b"exp", 1, False, False, _exp, _exp2,
     b"Exponential.")

cdef void _log(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = log(x[s])            # log(0) = -inf, log(x < 0) = nan (IEEE)
        dx[s] = 1.0 / x[s]
cdef void _log2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = -1.0 / (x[s] * x[s])
_row(b"log", b"log", b"log", 1, False, False, _log, _log2,
     b"Natural logarithm (nan below 0, -inf at 0).")

cdef void _sin(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = sin(x[s])
        dx[s] = cos(x[s])
cdef void _sin2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = -sin(x[s])
_row(b"sin", b"sin", b"sin", 1, False, False, _sin, _sin2,
     b"Sine.")

cdef void _cos(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = cos(x[s])
        dx[s] = -sin(x[s])
cdef void _cos2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = -cos(x[s])
_row(b"cos", b"cos", b"cos", 1, False, False, _cos, _cos2,
     b"Cosine.")

cdef void _sqrt(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
                float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t r
    for s in range(n):
        r = sqrt(x[s])
        v[s] = r
        dx[s] = 0.5 / r
cdef void _sqrt2(Py_ssize_t n, const float64_t* x, const float64_t* y,
                 float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil:
    for s in range(n):
        dxx[s] = -0.25 / (x[s] * sqrt(x[s]))
_row(b"sqrt", b"sqrt", b"sqrt", 1, False, False, _sqrt, _sqrt2,
     b"Square root (nan below 0).")

cdef void _abs(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = fabs(x[s])
        dx[s] = 1.0 if x[s] > 0.0 else (-1.0 if x[s] < 0.0 else 0.0)  # abs'(0) = 0
cdef int OP_ABS = _row(b"abs", b"abs", b"abs", 1, False, False, _abs, _no_rule2,
     b"Absolute value; derivative ``sign(x)``, 0 at 0.")

# ---- comparisons: guards ----------------------------------------------------------------
# ``x < y`` on Values returns a bool, and records a guard row (value 1.0 or 0.0, no
# derivative) so that a Function replaying the graph can tell when the branch taken
# while recording would go the other way (see "Guards" in the module docstring).

cdef void _lt(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
              float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = 1.0 if x[s] < y[s] else 0.0
cdef void _le(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
              float64_t* dx, float64_t* dy) noexcept nogil:
    for s in range(n):
        v[s] = 1.0 if x[s] <= y[s] else 0.0
cdef void _ltk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = 1.0 if x[s] < k else 0.0
cdef void _lek(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = 1.0 if x[s] <= k else 0.0
cdef void _gtk(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = 1.0 if x[s] > k else 0.0
cdef void _gek(Py_ssize_t n, const float64_t* x, const float64_t* y, float64_t* v,
               float64_t* dx, float64_t* dy) noexcept nogil:
    cdef float64_t k = y[0]
    for s in range(n):
        v[s] = 1.0 if x[s] >= k else 0.0
# a > b is recorded as b < a, a >= b as b <= a
cdef int OP_LT = _row(b"lt", b"<", NULL, 2, False, True, _lt, _no_rule2)
cdef int OP_LE = _row(b"le", b"<=", NULL, 2, False, True, _le, _no_rule2)
cdef int OP_LTK = _row(b"ltk", b"<", NULL, 1, True, True, _ltk, _no_rule2)
cdef int OP_LEK = _row(b"lek", b"<=", NULL, 1, True, True, _lek, _no_rule2)
cdef int OP_GTK = _row(b"gtk", b">", NULL, 1, True, True, _gtk, _no_rule2)
cdef int OP_GEK = _row(b"gek", b">=", NULL, 1, True, True, _gek, _no_rule2)


# ---- what the rows give the Python side ------------------------------------------------

class OpInfo(tuple):
    """One row of the op table as Python sees it (``fastgrad._scalar.OPS[code]``).

    Attributes: ``code``, ``key`` (unique, e.g. ``"rsubk"`` for ``k - x``), ``name``
    (what ``Value.op`` shows), ``method`` (the Value method and ``fastgrad`` function,
    or None for an operator), ``arity`` (0 leaf, 1 or 2 Value operands), ``constant``
    (the op combines its Value with a number), ``guard`` (a comparison).
    """

    __slots__ = ()
    _fields = ("code", "key", "name", "method", "arity", "constant", "guard")

    def __new__(cls, *values):
        return tuple.__new__(cls, values)

    code = property(lambda self: self[0])
    key = property(lambda self: self[1])
    name = property(lambda self: self[2])
    method = property(lambda self: self[3])
    arity = property(lambda self: self[4])
    constant = property(lambda self: self[5])
    guard = property(lambda self: self[6])

    def __repr__(self):
        return "OpInfo(" + ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self)) + ")"


#: The op table, indexed by op code.
OPS = tuple(OpInfo(c, ROWS[c].key.decode(), ROWS[c].name.decode(),
                   ROWS[c].method.decode() if ROWS[c].method != NULL else None,
                   ROWS[c].arity, bool(ROWS[c].constant), bool(ROWS[c].guard))
            for c in range(N_OPS))

#: ``Value.op`` for each op code.
OP_NAMES = tuple(row.name for row in OPS)

#: The elementwise functions of one Value, by method name: what ``Value`` has as methods
#: and ``fastgrad`` as functions.
UNARY_OPS = {row.method: row.code for row in OPS if row.method and row.arity == 1}


cdef int _code_of(object code) except -1:
    if not isinstance(code, int) or not 0 <= code < N_OPS:
        raise ValueError(f"op code must be an int in [0, {N_OPS}), got {code!r}")
    return code


def apply(code, double x, double y=0.0):
    """The compiled rule of op ``code`` at ``(x, y)``: ``(value, d/dx, d/dy)``.

    ``y`` is the second operand, or the constant of an op such as ``x * k``; ``d/dy`` is
    0 for ops of one Value operand. For tests and for ``fastgrad.tanh(2.0)``.
    """
    cdef const OpRow* row = &ROWS[_code_of(code)]
    cdef float64_t v = 0.0, dx = 0.0, dy = 0.0
    row.rule(1, &x, &y, &v, &dx, &dy)
    return v, dx, dy


def apply2(code, double x, double y=0.0):
    """The second partials of op ``code`` at ``(x, y)``: ``(d2/dx2, d2/dxdy, d2/dy2)``."""
    cdef const OpRow* row = &ROWS[_code_of(code)]
    cdef float64_t dxx = 0.0, dxy = 0.0, dyy = 0.0
    row.rule2(1, &x, &y, &dxx, &dxy, &dyy)
    return dxx, dxy, dyy


def curvature(code):
    """Which second partials of op ``code`` may be nonzero: ``(d2/dx2, d2/dxdy, d2/dy2)``
    as bools (the Hessian's sparsity pattern is built from them)."""
    cdef int c = ROWS[_code_of(code)].curvature
    return bool(c & CURV_XX), bool(c & CURV_XY), bool(c & CURV_YY)


def unit(code):
    """The partials of op ``code`` that are the same +1 or -1 at every point:
    ``(d/dx, d/dy)``, each 1.0, -1.0 or None (not constant)."""
    cdef int u = ROWS[_code_of(code)].unit
    return (1.0 if u & UNIT_X else -1.0 if u & UNIT_NEG_X else None,
            1.0 if u & UNIT_Y else -1.0 if u & UNIT_NEG_Y else None)


def apply_unary(str name, double x):
    """Evaluate the compiled rule of the unary op ``name`` on a float.

    Returns ``(value, derivative)``; ``fastgrad.tanh(2.0)`` and friends use it, so a
    float and a Value go through the same rule.
    """
    v, dx, _ = apply(UNARY_OPS[name], x)
    return v, dx


# --------------------------------------------------------------------------------------
# The tape
# --------------------------------------------------------------------------------------

cdef inline bint _same(float64_t a, float64_t b) noexcept nogil:
    return a == b or (a != a and b != b)


cdef inline Py_ssize_t _capacity_for(Py_ssize_t n) noexcept nogil:
    # smallest power of two, at least MIN_CAP, that leaves half the rows free
    cdef Py_ssize_t cap = MIN_CAP
    while cap < 2 * n:
        cap *= 2
    return cap


# Test hook: when positive, the n-th call of _realloc from now fails as if the system
# were out of memory (tests/test_memory.py uses it to check that a failed resize leaves
# the tape consistent). One integer test on a path taken only when a tape resizes.
cdef Py_ssize_t _fail_countdown = 0


def _fail_allocation(Py_ssize_t n):
    """Make the ``n``-th tape allocation from now fail (0 disarms). For tests only."""
    global _fail_countdown
    if n < 0:
        raise ValueError(f"_fail_allocation takes n >= 0, got {n}")
    _fail_countdown = n


cdef void* _realloc(void* ptr, Py_ssize_t rows, size_t itemsize) noexcept:
    # realloc, or NULL (leaving ptr untouched) when it fails or the test hook says so
    global _fail_countdown
    if _fail_countdown > 0:
        _fail_countdown -= 1
        if _fail_countdown == 0:
            return NULL
    return realloc(ptr, <size_t>rows * itemsize)


cdef void _move_rows(char* base, size_t size, const uint32_t* dest, Py_ssize_t start,
                     Py_ssize_t n) noexcept nogil:
    # Compaction of one column: row i goes to row dest[i] for live rows (dest[i] != 0).
    cdef Py_ssize_t i
    if size == 1:
        for i in range(start, n):
            if dest[i]:
                (<uint8_t*>base)[dest[i]] = (<uint8_t*>base)[i]
    elif size == 4:
        for i in range(start, n):
            if dest[i]:
                (<uint32_t*>base)[dest[i]] = (<uint32_t*>base)[i]
    else:
        for i in range(start, n):
            if dest[i]:
                memcpy(base + dest[i] * size, base + i * size, size)


@cython.final
cdef class Tape:
    """A Wengert list of scalar operations: the storage behind ``fastgrad.Value``.

    Users rarely touch a tape: each thread gets one (``current_tape()``) and every Value
    knows its own. ``len(tape)`` is the number of recorded nodes; ``nbytes`` the memory
    held by the node arrays.
    """

    def __cinit__(self):
        self.epoch = 1
        self.labels = {}
        self._resize(MIN_CAP)
        # row 0, the sink
        self.op[0] = OP_LEAF
        self.pa[0] = 0
        self.pb[0] = 0
        self.val[0] = 0.0
        self.da[0] = 0.0
        self.db[0] = 0.0
        self.adj[0] = 0.0
        self.seen[0] = 0
        self.handle[0] = NULL
        self.n = 1

    def __dealloc__(self):
        cdef Column cols[N_COLUMNS]
        self._columns(cols)
        for c in range(N_COLUMNS):
            free(cols[c].ptr[0])

    def __len__(self):
        return self.n - 1

    @property
    def capacity(self):
        """Rows allocated (the sink included)."""
        return self.cap

    @property
    def nbytes(self):
        """Bytes held by the node arrays."""
        cdef Column cols[N_COLUMNS]
        self._columns(cols)
        return sum([self.rows[c] * cols[c].itemsize for c in range(N_COLUMNS)])

    def _hold_guards(self, bint hold):
        """While held (``fastgrad.trace`` recording), compaction keeps every guard row and
        what it compares; calls nest."""
        self.guards_held += 1 if hold else -1
        if self.guards_held < 0:
            self.guards_held = 0
            raise RuntimeError("Tape._hold_guards(False) without a matching hold")

    def _last_row(self):
        """``(OpInfo, value, da, db)`` of the newest row (for tests)."""
        cdef Py_ssize_t i = self.n - 1
        return OPS[self.op[i]], self.val[i], self.da[i], self.db[i]

    def _allocated_rows(self):
        """Rows allocated in each column, in column order (for tests)."""
        return [self.rows[c] for c in range(N_COLUMNS)]

    def compact(self):
        """Reclaim every row no Value can reach now (normally done when the tape fills).

        Returns the number of rows freed.
        """
        cdef Py_ssize_t before = self.n
        self._compact()
        return before - self.n

    def __repr__(self):
        return f"<fastgrad Tape: {self.n - 1} nodes, {self.nbytes} bytes>"

    cdef int _columns(self, Column* cols) noexcept:
        # THE list of columns: adding one here is all resizing, freeing, nbytes and
        # compaction need (and N_COLUMNS in _scalar.pxd).
        cols[0] = Column(<void**>&self.op, sizeof(uint8_t), COL_DATA)
        cols[1] = Column(<void**>&self.pa, sizeof(node_t), COL_NODE)
        cols[2] = Column(<void**>&self.pb, sizeof(node_t), COL_NODE)
        cols[3] = Column(<void**>&self.val, sizeof(float64_t), COL_DATA)
        cols[4] = Column(<void**>&self.da, sizeof(float64_t), COL_DATA)
        cols[5] = Column(<void**>&self.db, sizeof(float64_t), COL_DATA)
        cols[6] = Column(<void**>&self.adj, sizeof(float64_t), COL_DATA)
        cols[7] = Column(<void**>&self.seen, sizeof(uint32_t), COL_SCRATCH)
        cols[8] = Column(<void**>&self.handle, sizeof(PyObject*), COL_HANDLE)
        return 0

    cdef int _resize(self, Py_ssize_t cap) except -1:
        """Give every column ``cap`` rows, all or nothing.

        Growing raises ``cap`` only after every column grew: if one ``realloc`` fails,
        the columns grown so far are merely larger than needed, ``cap`` keeps the old
        size and ``MemoryError`` is raised. Shrinking lowers ``cap`` first, so a column
        that fails to shrink keeps its larger block (C's ``realloc`` leaves it intact) and
        the tape stays consistent; a failed shrink is not an error.
        """
        cdef Column cols[N_COLUMNS]
        cdef void* p
        if cap > <Py_ssize_t>INT32_MAX + 1:
            raise OverflowError("fastgrad: a tape holds at most 2**31 - 1 nodes")
        self._columns(cols)
        if cap < self.cap:
            self.cap = cap
        for c in range(N_COLUMNS):
            if self.rows[c] == cap:
                continue
            p = _realloc(cols[c].ptr[0], cap, cols[c].itemsize)
            if p != NULL:
                cols[c].ptr[0] = p
                self.rows[c] = cap
            elif cap > self.rows[c]:
                raise MemoryError(f"fastgrad: cannot allocate a tape of {cap} nodes "
                                  f"({cap * cols[c].itemsize} bytes for one column)")
        self.cap = cap                  # every column holds at least cap rows now
        return 0

    cdef int _make_room(self) except -1:
        self._compact()
        cdef Py_ssize_t cap = _capacity_for(self.n)
        if cap < self.cap:              # shrink, but keep up to KEEP_CAP rows
            cap = max(cap, min(self.cap, <Py_ssize_t>KEEP_CAP))
        if cap != self.cap:
            self._resize(cap)
        return 0

    cdef int _compact(self) except -1:
        # Mark: `seen` serves as scratch (a sweep's stamps need not survive).
        cdef Py_ssize_t n = self.n, i, j
        cdef uint32_t* live = self.seen
        cdef Column cols[N_COLUMNS]
        cdef node_t* ref
        memset(live, 0, n * sizeof(uint32_t))
        live[0] = 1
        for i in range(n - 1, 0, -1):
            if live[i] or self.handle[i] != NULL or (
                    self.guards_held and ROWS[self.op[i]].guard):
                live[i] = 1
                live[self.pa[i]] = 1
                live[self.pb[i]] = 1
        # A guard lives while its operands do and still hold the values it compared.
        for i in range(1, n):
            if ROWS[self.op[i]].guard and not self.guards_held:
                live[i] = live[self.pa[i]] and live[self.pb[i]] and _same(
                    self.val[self.pa[i]], self.da[i]) and (
                    ROWS[self.op[i]].arity == 1 or _same(self.val[self.pb[i]], self.db[i]))
        # New rows: parents precede children, so a row's new index is known before its
        # children's. Rows below the first dead one keep their place.
        live[0] = 0
        j = 1
        while j < n and live[j]:
            live[j] = <uint32_t>j
            j += 1
        cdef Py_ssize_t first_moved = j
        for i in range(first_moved, n):
            if live[i]:
                live[i] = <uint32_t>j
                j += 1
        # Move every column (the one list), then fix what refers to rows.
        self._columns(cols)
        for c in range(N_COLUMNS):
            if cols[c].kind == COL_SCRATCH:
                continue
            _move_rows(<char*>cols[c].ptr[0], cols[c].itemsize, live, first_moved, n)
            if cols[c].kind == COL_NODE:
                ref = <node_t*>cols[c].ptr[0]
                for i in range(first_moved, j):
                    ref[i] = <node_t>live[ref[i]]
            elif cols[c].kind == COL_HANDLE:
                for i in range(first_moved, j):
                    if self.handle[i] != NULL:
                        (<Value>self.handle[i]).idx = <node_t>i
        if self.labels:
            self.labels = {live[i]: label for i, label in self.labels.items() if live[i]}
        memset(live, 0, n * sizeof(uint32_t))
        self.n = j
        self.compactions += 1
        return 0

    cdef int _trim(self) except -1:
        # Called when the last row's handle has died: drop handle-less rows from the end.
        # A guard row stops the trim: its operands may be compared again by a Function.
        while (self.n > 1 and self.handle[self.n - 1] == NULL
               and not ROWS[self.op[self.n - 1]].guard):
            self.n -= 1
        if self.labels:
            for i in [i for i in self.labels if i >= self.n]:
                del self.labels[i]
        return 0

    cdef node_t push(self, int op, Value x, Value y, float64_t k) except -1:
        """Append a node computed by ``op`` from x (and y), or a leaf of value k.

        Takes the operands' handles, not their rows: making room may compact the tape,
        which moves rows, and their indices are read only after that.
        """
        if self.n == self.cap:
            self._make_room()
        cdef node_t a = 0, b = 0
        if x is not None:
            a = x.idx
        if y is not None:
            b = y.idx
        cdef node_t i = <node_t>self.n
        cdef const OpRow* row = &ROWS[op]
        cdef float64_t v = k, dx = 0.0, dy = 0.0
        if row.arity == 2:
            row.rule(1, &self.val[a], &self.val[b], &v, &dx, &dy)
            self.db[i] = dy
        elif row.arity == 1:
            row.rule(1, &self.val[a], &k, &v, &dx, &dy)
            self.db[i] = k
            b = 0
        else:
            self.db[i] = 0.0
            a = 0
            b = 0
        if row.guard:                   # keep the compared values (see "Guards")
            dx = self.val[a]
            if row.arity == 2:
                self.db[i] = self.val[b]
        self.val[i] = v
        self.op[i] = <uint8_t>op
        self.pa[i] = a
        self.pb[i] = b
        self.da[i] = dx
        self.adj[i] = 0.0
        self.seen[i] = 0
        self.handle[i] = NULL
        self.n = i + 1
        return i

    cdef int sweep(self, node_t root, float64_t seed) except -1:
        """Reverse sweep from ``root``: see "Sweep semantics" in the module docstring."""
        cdef uint32_t ep = self.epoch + 1
        if ep == 0:                     # 2**32 sweeps later: clear the stamps, start over
            memset(self.seen, 0, self.n * sizeof(uint32_t))
            ep = 1
        self.epoch = ep
        _sweep_c(self.op, self.pa, self.pb, self.da, self.db, self.adj, self.seen,
                 root, seed, ep)
        return 0


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _sweep_c(const uint8_t* op, const node_t* pa, const node_t* pb,
                   const float64_t* da, const float64_t* db, float64_t* adj,
                   uint32_t* seen, node_t root, float64_t seed, uint32_t ep) noexcept nogil:
    cdef node_t i, p
    cdef float64_t g
    if op[root] == OP_LEAF:
        adj[root] += seed
    else:
        adj[root] = seed
    seen[root] = ep
    for i in range(root, 0, -1):
        if seen[i] != ep:
            continue                    # not part of this graph
        g = adj[i]
        p = pa[i]
        if seen[p] != ep:               # first contribution this sweep
            seen[p] = ep
            if op[p] != OP_LEAF:
                adj[p] = 0.0
        adj[p] += g * da[i]
        p = pb[i]
        if seen[p] != ep:
            seen[p] = ep
            if op[p] != OP_LEAF:
                adj[p] = 0.0
        adj[p] += g * db[i]


_local = threading.local()


cpdef Tape current_tape():
    """The tape on which this thread records new leaves."""
    try:
        return _local.tape
    except AttributeError:
        _local.tape = Tape()
        return _local.tape


# --------------------------------------------------------------------------------------
# The Value handle
# --------------------------------------------------------------------------------------

cdef str _describe(object x):
    r = repr(x)
    if len(r) > 40:
        r = r[:37] + "..."
    return f"{type(x).__name__} ({r})"


cdef float64_t _real(object x, str where) except? -1.0:
    """``x`` as a float, or TypeError naming its type. Accepts int, float, bool, numpy reals."""
    if type(x) is float:
        return PyFloat_AS_DOUBLE(x)
    if isinstance(x, (int, float)) or isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, numbers.Complex):
        raise TypeError(f"{where} takes a real number, got {_describe(x)}: "
                        "fastgrad differentiates real-valued functions only")
    raise TypeError(f"{where} takes a real number (int, float or numpy real), "
                    f"got {_describe(x)}")


cdef inline Value _new(Tape tape, int op, Value x, Value y, float64_t k):
    # Allocate the handle before the row, so the row never exists without its handle.
    cdef Value v = Value.__new__(Value)
    v.tape = tape
    v.idx = tape.push(op, x, y, k)
    tape.handle[v.idx] = <PyObject*>v
    return v


cdef Value _handle(Tape tape, node_t i):
    """The handle of row i, made if the row has none."""
    if tape.handle[i] != NULL:
        return <Value>tape.handle[i]
    cdef Value v = Value.__new__(Value)
    v.tape = tape
    v.idx = i
    tape.handle[i] = <PyObject*>v
    return v


cdef object _foreign(Value x, object other, str symbol):
    # Called when `other` is neither a Value nor a number.
    if getattr(other, "_fastgrad_engine", None) is not None:
        raise TypeError(
            f"cannot combine a fastgrad.Value with a {type(other).__module__}."
            f"{type(other).__qualname__} in '{symbol}': they belong to different engines; "
            "build the whole expression with one of them")
    return NotImplemented


cdef object _binary(Value x, object other, int op_vv, int op_vk):
    cdef Value y
    if isinstance(other, Value):
        y = <Value>other
        if y.tape is not x.tape:
            raise ValueError(
                f"cannot combine Values recorded on different tapes in "
                f"'{ROWS[op_vv].name.decode()}': each thread records its leaves on a tape of "
                "its own. Create the operands in the same thread, or pass plain floats.")
        return _new(x.tape, op_vv, x, y, 0.0)
    if type(other) is float:
        return _new(x.tape, op_vk, x, None, PyFloat_AS_DOUBLE(other))
    if isinstance(other, (int, float)) or isinstance(other, numbers.Real):
        return _new(x.tape, op_vk, x, None, float(other))
    return _foreign(x, other, ROWS[op_vv].name.decode())


cdef object _reflected(Value x, object other, int op_kv, str symbol):
    # other (a number) on the left of x
    if type(other) is float:
        return _new(x.tape, op_kv, x, None, PyFloat_AS_DOUBLE(other))
    if isinstance(other, (int, float)) or isinstance(other, numbers.Real):
        return _new(x.tape, op_kv, x, None, float(other))
    return _foreign(x, other, symbol)


cdef bint _compare(Value x, object other, int op_vv, bint swap, int op_vk) except -1:
    """``x < other`` (or <=, >, >=) on ``.data``, recorded as a guard row (Guards)."""
    cdef Value y, lo, hi
    cdef float64_t k
    if isinstance(other, Value):
        y = <Value>other
        if y.tape is not x.tape:         # no common tape: nothing to guard
            k = y.tape.val[y.idx]
            return _outcome(op_vk, x.tape.val[x.idx], k)
        lo, hi = (y, x) if swap else (x, y)
        return x.tape.val[x.tape.push(op_vv, lo, hi, 0.0)] != 0.0
    k = _real(other, "comparison with a Value")
    return x.tape.val[x.tape.push(op_vk, x, None, k)] != 0.0


cdef bint _outcome(int code, float64_t x, float64_t k) noexcept:
    cdef float64_t v = 0.0, dx = 0.0, dy = 0.0
    ROWS[code].rule(1, &x, &k, &v, &dx, &dy)
    return v != 0.0


@cython.final
@cython.no_gc
@cython.freelist(256)
@cython.auto_pickle(False)
cdef class Value:
    """A scalar recorded on a compiled tape, with its gradient.

    Parameters
    ----------
    data : int, float or numpy real
        The value. Anything else (str, None, complex, ...) raises ``TypeError``.
    label : str, optional
        A name for printing and drawing.

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

    __array_ufunc__ = None          # numpy defers to our reflected operators
    _fastgrad_engine = "compiled"

    def __init__(self, data, label=""):
        if self.tape is not None:
            raise RuntimeError("Value.__init__ may be called only once")
        cdef float64_t x = _real(data, "Value()")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {_describe(label)}")
        cdef Tape tape = current_tape()
        self.tape = tape
        self.idx = tape.push(OP_LEAF, None, None, x)
        tape.handle[self.idx] = <PyObject*>self
        if label:
            tape.labels[self.idx] = label

    def __dealloc__(self):
        cdef Tape tape = self.tape
        if tape is None or self.idx <= 0:
            return
        tape.handle[self.idx] = NULL
        if self.idx == tape.n - 1:
            tape._trim()
            if tape.cap > KEEP_CAP and 8 * tape.n < tape.cap:
                # a shrink never raises MemoryError (a failed one keeps the larger
                # arrays); OverflowError cannot happen when shrinking
                tape._resize(max(_capacity_for(tape.n), KEEP_CAP))

    # ---- attributes -------------------------------------------------------------------

    @property
    def data(self):
        """The forward value (settable on leaves only)."""
        return self.tape.val[self.idx]

    @data.setter
    def data(self, value):
        cdef float64_t x = _real(value, "Value.data")
        if self.tape.op[self.idx] != OP_LEAF:
            raise AttributeError(
                f"cannot set .data of a Value computed by '{self.op}': its data follows "
                "from its parents. Set .data on the leaves and compute it again.")
        self.tape.val[self.idx] = x

    @property
    def grad(self):
        """d(root)/d(self) from ``backward()``; accumulates on leaves, settable."""
        return self.tape.adj[self.idx]

    @grad.setter
    def grad(self, value):
        self.tape.adj[self.idx] = _real(value, "Value.grad")

    @property
    def label(self):
        """A name for printing and drawing."""
        return self.tape.labels.get(self.idx, "")

    @label.setter
    def label(self, value):
        if not isinstance(value, str):
            raise TypeError(f"Value label must be a str, got {_describe(value)}")
        if value:
            self.tape.labels[self.idx] = value
        else:
            self.tape.labels.pop(self.idx, None)

    @property
    def op(self):
        """The operation that produced this Value: ``"+"``, ``"tanh"``, ...; ``""`` for a leaf."""
        return OP_NAMES[self.tape.op[self.idx]]

    @property
    def is_leaf(self):
        """True for a Value made by ``Value(...)`` rather than by an operation."""
        return self.tape.op[self.idx] == OP_LEAF

    @property
    def id(self):
        """Recording order: a result always has a larger id than its operands.

        (The row on the tape: compaction may lower it, never reorder it.)
        """
        return self.idx

    @property
    def constant(self):
        """The number in ops such as ``x * 3`` (None for other Values)."""
        cdef const OpRow* row = &ROWS[self.tape.op[self.idx]]
        if row.constant:
            return self.tape.db[self.idx]
        return None

    @property
    def parents(self):
        """The Values this one was computed from (a tuple; empty for leaves)."""
        cdef Tape t = self.tape
        cdef int arity = ROWS[t.op[self.idx]].arity
        if arity == 0:
            return ()
        if arity == 1:
            return (_handle(t, t.pa[self.idx]),)
        return (_handle(t, t.pa[self.idx]), _handle(t, t.pb[self.idx]))

    def backward(self, gradient=1.0):
        """Reverse sweep: set ``.grad`` on every Value this one depends on.

        Parameters
        ----------
        gradient : float, default 1.0
            d(loss)/d(self), the seed of the sweep.
        """
        self.tape.sweep(self.idx, _real(gradient, "backward(gradient)"))

    def __repr__(self):
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.tape.op[self.idx] != OP_LEAF:
            parts.append(f"op={self.op!r}")
        label = self.tape.labels.get(self.idx, "")
        if label:
            parts.append(f"label={label!r}")
        return f"Value({', '.join(parts)})"

    def __float__(self):
        return self.tape.val[self.idx]

    def __reduce__(self):
        # copy.copy, copy.deepcopy and pickle all come here. A copy would be a second
        # handle on the same row, which the tape's bookkeeping does not allow.
        raise TypeError("a fastgrad.Value cannot be copied or pickled: it is a node of a "
                        "graph. Make a new leaf with Value(v.data), or save floats.")

    # ---- arithmetic -------------------------------------------------------------------

    def __add__(self, other):
        return _binary(self, other, OP_ADD, OP_ADDK)

    def __radd__(self, other):
        return _reflected(self, other, OP_ADDK, "+")

    def __sub__(self, other):
        return _binary(self, other, OP_SUB, OP_SUBK)

    def __rsub__(self, other):
        return _reflected(self, other, OP_RSUBK, "-")

    def __mul__(self, other):
        return _binary(self, other, OP_MUL, OP_MULK)

    def __rmul__(self, other):
        return _reflected(self, other, OP_MULK, "*")

    def __truediv__(self, other):
        return _binary(self, other, OP_DIV, OP_DIVK)

    def __rtruediv__(self, other):
        return _reflected(self, other, OP_RDIVK, "/")

    def __pow__(self, other, modulo=None):
        if modulo is not None:
            return NotImplemented
        return _binary(self, other, OP_POW, OP_POWK)

    def __rpow__(self, other, modulo=None):
        if modulo is not None:
            return NotImplemented
        return _reflected(self, other, OP_RPOWK, "**")

    def __neg__(self):
        return _new(self.tape, OP_NEG, self, None, 0.0)

    def __pos__(self):
        return self

    def __abs__(self):
        return _new(self.tape, OP_ABS, self, None, 0.0)

    # ---- elementwise functions: tanh, relu, ... are added from the op table below ----

    # ---- identity equality, ordering on .data --------------------------------------------------------------

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return object.__hash__(self)

    def __lt__(self, other):
        return _compare(self, other, OP_LT, False, OP_LTK)

    def __le__(self, other):
        return _compare(self, other, OP_LE, False, OP_LEK)

    def __gt__(self, other):
        return _compare(self, other, OP_LT, True, OP_GTK)

    def __ge__(self, other):
        return _compare(self, other, OP_LE, True, OP_GEK)


def op_of(Value v):
    """The op-table row (an ``OpInfo``) of the op that produced ``v``."""
    return OPS[v.tape.op[v.idx]]


# --------------------------------------------------------------------------------------
# Value's methods from the op table: every row with a method name becomes a method of
# Value (and, in fastgrad/functions.py, a function of fastgrad). Operators (+, -, ...,
# unary -, abs()) are type slots and are written out in the class above.
# --------------------------------------------------------------------------------------

cdef object _method(int code):
    cdef const OpRow* row = &ROWS[code]

    def method(Value self):
        return _new(self.tape, code, self, None, 0.0)

    method.__name__ = OPS[code].method
    method.__qualname__ = "Value." + OPS[code].method
    method.__doc__ = row.doc.decode() if row.doc != NULL else None
    return method


cdef _install_methods():
    # Written into the type's dict as Cython itself writes class attributes of a cdef
    # class (the type is static, so setattr is refused); PyType_Modified clears the
    # method cache.
    cdef dict namespace = <dict>(<PyTypeObject*>Value).tp_dict
    for row in OPS:
        if row.method is not None:
            if row.arity != 1 or row.method in namespace:
                raise RuntimeError(f"op table: the row {row.key!r} cannot become the method "
                                   f"{row.method!r} (one Value operand, a new name)")
            namespace[row.method] = _method(row.code)
    PyType_Modified(Value)

_install_methods()
