# Declarations of the compiled tensor engine. Implementation and design: _tensor.pyx.

# A primitive's forward: the operands' values (ndarrays and numbers, never Tensors) and
# its parameters (axis, shape, index, ...) -> the result.
ctypedef object (*fwd_t)(object prim, tuple args, object params)
# A derivative rule for operand k: the output's cotangent g (VJP) or operand k's tangent
# (JVP), the result ``ans``, every operand's value and the parameters. Written with
# differentiable operations: on ndarrays it is plain numpy, on Tensors it records.
ctypedef object (*rule_t)(object g, object ans, tuple args, object params, int k)


cdef class Primitive:
    cdef readonly str name          # numpy's function name (fastgrad's own where numpy has none)
    cdef readonly str op            # what Tensor.op shows: "+", "*", "neg", "tanh", ...
    cdef readonly int nargs         # operands (-1: any number, as concatenate's)
    cdef readonly unsigned int saves  # bit k set: the VJP reads operand k's value
    cdef readonly bint user         # defined through fastgrad.extend (shapes checked)
    cdef readonly bint python       # a built-in row written in Python (fastgrad/ops/)
    cdef readonly object fronts     # dict: front end -> names this row is reachable by
    cdef fwd_t cfwd
    cdef rule_t cvjp[3]             # per operand (the last serves the rest of a variadic op)
    cdef rule_t cjvp[3]
    cdef object ufunc               # the numpy ufunc an elementwise forward applies, or None
    cdef object pyfwd               # user and Python rows: the Python forward
    cdef object pyvjp               # user: (argnum, ans, args, kwargs) -> (g -> cotangent);
                                    # Python rows: per operand, vjp(g, ans, *args, **params)
    cdef object pyjvp               # user: (argnum, t, ans, args, kwargs) -> tangent;
                                    # Python rows: per operand, jvp(t, ans, *args, **params)


cdef class Tensor:
    cdef object _data           # the value: an ndarray, or a Tensor of an outer level
    cdef object _grad           # reverse mode: accumulated on leaves, the latest sweep's on the rest
    cdef object _tangent        # forward-mode boxes: the tangent (shaped like _data)
    cdef bint _requires_grad    # leaves: set by the user; recorded results and boxes: True
    cdef bint _forward          # a forward-mode box (carries _tangent, records nothing)
    cdef int _level             # 0: the eager tape; > 0: the trace of a make_vjp/make_jvp
    cdef Primitive _prim        # the recorded primitive; None for leaves
    cdef tuple _parents         # one entry per operand: the Tensor, or None for a constant
    cdef tuple _saved           # the operands' values the VJP reads (None where it does not;
                                # None for a row that reads none)
    cdef object _params         # the primitive's parameters (axis, shape, ...)
    cdef Py_ssize_t _serial     # recording order (ids in drawings and tape tables)
    cdef unsigned long _epoch   # sweep stamp: == the sweep's epoch when gathered by it
    cdef object __weakref__
