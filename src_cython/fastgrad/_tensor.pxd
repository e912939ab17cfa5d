# Declarations of the compiled tensor engine. Implementation and design: _tensor.pyx.

cdef class Tensor:
    cdef object _data           # numpy.ndarray of a floating dtype
    cdef object _grad           # ndarray or None: accumulated on leaves, latest sweep's on the rest
    cdef bint _requires_grad    # leaves: set by the user; recorded results: True
    cdef int _op                # op code (T_LEAF for leaves and unrecorded results)
    cdef tuple _parents         # one entry per operand: the Tensor, or None for a constant
    cdef tuple _saved           # what the op's vector-Jacobian product needs
    cdef Py_ssize_t _serial     # recording order (ids in drawings and tape tables)
    cdef unsigned long _epoch   # sweep stamp: == the sweep's epoch when gathered by it
    cdef object __weakref__


# The signature of a vector-Jacobian product: the gradient with respect to operand k of
# `out`, given the gradient g of `out` (before broadcasting is undone).
ctypedef object (*vjp_t)(Tensor out, object g, int k)
