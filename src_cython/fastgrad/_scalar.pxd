# Declarations of the compiled scalar engine: the op table, the tape, the Value handle.
# Implementation and design notes: _scalar.pyx.

from libc.stdint cimport int32_t, uint8_t, uint32_t
from cpython.object cimport PyObject

ctypedef double float64_t
ctypedef int32_t node_t             # index of a node on a tape (node 0 is the sink)

# An op code indexes the op table (ROWS in _scalar.pyx), which assigns codes in the
# order its rows are written; only the leaf's is fixed.
cdef enum:
    OP_LEAF = 0
    MAX_OPS = 64            # room in the op table (op codes are one byte on the tape)

# An op's rules (see "The op table" in _scalar.pyx): loops over n samples.
# rule: v = f(x, y), dx = df/dx, dy = df/dy. rule2: the second partials.
# For an op with a constant, y points at the one constant; for an op of one Value
# operand, y, dy, dxy and dyy are not used.
ctypedef void (*rule_t)(Py_ssize_t n, const float64_t* x, const float64_t* y,
                        float64_t* v, float64_t* dx, float64_t* dy) noexcept nogil
ctypedef void (*rule2_t)(Py_ssize_t n, const float64_t* x, const float64_t* y,
                         float64_t* dxx, float64_t* dxy, float64_t* dyy) noexcept nogil

# Which second partials of an op may be nonzero (OpRow.curvature): the Hessian's
# sparsity pattern is read off the program with them (_function.pyx).
cdef enum:
    CURV_XX = 1             # d2f/dx2
    CURV_XY = 2             # d2f/dxdy
    CURV_YY = 4             # d2f/dy2

# Partials that are the constant +1 or -1 whatever the operands (OpRow.unit): a reverse
# sweep adds or subtracts the adjoint instead of multiplying (_function.pyx).
cdef enum:
    UNIT_X = 1              # d/dx == +1
    UNIT_NEG_X = 2          # d/dx == -1
    UNIT_Y = 4              # d/dy == +1
    UNIT_NEG_Y = 8          # d/dy == -1

cdef struct OpRow:
    const char* key         # unique id ("rsubk"): tests and the reference engine use it
    const char* name        # what Value.op shows ("-")
    const char* method      # Value method and fastgrad function ("tanh"), or NULL
    int arity               # 0 leaf, 1 one Value operand (+ maybe a constant), 2 two Values
    bint constant           # one Value operand and a constant k (kept in the db column)
    bint guard              # a comparison recorded as a guard (value 1.0 or 0.0)
    rule_t rule             # forward value and local partials
    rule2_t rule2           # second partials
    int curvature           # CURV_* bits of the second partials that may be nonzero
    int unit                # UNIT_* bits: partials that are constant +-1 (0: none)
    const char* doc         # docstring of the method (NULL without one)

cdef const OpRow* op_row(int code) noexcept nogil
cdef int n_ops() noexcept nogil


# The tape's columns (one array each, one row per node). _columns() in _scalar.pyx lists
# them with their item sizes and kinds; resizing, freeing, nbytes and compaction all
# iterate that one list.
cdef enum:
    N_COLUMNS = 9

cdef enum ColumnKind:
    COL_DATA            # moved as is by compaction
    COL_NODE            # a node index: moved, then remapped to the parent's new row
    COL_HANDLE          # a borrowed Value pointer: moved, the Value's idx updated
    COL_SCRATCH         # per-sweep scratch (compaction's mark array): not moved

cdef struct Column:
    void** ptr              # address of the Tape's pointer to the array
    size_t itemsize         # bytes a row
    ColumnKind kind


cdef class Tape:
    # Structure of arrays, one row per node, grown by doubling realloc.
    cdef uint8_t* op            # op code
    cdef node_t* pa             # parent a (0 = the sink, for leaves)
    cdef node_t* pb             # parent b (0 = the sink, for leaves and one-operand ops)
    cdef float64_t* val         # forward value
    cdef float64_t* da          # d val / d val[pa], computed in the forward pass
    cdef float64_t* db          # d val / d val[pb]; for one-operand ops the constant k
    cdef float64_t* adj         # adjoint: accumulated on leaves, latest sweep's on the rest
    cdef uint32_t* seen         # sweep stamp: == epoch when reached by the current sweep
    cdef PyObject** handle      # borrowed pointer to the node's Value handle, or NULL
    cdef Py_ssize_t n           # rows in use, the sink included
    cdef Py_ssize_t cap         # rows usable in every column: <= rows[c] for each c
    cdef Py_ssize_t rows[N_COLUMNS]  # rows allocated in each column (see _resize)
    cdef uint32_t epoch         # stamp of the latest sweep
    cdef readonly Py_ssize_t compactions  # how many mark-and-compact passes ran
    cdef dict labels            # row -> label, for the few rows that have one
    cdef int guards_held        # > 0 while fastgrad.trace records: guards and their
                                # operands survive compaction

    cdef int _columns(self, Column* cols) noexcept
    cdef int _resize(self, Py_ssize_t cap) except -1
    cdef int _make_room(self) except -1
    cdef int _compact(self) except -1
    cdef int _trim(self) except -1
    cdef node_t push(self, int op, Value x, Value y, float64_t k) except -1
    cdef int sweep(self, node_t root, float64_t seed) except -1


cdef class Value:
    cdef Tape tape              # the tape holding this node; owned reference
    cdef node_t idx             # row on that tape (updated when the tape compacts)
