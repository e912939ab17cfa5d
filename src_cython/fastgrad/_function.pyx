"""The compiled replay of a recorded scalar program: the engine of ``fastgrad.Function``.

Data flow
---------
``build`` cuts the sub-graph between some input Values and some output Values out of a
``Tape`` (``_scalar.pyx``) into a *program*: flat arrays of instructions (op code, result
slot, operand slots, constant) over a set of *slots*. Slot 0 is the sink (as row 0 of a
tape), then come the inputs, then the constants (leaves that are not inputs, and
interior Values that do not depend on any input, at their recorded values), then the
working slots, which are reused: a working slot is given back once the last instruction
reading its value has run (liveness), so a chain of a million nodes runs in a handful of
slots. An instruction's result slot is taken before its operands' slots are given back,
so a result never overwrites its own operands (the rules read x[s] after writing v[s]).

The sweeps call the op table's rules (``_scalar.pyx``, "The op table"): there is no per-op
code here. Every rule is a loop over n samples, so each sweep is *sample-inner*: for each
instruction one call runs a tight loop over the batch (n = 1 for a plain replay, the
batch size under ``vmap``; slot s of sample j is ``val[s * B + j]``).

* forward: values, and the local partials ``da``/``db`` per instruction when a reverse
  sweep follows (else into a scratch row);
* tangent (forward mode): ``tan[dst] = da * tan[a] + db * tan[b]``, and with second
  derivatives the tangents of the partials, ``dda = dxx * tan[a] + dxy * tan[b]``,
  ``ddb = dxy * tan[a] + dyy * tan[b]`` from the row's ``rule2``;
* reverse: ``adj[a] += adj[dst] * da``, ``adj[b] += adj[dst] * db`` after taking and
  clearing ``adj[dst]`` (a reused slot's adjoint is cleared when its later occupant is
  done, before the earlier occupant's readers add into it); forward-over-reverse also
  carries ``adt[a] += adt[dst] * da + adj[dst] * dda``, which gives Hessian-vector
  products.

Hessians: ``Program.hessian`` first reads the Hessian's sparsity pattern off the program
(which inputs each slot depends on, and which of them meet in a nonzero second partial:
each row's ``curvature`` bits), colours its columns so that no two columns of one
colour have a nonzero in the same row (structurally orthogonal: a greedy distance-2
colouring), and runs one forward-over-reverse direction per colour, the sum of its
columns' unit vectors; each entry is then read directly from its column's colour. Every
number that reaches an entry is computed by the same operations as in the dense sweep
(one direction per column), the others adding exact zeros, so for finite partials the
two agree; where a partial is not finite (0 * inf), the dense sweep is run instead.

Guards: a guard row of the tape (a comparison made while recording) becomes an
instruction that re-evaluates the comparison and checks its recorded outcome; where
it differs, the sweep stops and ``BranchChanged`` is raised naming it. All sweeps run
without the GIL.
"""

cimport cython
from cpython.ref cimport Py_REFCNT
from libc.stdint cimport INT32_MAX, int32_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memset

from fastgrad._scalar cimport (CURV_XX, CURV_XY, CURV_YY, OP_LEAF, UNIT_NEG_X,
                               UNIT_NEG_Y, UNIT_X, UNIT_Y, Tape, Value, n_ops, node_t,
                               op_row)

from weakref import getweakrefcount

#: samples a sweep takes at a time: a block's work space stays in the CPU's caches (the
#: micrograd MLP's 643 instructions at 64 samples: ~0.8 MB of partials)
cdef Py_ssize_t BLOCK = 64

import numpy as np

from fastgrad._scalar import OPS as _OPS


class BranchChanged(ValueError):
    """A replay reached a comparison that would go the other way than when recorded.

    The recorded program follows one path through the Python code's ``if``s; at these
    arguments the code would take another, so the program's value would be wrong.
    Record the function again at these arguments (``fastgrad.trace``), or write the
    branch with ``relu``/``abs``, which are not guards.
    """


cdef inline bint _same(float64_t a, float64_t b) noexcept nogil:
    return a == b or (a != a and b != b)


# --------------------------------------------------------------------------------------
# Building a program from a tape
# --------------------------------------------------------------------------------------

cdef str _operand_name(Tape tape, node_t p, const uint8_t* dep, dict input_index):
    label = tape.labels.get(p, "")
    if dep[p] == 2:
        return label or f"inputs[{input_index[p]}]"
    if dep[p] == 0:
        return label or repr(tape.val[p])
    return label or f"({_OPS[tape.op[p]].name or 'leaf'} node)"


@cython.boundscheck(False)
@cython.wraparound(False)
def build(list inputs, list outputs, Py_ssize_t guard_lo, Py_ssize_t guard_hi):
    """Cut the program computing the Values ``outputs`` from the leaves ``inputs`` out of
    their tape.

    Guard rows in ``[guard_lo, guard_hi)`` whose operands depend on an input (and still
    hold the values they compared) become guard instructions. Returns a dict of arrays
    (see ``Program``).
    """
    cdef Tape tape = (<Value>(inputs + outputs)[0]).tape
    for v in inputs + outputs:
        if (<Value>v).tape is not tape:
            raise ValueError("fastgrad.Function: the inputs and outputs were recorded on "
                             "different tapes (in different threads)")
    cdef list in_rows = [(<Value>v).idx for v in inputs]
    cdef list out_rows = [(<Value>v).idx for v in outputs]
    cdef Py_ssize_t n = tape.n, i, j, t, n_in = len(in_rows), n_instr = 0
    cdef const OpRow* row
    cdef node_t p, q
    cdef uint8_t* dep = <uint8_t*>calloc(n, 1)
    cdef uint8_t* needed = <uint8_t*>calloc(n, 1)
    cdef int32_t* slot = <int32_t*>calloc(n, sizeof(int32_t))
    cdef int32_t* last = <int32_t*>calloc(n, sizeof(int32_t))
    cdef int32_t* free_slots = NULL
    cdef Py_ssize_t n_free = 0, n_slots
    if dep == NULL or needed == NULL or slot == NULL or last == NULL:
        free(dep); free(needed); free(slot); free(last)
        raise MemoryError("fastgrad.Function: cannot allocate the scratch to cut a program")
    try:
        input_index = {}
        for j, r in enumerate(in_rows):
            dep[<node_t>r] = 2
            input_index[r] = j
        # which rows depend on an input
        for i in range(1, n):
            if tape.op[i] != OP_LEAF and (dep[tape.pa[i]] or dep[tape.pb[i]]):
                dep[i] = 1
        # which rows the outputs and the guards need
        for r in out_rows:
            needed[<node_t>r] = 1
        for i in range(max(guard_lo, 1), min(guard_hi, n)):
            row = op_row(tape.op[i])
            if row.guard and dep[i] and _same(tape.val[tape.pa[i]], tape.da[i]) and (
                    row.arity == 1 or _same(tape.val[tape.pb[i]], tape.db[i])):
                needed[i] = 1
        for i in range(n - 1, 0, -1):
            if needed[i] and dep[i] == 1:
                n_instr += 1
                needed[tape.pa[i]] = 1
                if op_row(tape.op[i]).arity == 2:
                    needed[tape.pb[i]] = 1
        # last reader of each row, in instruction numbers; outputs live to the end
        t = 0
        for i in range(1, n):
            if needed[i] and dep[i] == 1:
                last[tape.pa[i]] = <int32_t>t
                if op_row(tape.op[i]).arity == 2:
                    last[tape.pb[i]] = <int32_t>t
                t += 1
        for r in out_rows:
            last[<node_t>r] = INT32_MAX
        # slots: the sink, the inputs, the constants, then working slots
        for j in range(n_in):
            slot[<node_t>in_rows[j]] = <int32_t>(1 + j)
        n_slots = 1 + n_in
        const_slots, const_vals = [], []
        for i in range(1, n):
            if needed[i] and dep[i] == 0:
                slot[i] = <int32_t>n_slots
                const_slots.append(n_slots)
                const_vals.append(tape.val[i])
                n_slots += 1
        op = np.zeros(n_instr, np.uint8)
        dst = np.zeros(n_instr, np.int32)
        a = np.zeros(n_instr, np.int32)
        b = np.zeros(n_instr, np.int32)
        k = np.zeros(n_instr, np.float64)
        expect = np.zeros(n_instr, np.float64)
        guards = {}
        free_slots = <int32_t*>malloc((n_instr + 1) * sizeof(int32_t))
        if free_slots == NULL:
            raise MemoryError("fastgrad.Function: cannot allocate the slot list")
        t = 0
        for i in range(1, n):
            if not (needed[i] and dep[i] == 1):
                continue
            row = op_row(tape.op[i])
            p = tape.pa[i]
            q = tape.pb[i] if row.arity == 2 else 0
            op[t] = tape.op[i]
            a[t] = slot[p]
            b[t] = slot[q]
            if row.constant:
                k[t] = tape.db[i]
            if row.guard:
                expect[t] = tape.val[i]
                rhs = (_operand_name(tape, q, dep, input_index) if row.arity == 2
                       else repr(tape.db[i]))
                guards[t] = f"{_operand_name(tape, p, dep, input_index)} {row.name.decode()} {rhs}"
            else:                       # take the result slot before freeing operands
                if n_free:
                    n_free -= 1
                    slot[i] = free_slots[n_free]
                else:
                    slot[i] = <int32_t>n_slots
                    n_slots += 1
                dst[t] = slot[i]
            if dep[p] == 1 and last[p] == t:
                free_slots[n_free] = slot[p]
                n_free += 1
            if q != p and dep[q] == 1 and last[q] == t:
                free_slots[n_free] = slot[q]
                n_free += 1
            t += 1
        return dict(op=op, dst=dst, a=a, b=b, k=k, expect=expect,
                    inputs=np.arange(1, 1 + n_in, dtype=np.int32),
                    const_slots=np.asarray(const_slots, np.int32),
                    const_vals=np.asarray(const_vals, np.float64),
                    outputs=np.asarray([slot[<node_t>r] for r in out_rows], np.int32),
                    n_slots=n_slots, guards=guards)
    finally:
        free(dep); free(needed); free(slot); free(last); free(free_slots)


# --------------------------------------------------------------------------------------
# The program and its sweeps
# --------------------------------------------------------------------------------------

cdef class _Work:
    # Scratch memory of one sweep, kept by its Program between calls (so a replay does
    # not fault in fresh pages every time); one sweep at a time uses it.
    cdef float64_t* buf[9]
    cdef Py_ssize_t size[9]
    cdef list outs                  # the last result arrays handed out (see `out`)

    cdef object out(self, int i, Py_ssize_t n):
        # A result array of n numbers: the one handed out last time if nothing refers to
        # it any more (no reference, view or weak reference but this list's), else a new
        # one. A large array freed and allocated again at every call is given fresh pages
        # by malloc each time, and faulting them in costs more than the sweep that fills
        # them (a vmap-ed gradient of 340 inputs x 100 samples: some 70 page faults).
        if self.outs is None:
            self.outs = [None, None]
        a = self.outs[i]
        if (a is not None and Py_REFCNT(a) == 2 and a.shape[0] == n
                and getweakrefcount(a) == 0):
            return a
        a = np.empty(n)
        self.outs[i] = a
        return a

    cdef float64_t* get(self, int i, Py_ssize_t n) except NULL:
        cdef void* p
        if self.size[i] < n:
            p = realloc(self.buf[i], max(n, 1) * sizeof(float64_t))
            if p == NULL:
                raise MemoryError(f"fastgrad.Function: cannot allocate {n} numbers of "
                                  "work space")
            self.buf[i] = <float64_t*>p
            self.size[i] = n
        return self.buf[i]

    def __dealloc__(self):
        for i in range(9):
            free(self.buf[i])


cdef uint8_t _kind(const OpRow* row) noexcept nogil:
    # how the reverse sweep treats an instruction of this row (K_* in _function.pxd)
    if row.guard:
        return K_GUARD
    if row.arity == 2:
        if row.unit == UNIT_X | UNIT_Y:
            return K_ADD
        if row.unit == UNIT_X | UNIT_NEG_Y:
            return K_SUB
        return K_TWO
    if row.unit == UNIT_X:
        return K_COPY
    if row.unit == UNIT_NEG_X:
        return K_NEGATE
    return K_ONE


_ARRAYS = {"op": np.uint8, "dst": np.int32, "a": np.int32, "b": np.int32, "k": np.float64,
           "expect": np.float64, "inputs": np.int32, "const_slots": np.int32,
           "const_vals": np.float64, "outputs": np.int32}


@cython.final
cdef class Program:
    """An immutable recorded program: the arrays of ``build``, checked, and its sweeps.

    Parameters
    ----------
    arrays : dict
        ``op dst a b k expect`` (one entry per instruction), ``inputs`` (the input
        slots), ``const_slots``/``const_vals``, ``outputs`` (the output slots),
        ``n_slots`` and ``guards`` (instruction number -> text of the comparison).
        Anything inconsistent raises ``ValueError`` (a program is never run on slots
        it does not have).
    """

    cdef readonly dict arrays
    cdef readonly dict guards
    cdef readonly Py_ssize_t n_slots
    cdef Prog prog
    cdef object _work             # a _Work, or None while a sweep uses it
    cdef dict _hess               # (lo, hi) -> the Hessian's colouring (or None: dense)
    cdef const uint8_t[::1] _op
    cdef const int32_t[::1] _dst, _a, _b, _inputs, _cslots, _outputs
    cdef const float64_t[::1] _k, _expect, _cvals

    def __init__(self, dict arrays):
        cdef Py_ssize_t i, n, n_slots
        cdef const OpRow* row
        if self.prog.row != NULL or self.prog.kind != NULL:
            raise RuntimeError("Program.__init__ may be called only once: a program is "
                               "immutable")
        try:
            got = {name: np.ascontiguousarray(arrays[name], dtype)
                   for name, dtype in _ARRAYS.items()}
            n_slots = int(arrays["n_slots"])
            guards = {int(t): str(s) for t, s in dict(arrays["guards"]).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a fastgrad program: {exc!r}") from None
        n = len(got["op"])
        if any(got[name].ndim != 1 for name in got) or any(
                len(got[name]) != n for name in ("dst", "a", "b", "k", "expect")) or (
                len(got["const_slots"]) != len(got["const_vals"])):
            raise ValueError("not a fastgrad program: its arrays have inconsistent shapes")
        if not 1 <= n_slots < INT32_MAX:
            raise ValueError(f"not a fastgrad program: {n_slots} slots")
        for name in ("dst", "a", "b", "inputs", "const_slots", "outputs"):
            if len(got[name]) and (got[name].min() < 0 or got[name].max() >= n_slots):
                raise ValueError(f"not a fastgrad program: {name} names a slot outside "
                                 f"0..{n_slots - 1}")
        fixed = set(got["inputs"].tolist()) | set(got["const_slots"].tolist())
        if 0 in fixed or len(fixed) != len(got["inputs"]) + len(got["const_slots"]):
            raise ValueError("not a fastgrad program: input and constant slots overlap")
        self._op = got["op"]
        self._dst = got["dst"]
        self._a = got["a"]
        self._b = got["b"]
        for i in range(n):
            if self._op[i] == OP_LEAF or self._op[i] >= n_ops():
                raise ValueError(f"not a fastgrad program: instruction {i} has op code "
                                 f"{self._op[i]}")
            row = op_row(self._op[i])
            if row.guard != (self._dst[i] == 0) or (row.arity == 1 and self._b[i] != 0) or (
                    row.guard and i not in guards) or (
                    not row.guard and (self._dst[i] == self._a[i] or self._dst[i] == self._b[i]
                                       or self._dst[i] in fixed)):
                raise ValueError(f"not a fastgrad program: instruction {i} "
                                 f"({_OPS[self._op[i]].key}) has bad slots")
        self._k = got["k"]
        self._expect = got["expect"]
        self._inputs = got["inputs"]
        self._cslots = got["const_slots"]
        self._cvals = got["const_vals"]
        self._outputs = got["outputs"]
        for arr in got.values():
            arr.flags.writeable = False
        self.arrays = got
        self.arrays["n_slots"] = n_slots
        self.guards = guards
        self.n_slots = n_slots
        self.prog.n = n
        self.prog.n_slots = n_slots
        self.prog.op = &self._op[0] if n else NULL
        self.prog.dst = &self._dst[0] if n else NULL
        self.prog.a = &self._a[0] if n else NULL
        self.prog.b = &self._b[0] if n else NULL
        self.prog.k = &self._k[0] if n else NULL
        self.prog.expect = &self._expect[0] if n else NULL
        self.prog.row = <const OpRow**>malloc(max(n, 1) * sizeof(OpRow*))
        self.prog.kind = <uint8_t*>malloc(max(n, 1))
        if self.prog.row == NULL or self.prog.kind == NULL:
            raise MemoryError("fastgrad.Function: cannot allocate the program")
        for i in range(n):
            row = op_row(self._op[i])
            self.prog.row[i] = row
            (<uint8_t*>self.prog.kind)[i] = _kind(row)

    def __dealloc__(self):
        free(<void*>self.prog.row)
        free(<void*>self.prog.kind)

    @property
    def n_instructions(self):
        """Instructions in the program (guards included)."""
        return self.prog.n

    @property
    def n_inputs(self):
        return len(self._inputs)

    @property
    def n_outputs(self):
        return len(self._outputs)

    def hessian(self, const float64_t[::1] x, Py_ssize_t lo, Py_ssize_t hi,
                bint dense=False):
        """The Hessian of the one output w.r.t. inputs ``lo:hi`` at the inputs ``x``: an
        ``(hi - lo, hi - lo)`` array.

        One forward-over-reverse direction per colour of its columns (module docstring,
        "Hessians"): the pattern and colouring of ``lo:hi`` are computed at the first
        call and kept. ``dense``: one direction per column (the reference; also what runs
        where colouring saves nothing or a partial is not finite).
        """
        cdef Py_ssize_t n_in = len(self._inputs), m = hi - lo, i, p, B
        cdef const int32_t[::1] colour, indptr, indices
        cdef float64_t[:, ::1] Hv
        cdef const float64_t[::1] hv
        if len(self._outputs) != 1:
            raise ValueError(f"a Hessian needs one output; this program has "
                             f"{len(self._outputs)}")
        if not 0 <= lo <= hi <= n_in:
            raise ValueError(f"inputs {lo}:{hi} are not within the program's {n_in}")
        if x.shape[0] != n_in:
            raise ValueError(f"expected {n_in} inputs, got {x.shape[0]} numbers")
        X = np.asarray(x)
        if m == 0:
            self._run(x, 1, None, None, False, False)   # the guards still hold
            return np.zeros((0, 0))
        colouring = None if dense else self._colouring(lo, hi)
        if colouring is not None:
            colour, B, indptr, indices, T, ones = colouring
            _, _, _, hv, finite = self._run(np.repeat(X, B), B, T, ones, True, True)
            if finite:
                H = np.zeros((m, m))
                Hv = H
                for i in range(m):
                    for p in range(indptr[i], indptr[i + 1]):
                        Hv[i, indices[p]] = hv[(lo + i) * B + colour[indices[p]]]
                return H
        # dense: all m directions at once, a batch of m copies of x, e_j in copy j
        T = np.zeros((n_in, m))
        T[lo:hi, :] = np.eye(m)
        _, _, _, hv, _ = self._run(np.repeat(X, m), m, T.ravel(), np.ones(m), True, False)
        return np.asarray(hv).reshape(n_in, m)[lo:hi, :].copy()

    def hessian_colouring(self, Py_ssize_t lo, Py_ssize_t hi):
        """``(colour, n_colours, pattern)`` of the Hessian w.r.t. inputs ``lo:hi``:
        ``colour[j]`` the colour of column j (-1 for a column that is structurally zero),
        ``pattern`` an (m, m) bool array of the entries that may be nonzero; None where
        the Hessian is computed densely (no colouring saves a direction)."""
        if not 0 <= lo <= hi <= len(self._inputs):
            raise ValueError(f"inputs {lo}:{hi} are not within the program's "
                             f"{len(self._inputs)}")
        c = self._colouring(lo, hi)
        if c is None:
            return None
        colour, _, indptr, indices, T, _ = c
        n_colours = int(colour.max()) + 1 if len(colour) else 0
        m = hi - lo
        pattern = np.zeros((m, m), bool)
        for i in range(m):
            pattern[i, np.asarray(indices[indptr[i]:indptr[i + 1]])] = True
        return np.asarray(colour).copy(), n_colours, pattern

    cdef object _colouring(self, Py_ssize_t lo, Py_ssize_t hi):
        # (colour, B, indptr, indices, tangents, seeds) of inputs lo:hi, or None (dense):
        # made at the first call, kept
        if self._hess is None:
            self._hess = {}
        key = (lo, hi)
        if key not in self._hess:
            c = _hessian_colouring(&self.prog, self._inputs, lo, hi)
            if c is not None:
                colour, n_colours, indptr, indices = c
                B = max(n_colours, 1)           # no colour at all: one zero direction
                T = np.zeros((len(self._inputs), B))
                cols = np.flatnonzero(colour >= 0)
                T[lo + cols, colour[cols]] = 1.0
                c = (colour, B, indptr, indices, T.ravel(), np.ones(B))
            self._hess[key] = c
        return self._hess[key]

    @cython.boundscheck(False)
    @cython.wraparound(False)
    def run(self, const float64_t[::1] x, Py_ssize_t B, tangent=None, seed=None,
            bint second=False):
        """Run the sweeps on ``B`` samples.

        ``x``: the inputs, input-major (input i of sample s at ``i * B + s``); ``tangent``
        the same for a forward-mode sweep; ``seed``: the outputs' cotangents,
        output-major, for a reverse sweep; ``second``: forward-over-reverse (needs both).
        Returns ``(values, tangents_out, gradients, hvp)``, None where not asked for;
        raises ``BranchChanged`` where a guard fails.
        """
        return self._run(x, B, tangent, seed, second, False)[:4]

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef tuple _run(self, const float64_t[::1] x, Py_ssize_t B, object tangent, object seed,
                    bint second, bint check):
        # run()'s sweeps; the tuple's fifth item (with ``check`` and ``second``): whether
        # every partial and tangent of a partial of the sweeps is finite
        cdef Py_ssize_t n_in = len(self._inputs), n_out = len(self._outputs)
        cdef Py_ssize_t S = self.n_slots, n = self.prog.n, i, j, s
        cdef const float64_t[::1] tx, sd
        cdef bint finite = True
        if B < 1 or x.shape[0] != n_in * B:
            raise ValueError(f"expected {n_in} inputs x {B} samples, got {x.shape[0]} numbers")
        if tangent is not None:
            tx = tangent
            if tx.shape[0] != n_in * B:
                raise ValueError(f"expected {n_in * B} tangent numbers, got {tx.shape[0]}")
        if seed is not None:
            sd = seed
            if sd.shape[0] != n_out * B:
                raise ValueError(f"expected {n_out * B} cotangent numbers, got {sd.shape[0]}")
        if second and (tangent is None or seed is None):
            raise ValueError("second derivatives need a tangent and a seed")
        cdef bint keep = seed is not None, fwd = tangent is not None
        # the samples go through in blocks of at most BLOCK: a block's work space (values,
        # partials and adjoints of every instruction) stays in the CPU's caches, and
        # memory does not grow with B; a sample's numbers do not depend on its block
        cdef Py_ssize_t Bb = min(B, BLOCK), s0 = 0, nb
        cdef Py_ssize_t rows = n * Bb if keep else Bb
        work = self._work if self._work is not None else _Work()
        self._work = None               # another thread meanwhile makes its own
        cdef _Work w = work
        cdef float64_t* val = w.get(0, S * Bb)
        cdef float64_t* da = w.get(1, rows)
        cdef float64_t* db = w.get(2, rows)
        cdef float64_t* scratch = w.get(3, 4 * Bb)
        cdef float64_t* tan = w.get(4, S * Bb) if fwd else NULL
        cdef float64_t* dda = w.get(5, rows) if second else NULL
        cdef float64_t* ddb = w.get(6, rows) if second else NULL
        cdef float64_t* adj = w.get(7, S * Bb) if keep else NULL
        cdef float64_t* adt = w.get(8, S * Bb) if second else NULL
        cdef Py_ssize_t bad = -1, bad_sample = 0
        values = np.empty(n_out * B)
        tangents = np.empty(n_out * B) if fwd else None
        grads = w.out(0, n_in * B) if keep else None
        hv = w.out(1, n_in * B) if second else None
        cdef float64_t[::1] vout = values
        cdef float64_t[::1] tout, gout, hout
        if fwd:
            tout = tangents
        if keep:
            gout = grads
        if second:
            hout = hv
        try:
            with nogil:
                while s0 < B:
                    nb = min(Bb, B - s0)
                    for s in range(nb):
                        val[s] = 0.0
                    if fwd:
                        memset(tan, 0, S * nb * sizeof(float64_t))
                    for i in range(n_in):
                        for s in range(nb):
                            val[self._inputs[i] * nb + s] = x[i * B + s0 + s]
                            if fwd:
                                tan[self._inputs[i] * nb + s] = tx[i * B + s0 + s]
                    for i in range(self._cslots.shape[0]):
                        for s in range(nb):
                            val[self._cslots[i] * nb + s] = self._cvals[i]
                    bad = _forward(&self.prog, nb, val, tan, da, db, dda, ddb, keep,
                                   scratch, &bad_sample)
                    if bad >= 0:
                        bad_sample += s0
                        break
                    _gather(val, self._outputs, nb, vout, B, s0)
                    if fwd:
                        _gather(tan, self._outputs, nb, tout, B, s0)
                    if keep:
                        memset(adj, 0, S * nb * sizeof(float64_t))
                        if second:
                            memset(adt, 0, S * nb * sizeof(float64_t))
                        for j in range(n_out):
                            for s in range(nb):
                                adj[self._outputs[j] * nb + s] += sd[j * B + s0 + s]
                        memset(scratch, 0, nb * sizeof(float64_t))
                        _reverse(&self.prog, nb, adj, da, db, adt, dda, ddb, scratch)
                        _gather(adj, self._inputs, nb, gout, B, s0)
                        if second:
                            _gather(adt, self._inputs, nb, hout, B, s0)
                            if check and finite:
                                finite = _finite(&self.prog, nb, da, db, dda, ddb)
                    s0 += nb
            if bad >= 0:
                expected = self._expect[bad] != 0.0
                where = f" (sample {bad_sample} of the batch)" if B > 1 else ""
                raise BranchChanged(
                    f"fastgrad.Function: the comparison `{self.guards[bad]}` was {expected} "
                    f"when the function was recorded and is {not expected} at these "
                    f"arguments{where}: the recorded program does not hold here. Record "
                    f"it again at these arguments (fastgrad.trace), or write the branch "
                    f"without comparing Values (relu, abs).")
            return values, tangents, grads, hv, finite
        finally:
            self._work = work


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _gather(const float64_t* src, const int32_t[::1] slots, Py_ssize_t nb,
                  float64_t[::1] out, Py_ssize_t B, Py_ssize_t s0) noexcept nogil:
    # a block's numbers of the given slots (nb samples, slot-major) into their place in
    # the batch's result (B samples, item-major, the block starting at sample s0)
    cdef Py_ssize_t j, s
    for j in range(slots.shape[0]):
        for s in range(nb):
            out[j * B + s0 + s] = src[slots[j] * nb + s]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _forward(const Prog* P, Py_ssize_t B, float64_t* val, float64_t* tan,
                         float64_t* da, float64_t* db, float64_t* dda, float64_t* ddb,
                         bint keep, float64_t* scratch, Py_ssize_t* bad_sample) noexcept nogil:
    # Values (and partials, tangents, tangents of the partials); returns the number of
    # the first guard that fails, or -1.
    cdef Py_ssize_t i, s
    cdef const OpRow* row
    cdef const float64_t* x
    cdef const float64_t* y
    cdef const float64_t* ta
    cdef const float64_t* tb
    cdef float64_t* pa
    cdef float64_t* pb
    cdef float64_t* to
    cdef float64_t* qa
    cdef float64_t* qb
    cdef float64_t* hxx = scratch + B
    cdef float64_t* hxy = scratch + 2 * B
    cdef float64_t* hyy = scratch + 3 * B
    for i in range(P.n):
        row = P.row[i]
        x = val + P.a[i] * B
        y = (val + P.b[i] * B) if row.arity == 2 else (P.k + i)
        if row.guard:
            row.rule(B, x, y, scratch, hxx, hyy)
            for s in range(B):
                if scratch[s] != P.expect[i]:
                    bad_sample[0] = s
                    return i
            continue
        pa = da + (i * B if keep else 0)
        pb = db + (i * B if keep else 0)
        row.rule(B, x, y, val + P.dst[i] * B, pa, pb)
        if tan == NULL:
            continue
        ta = tan + P.a[i] * B
        tb = tan + P.b[i] * B
        to = tan + P.dst[i] * B
        if dda == NULL:
            if row.arity == 2:
                for s in range(B):
                    to[s] = pa[s] * ta[s] + pb[s] * tb[s]
            else:
                for s in range(B):
                    to[s] = pa[s] * ta[s]
            continue
        # the tangents and the tangents of the partials in one loop; a linear row's
        # second partials are zeros (its rule2 is not called: 0.0 * t as with them)
        qa = dda + i * B
        qb = ddb + i * B
        if row.curvature == 0:
            if row.arity == 2:
                for s in range(B):
                    to[s] = pa[s] * ta[s] + pb[s] * tb[s]
                    qa[s] = 0.0 * ta[s] + 0.0 * tb[s]
                    qb[s] = 0.0 * ta[s] + 0.0 * tb[s]
            else:
                for s in range(B):
                    to[s] = pa[s] * ta[s]
                    qa[s] = 0.0 * ta[s]
            continue
        row.rule2(B, x, y, hxx, hxy, hyy)
        if row.arity == 2:
            for s in range(B):
                to[s] = pa[s] * ta[s] + pb[s] * tb[s]
                qa[s] = hxx[s] * ta[s] + hxy[s] * tb[s]
                qb[s] = hxy[s] * ta[s] + hyy[s] * tb[s]
        else:
            for s in range(B):
                to[s] = pa[s] * ta[s]
                qa[s] = hxx[s] * ta[s]
    return -1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _reverse(const Prog* P, Py_ssize_t B, float64_t* adj, const float64_t* da,
                   const float64_t* db, float64_t* adt, const float64_t* dda,
                   const float64_t* ddb, const float64_t* zeros) noexcept nogil:
    # The adjoints (and with adt their tangents). Each instruction takes and clears its
    # result's adjoint and adds it, times the partials, into its operands'; unit
    # partials (K_ADD ...) add or subtract without multiplying; ops of one operand touch
    # only that one.
    cdef Py_ssize_t i, s
    cdef float64_t g, gt
    cdef float64_t* go
    cdef float64_t* ga
    cdef float64_t* gb
    cdef float64_t* to
    cdef float64_t* ta
    cdef float64_t* tb
    cdef const float64_t* pa
    cdef const float64_t* pb
    cdef const float64_t* qa
    cdef const float64_t* qb
    cdef uint8_t kind
    if adt == NULL and B == 1:
        _reverse_one(P, adj, da, db)
        return
    for i in range(P.n - 1, -1, -1):
        kind = P.kind[i]
        if kind == K_GUARD:
            continue
        go = adj + P.dst[i] * B
        ga = adj + P.a[i] * B
        gb = adj + P.b[i] * B
        pa = da + i * B
        if adt == NULL:
            if kind == K_TWO:
                pb = db + i * B
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] += g * pa[s]
                    gb[s] += g * pb[s]
            elif kind == K_ONE:
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] += g * pa[s]
            elif kind == K_ADD:
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] += g
                    gb[s] += g
            elif kind == K_SUB:
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] += g
                    gb[s] -= g
            elif kind == K_COPY:
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] += g
            else:
                for s in range(B):
                    g = go[s]
                    go[s] = 0.0
                    ga[s] -= g
            continue
        to = adt + P.dst[i] * B
        ta = adt + P.a[i] * B
        qa = dda + i * B
        if kind == K_TWO or kind == K_ADD or kind == K_SUB:
            tb = adt + P.b[i] * B
            pb = db + i * B
            qb = ddb + i * B
            for s in range(B):
                g = go[s]
                gt = to[s]
                go[s] = 0.0
                to[s] = 0.0
                ga[s] += g * pa[s]
                gb[s] += g * pb[s]
                ta[s] += gt * pa[s] + g * qa[s]
                tb[s] += gt * pb[s] + g * qb[s]
        else:
            for s in range(B):
                g = go[s]
                gt = to[s]
                go[s] = 0.0
                to[s] = 0.0
                ga[s] += g * pa[s]
                ta[s] += gt * pa[s] + g * qa[s]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _reverse_one(const Prog* P, float64_t* adj, const float64_t* da,
                       const float64_t* db) noexcept nogil:
    # _reverse of one sample, without the loops over the batch. The adjoint of the
    # operand that the previous instruction (i - 1) computed is kept in a register
    # (`carry`, the value of adj[held]) rather than stored and loaded again: on a chain
    # of instructions that is the critical path. The same operations in the same order.
    cdef Py_ssize_t i
    cdef float64_t g, ca, cb, carry = 0.0
    cdef slot_t d, x, y, held = -1, nxt
    cdef uint8_t kind
    cdef const slot_t* dst = P.dst
    cdef const slot_t* a = P.a
    cdef const slot_t* b = P.b
    for i in range(P.n - 1, -1, -1):
        kind = P.kind[i]
        if kind == K_GUARD:
            continue
        d = dst[i]
        if d == held:
            g = carry
        else:
            if held >= 0:
                adj[held] = carry
            g = adj[d]
        adj[d] = 0.0
        held = -1
        nxt = dst[i - 1] if i > 0 else -1
        x = a[i]
        # the contributions to a's and b's adjoints (a unit partial: +-g, no multiply;
        # x + (-g) is x - g exactly)
        if kind == K_TWO or kind == K_ONE:
            ca = g * da[i]
        elif kind == K_NEGATE:
            ca = -g
        else:
            ca = g
        if kind == K_ONE or kind == K_COPY or kind == K_NEGATE:
            carry = adj[x] + ca
            held = x
            continue
        cb = g * db[i] if kind == K_TWO else (g if kind == K_ADD else -g)
        y = b[i]
        if x == y:                      # both partials into one slot, a's first
            carry = (adj[x] + ca) + cb
            held = x
        elif y == nxt:                  # keep b's adjoint, store a's
            adj[x] += ca
            carry = adj[y] + cb
            held = y
        else:                           # keep a's adjoint, store b's
            adj[y] += cb
            carry = adj[x] + ca
            held = x
    if held >= 0:
        adj[held] = carry


# --------------------------------------------------------------------------------------
# The Hessian's sparsity pattern and colouring
# --------------------------------------------------------------------------------------

@cython.boundscheck(False)
@cython.wraparound(False)
cdef bint _finite(const Prog* P, Py_ssize_t B, const float64_t* da, const float64_t* db,
                  const float64_t* dda, const float64_t* ddb) noexcept nogil:
    # every partial and tangent of a partial a forward-over-reverse sweep kept is finite
    cdef Py_ssize_t i, s
    cdef const OpRow* row
    cdef float64_t acc = 0.0
    for i in range(P.n):
        row = P.row[i]
        if row.guard:
            continue
        for s in range(i * B, (i + 1) * B):
            acc += 0.0 * (da[s] + dda[s])           # nan as soon as one is inf or nan
        if row.arity == 2:
            for s in range(i * B, (i + 1) * B):
                acc += 0.0 * (db[s] + ddb[s])
    return acc == 0.0


cdef inline Py_ssize_t _or_rows(uint64_t* H, Py_ssize_t W, const uint64_t* u,
                                const uint64_t* v) noexcept nogil:
    # H[i] |= v for every i in u (rows of W words); returns the words written
    cdef Py_ssize_t w, k, done = 0
    cdef uint64_t bits
    cdef uint64_t* h
    for w in range(W):
        bits = u[w]
        while bits:
            h = H + (w * 64 + _ctz(bits)) * W
            for k in range(W):
                h[k] |= v[k]
            bits &= bits - 1
            done += W
    return done


cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    static int fastgrad_ctz64(unsigned long long x) {
        unsigned long i; _BitScanForward64(&i, x); return (int)i; }
    #else
    static int fastgrad_ctz64(unsigned long long x) { return __builtin_ctzll(x); }
    #endif
    """
    int _ctz "fastgrad_ctz64"(uint64_t x) noexcept nogil


@cython.boundscheck(False)
@cython.wraparound(False)
cdef object _hessian_colouring(const Prog* P, const int32_t[::1] inputs, Py_ssize_t lo,
                               Py_ssize_t hi):
    """The colouring of the Hessian w.r.t. inputs lo:hi (see the module docstring):
    ``(colour, n_colours, indptr, indices)`` with the pattern's rows as CSR, or None
    where no colouring saves a direction (or the pattern costs more than a dense sweep)."""
    cdef Py_ssize_t m = hi - lo, W = (hi - lo + 63) // 64, i, j, k, w, c, p, n_colours = 0
    cdef Py_ssize_t S = P.n_slots, budget = P.n * max(m, 64), work = 0, nnz = 0
    cdef const OpRow* row
    cdef uint64_t* dom = <uint64_t*>calloc(S * W, sizeof(uint64_t))
    cdef uint64_t* H = <uint64_t*>calloc(m * W, sizeof(uint64_t))
    cdef int32_t* colour = <int32_t*>malloc(m * sizeof(int32_t))
    cdef int32_t* stamp = <int32_t*>malloc(m * sizeof(int32_t))
    cdef uint64_t* ua
    cdef uint64_t* ub
    cdef uint64_t* ud
    cdef uint64_t bits, bits2
    cdef int curv
    cdef bint any_row
    try:
        if dom == NULL or H == NULL or colour == NULL or stamp == NULL:
            raise MemoryError("fastgrad.Function: cannot allocate the Hessian's pattern")
        with nogil:
            # which of the inputs lo:hi each slot depends on; where they meet in a
            # nonzero second partial, the Hessian may be nonzero
            for j in range(m):
                dom[inputs[lo + j] * W + j // 64] |= (<uint64_t>1) << (j % 64)
            for i in range(P.n):
                row = P.row[i]
                if row.guard:
                    continue
                ua = dom + P.a[i] * W
                ub = dom + P.b[i] * W
                ud = dom + P.dst[i] * W
                curv = row.curvature
                if row.arity != 2:
                    curv &= CURV_XX
                if curv:
                    if curv & CURV_XX:
                        work += _or_rows(H, W, ua, ua)
                    if curv & CURV_YY:
                        work += _or_rows(H, W, ub, ub)
                    if curv & CURV_XY:
                        work += _or_rows(H, W, ua, ub)
                        work += _or_rows(H, W, ub, ua)
                    if work > budget:               # dearer than a dense sweep
                        break
                for w in range(W):
                    ud[w] = (ua[w] | ub[w]) if row.arity == 2 else ua[w]
        if work > budget:
            return None
        with nogil:
            # greedy distance-2 colouring: column j avoids the colour of every column
            # that has a nonzero in a row where j has one
            for j in range(m):
                colour[j] = -1
                stamp[j] = -1
            for j in range(m):
                any_row = False
                for w in range(W):
                    bits = H[j * W + w]
                    while bits:
                        i = w * 64 + _ctz(bits)
                        bits &= bits - 1
                        any_row = True
                        nnz += 1
                        for k in range(W):
                            bits2 = H[i * W + k]
                            while bits2:
                                c = colour[k * 64 + _ctz(bits2)]
                                bits2 &= bits2 - 1
                                if c >= 0:
                                    stamp[c] = <int32_t>j
                if not any_row:
                    continue                        # a structurally zero column
                c = 0
                while stamp[c] == j:
                    c += 1
                colour[j] = <int32_t>c
                if c + 1 > n_colours:
                    n_colours = c + 1
        if n_colours >= m:
            return None
        indptr = np.zeros(m + 1, np.int32)
        indices = np.empty(nnz, np.int32)
        p = 0
        for i in range(m):
            for w in range(W):
                bits = H[i * W + w]
                while bits:
                    indices[p] = w * 64 + _ctz(bits)
                    bits &= bits - 1
                    p += 1
            indptr[i + 1] = p
        col = np.array(<int32_t[:m]>colour, dtype=np.int32)
        return col, n_colours, indptr, indices
    finally:
        free(dom)
        free(H)
        free(colour)
        free(stamp)
