# Declarations of the compiled replay of a recorded scalar program (fastgrad.Function).
# Implementation and design notes: _function.pyx.

from libc.stdint cimport int32_t, uint8_t

from fastgrad._scalar cimport OpRow, float64_t

ctypedef int32_t slot_t             # index of a slot (slot 0 is the sink)


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
