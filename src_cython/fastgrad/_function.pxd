# Declarations of the compiled replay of a recorded scalar program (fastgrad.Function).
# Implementation and design notes: _function.pyx.

from libc.stdint cimport int32_t, uint8_t

from fastgrad._scalar cimport OpRow, float64_t

ctypedef int32_t slot_t             # index of a slot (slot 0 is the sink)


# How the reverse sweep treats an instruction (Prog.kind), from its op row: the partials
# of add, sub, neg, x + k, x - k, k - x are +-1, so their adjoints are added or
# subtracted, not multiplied (the same numbers: g * 1.0 == g, a + g * -1.0 == a - g).
cdef enum:
    K_GUARD = 0             # a guard: no adjoint
    K_TWO = 1               # two Value operands, partials da, db
    K_ONE = 2               # one Value operand, partial da
    K_ADD = 3               # two operands, partials +1, +1
    K_SUB = 4               # two operands, partials +1, -1
    K_COPY = 5              # one operand, partial +1
    K_NEGATE = 6            # one operand, partial -1

cdef struct Prog:
    # A program as the sweeps see it: borrowed pointers into the Function's arrays.
    Py_ssize_t n                # instructions
    Py_ssize_t n_slots          # slots, the sink included
    const uint8_t* op           # op code (an index of the scalar op table)
    const slot_t* dst           # result slot (0 for a guard)
    const slot_t* a             # first operand's slot
    const slot_t* b             # second operand's slot (0 for ops of one Value operand)
    const float64_t* k          # the constant of ops such as x * k (else 0)
    const float64_t* expect     # per instruction: a guard's recorded outcome (else 0)
    const OpRow** row           # per instruction: its op-table row (looked up once)
    const uint8_t* kind         # per instruction: K_* (looked up once)
