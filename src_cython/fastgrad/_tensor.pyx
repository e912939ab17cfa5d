# cython: wraparound=True, boundscheck=True
# (Python-level code throughout: the numpy calls dominate, so indexing keeps its checks.)
"""The compiled tensor engine: ``Tensor``, its op table, the reverse sweep, ``no_grad``.

Data flow
---------
A ``Tensor`` wraps a floating-point ``numpy.ndarray``. An operation on Tensors that
require gradients computes its result with numpy and *records* it: the result Tensor
keeps the op code, its operands (``_parents``: the Tensor, or None for a constant) and
the arrays its vector-Jacobian product (VJP) needs (``_saved``). Every recorded Tensor
gets a serial number in recording order, so the recorded Tensors form the tape (Wengert
list) of the computation, each row pointing at the rows of its operands.

``backward()`` gathers the rows reachable from the root with an explicit stack (a
depth-first post-order, never recursion), which gives a reverse topological order, and
sweeps them: for each row, for each operand that requires a gradient, it calls the op's
VJP from the table ``VJPS`` (a C array of function pointers indexed by op code), undoes
broadcasting in one place (``_unbroadcast``) and accumulates. Leaves accumulate into
``.grad`` across calls (as in PyTorch; ``.grad`` is None until the first backward); the
other rows hold the adjoint of the latest sweep.

The op table
------------
Each op is a forward function and a VJP written next to each other, the VJP registered
in ``VJPS`` by the line that follows it. Adding an op touches that one place (and the
``OPS`` list that the gradient-check tests iterate over).

Memory
------
A recorded Tensor references its operands and the arrays its VJP needs, never its
consumers, so graphs have no reference cycles and CPython frees a graph as soon as its
last Tensor is dropped: a training loop runs in flat memory with no reset call, and
``grad(f)`` leaves nothing behind when it returns. Tensors are therefore left out of the
cyclic garbage collector, whose passes would otherwise grow with every live object.

Numerics
--------
tanh's derivative is ``1 - tanh(x)**2`` (never ``1 / cosh(x)**2``, which overflows for
|x| > 710); sigmoid is computed without overflow for either sign; log_softmax and
cross-entropy subtract the row maximum first. float32 stays float32: every rule uses
the operands' own dtype and Python scalars, which numpy treats as weak.
"""

cimport cython
from cpython.object cimport PyObject

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
cdef object _np_maximum = np.maximum
cdef object _np_minimum = np.minimum

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
    not require gradients and nothing is kept for a backward pass.
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
# Making Tensors
# --------------------------------------------------------------------------------------

cdef Py_ssize_t _next_serial = 0
cdef unsigned long _next_epoch = 0


cdef object _float_array(object data, str where):
    """``data`` as a floating ndarray: floats kept, ints and bools to float64, others refused."""
    cdef object arr = data if type(data) is ndarray else _asarray(data)
    cdef str kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{where}: complex data ({arr.dtype}) is not supported: fastgrad "
                        "differentiates real-valued functions only")
    raise TypeError(f"{where}: cannot make a Tensor from {type(data).__name__} data of "
                    f"dtype {arr.dtype}; give numbers or a numeric array")


cdef inline Tensor _leaf(object data):
    # a result that is not recorded (no operand requires a gradient, or no_grad)
    global _next_serial
    cdef Tensor t = Tensor.__new__(Tensor)
    if type(data) is not ndarray:
        data = _asarray(data)
    t._data = data
    t._op = T_LEAF
    t._serial = _next_serial
    _next_serial += 1
    return t


cdef inline Tensor _record(object data, int op, tuple parents, tuple saved):
    global _next_serial
    cdef Tensor t = Tensor.__new__(Tensor)
    if type(data) is not ndarray:
        data = _asarray(data)
    t._data = data
    t._requires_grad = True
    t._op = op
    t._parents = parents
    t._saved = saved
    t._serial = _next_serial
    _next_serial += 1
    return t


cdef inline bint _tracks(object x):
    return isinstance(x, Tensor) and (<Tensor>x)._requires_grad


cdef inline object _operand(object x, str where):
    """The array (or Python number) behind an operand."""
    if isinstance(x, Tensor):
        return (<Tensor>x)._data
    if type(x) is float or type(x) is int or type(x) is ndarray and x.dtype.kind in "fiub":
        return x
    if isinstance(x, (int, float)):
        return x
    if isinstance(x, ndarray) and x.dtype.kind in "fiub":
        return x
    return _float_array(x, where)


cdef inline object _tensor_or_none(object x):
    return x if _tracks(x) else None


cdef inline tuple _shape_of(object x):
    return (<object>x).shape if type(x) is ndarray else np.shape(x)


cdef inline str _shape(object x):
    return str(np.shape(x))


# --------------------------------------------------------------------------------------
# Undoing broadcasting: the one place it is done
# --------------------------------------------------------------------------------------

cdef object _unbroadcast(object g, tuple shape):
    """Sum ``g`` down to ``shape``: over leading axes numpy added, and over axes of length 1."""
    cdef tuple gshape = g.shape
    if gshape == shape:
        return g
    cdef Py_ssize_t extra = len(gshape) - len(shape)
    if extra > 0:
        g = _add_reduce(g, tuple(range(extra)))
    cdef tuple axes = tuple([i for i in range(len(shape))
                             if shape[i] == 1 and g.shape[i] != 1])
    if axes:
        g = _add_reduce(g, axes, None, None, True)
    return g


# --------------------------------------------------------------------------------------
# The op table: forward and vector-Jacobian product side by side
# --------------------------------------------------------------------------------------

cdef enum:
    T_LEAF = 0
    T_ADD
    T_SUB
    T_MUL
    T_DIV
    T_POW
    T_MAXIMUM
    T_MINIMUM
    T_NEG
    T_MATMUL
    T_TANH
    T_RELU
    T_SIGMOID
    T_EXP
    T_LOG
    T_SQRT
    T_ABS
    T_SIN
    T_COS
    T_SUM
    T_MEAN
    T_MAX               # also min: the VJP is the same
    T_RESHAPE
    T_TRANSPOSE
    T_CONCAT
    T_STACK
    T_GETITEM
    T_WHERE
    T_CLIP
    T_SOFTMAX
    T_LOG_SOFTMAX
    T_MSE
    T_XENT
    T_LINEAR
    N_TOPS

cdef vjp_t VJPS[N_TOPS]
cdef list _NAMES = [""] * N_TOPS

cdef void _row(int code, str name, vjp_t vjp) except *:
    VJPS[code] = vjp
    _NAMES[code] = name


# ---- elementwise binary ops ----------------------------------------------------------
# saved: only the operands a rule reads (add and subtract read none); the result is the
# recorded Tensor's own data

cdef object _binary(int op, object a, object b):
    cdef object x = _operand(a, _NAMES[op])
    cdef object y = _operand(b, _NAMES[op])
    try:
        if op == T_ADD:
            out = y + x if type(x) is not ndarray else x + y
        elif op == T_SUB:
            out = x - y
        elif op == T_MUL:
            out = y * x if type(x) is not ndarray else x * y
        elif op == T_DIV:
            out = x / y
        elif op == T_MAXIMUM:
            out = _np_maximum(x, y)
        elif op == T_MINIMUM:
            out = _np_minimum(x, y)
        else:
            out = x ** y
    except ValueError:
        raise ValueError(f"{_NAMES[op]}: cannot broadcast shapes {_shape(x)} and "
                         f"{_shape(y)} together") from None
    if fg_grad_enabled and (_tracks(a) or _tracks(b)):
        saved = () if op == T_ADD or op == T_SUB else (x, y)
        return _record(out, op, (_tensor_or_none(a), _tensor_or_none(b)), saved)
    return _leaf(out)

cdef object _vjp_add(Tensor out, object g, int k):
    return g
_row(T_ADD, "add", _vjp_add)

cdef object _vjp_sub(Tensor out, object g, int k):
    return g if k == 0 else -g
_row(T_SUB, "subtract", _vjp_sub)

cdef object _vjp_mul(Tensor out, object g, int k):
    return g * out._saved[1 - k]
_row(T_MUL, "multiply", _vjp_mul)

cdef object _vjp_div(Tensor out, object g, int k):
    y = out._saved[1]
    return g / y if k == 0 else -g * out._data / y
_row(T_DIV, "divide", _vjp_div)

cdef object _vjp_pow(Tensor out, object g, int k):
    x, y = out._saved
    p = out._data
    if k == 0:      # y * x**(y-1), and 0 where y == 0 (PyTorch's convention)
        if isinstance(y, (int, float)):
            if y == 0:
                return g * 0.0
            if y == 2:
                return g * (2.0 * x)
            return g * (y * x ** (y - 1))
        return g * np.where(y == 0, 0.0, y * x ** (y - 1))
    # x**y * log(x), and 0 where x == 0 and y >= 0 (PyTorch's convention)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * np.where((x == 0) & (y >= 0), 0.0, p * np.log(x))
_row(T_POW, "power", _vjp_pow)

cdef object _vjp_maximum(Tensor out, object g, int k):
    # the gradient goes to the operand that was chosen, and half to each on a tie
    # (PyTorch's and autograd's convention); the same rule serves minimum
    x, y = out._saved
    chosen = (x if k == 0 else y) == out._data
    return np.where(x == y, 0.5 * g, g * chosen)      # bool masks keep g's dtype
_row(T_MAXIMUM, "maximum", _vjp_maximum)
_row(T_MINIMUM, "minimum", _vjp_maximum)


# ---- matrix product --------------------------------------------------------------------

cdef object _matmul(object a, object b):
    cdef object x = _operand(a, "matmul")
    cdef object y = _operand(b, "matmul")
    try:
        # ndarray.dot skips the gufunc machinery of @: much faster on small matrices
        if type(x) is ndarray and type(y) is ndarray and x.ndim == 2 and y.ndim == 2:
            out = x.dot(y)
        else:
            out = x @ y
    except ValueError:
        raise ValueError(f"matmul: shapes {_shape(x)} and {_shape(y)} are not aligned: "
                         "the last axis of the first must equal the second-to-last (or "
                         "only) axis of the second") from None
    if fg_grad_enabled and (_tracks(a) or _tracks(b)):
        return _record(out, T_MATMUL, (_tensor_or_none(a), _tensor_or_none(b)), (x, y))
    return _leaf(out)

cdef object _vjp_matmul(Tensor out, object g, int k):
    x, y = out._saved
    cdef int xd = x.ndim, yd = y.ndim
    if xd == 2 and yd == 2:         # the common case
        return g.dot(y.T) if k == 0 else x.T.dot(g)
    if k == 0:
        if yd == 1:
            return g[..., None] * y if xd > 1 else g * y
        if xd == 1:
            return (g[..., None, :] @ y.swapaxes(-1, -2))[..., 0, :]
        return g @ y.swapaxes(-1, -2)
    if xd == 1:
        return x[:, None] * g[..., None, :] if yd > 1 else g * x
    if yd == 1:
        return (x.swapaxes(-1, -2) @ g[..., None])[..., 0]
    return x.swapaxes(-1, -2) @ g
_row(T_MATMUL, "matmul", _vjp_matmul)

cdef object _linear(object a, object w, object b):
    # x @ weight + bias in one op: the bias is added in place, so a layer makes one
    # array instead of two, and the sweep has one node less
    cdef object x = _operand(a, "linear")
    cdef object W = _operand(w, "linear")
    if type(W) is not ndarray or W.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (n_in, n_out), got shape {_shape(W)}")
    try:
        out = x.dot(W) if type(x) is ndarray and x.ndim == 2 else x @ W
    except ValueError:
        raise ValueError(f"linear: input of shape {_shape(x)} does not fit weight of shape "
                         f"{_shape(W)}: the input's last axis must be {W.shape[0]}") from None
    if b is not None:
        bias = _operand(b, "linear")
        if np.shape(bias) != (W.shape[1],):
            raise ValueError(f"linear: bias must have shape ({W.shape[1]},), got "
                             f"{_shape(bias)}")
        if type(out) is ndarray and out.dtype == bias.dtype:
            out += bias
        else:
            out = out + bias
    if fg_grad_enabled and (_tracks(a) or _tracks(w) or _tracks(b)):
        return _record(out, T_LINEAR, (_tensor_or_none(a), _tensor_or_none(w),
                                       _tensor_or_none(b)), (x, W))
    return _leaf(out)

cdef object _vjp_linear(Tensor out, object g, int k):
    x, W = out._saved
    if k == 0:
        return g.dot(W.T) if g.ndim == 2 else g @ W.T
    if k == 1:
        if x.ndim == 2:
            return x.T.dot(g)
        x2 = x.reshape(-1, W.shape[0])
        return x2.T.dot(g.reshape(-1, W.shape[1]))
    return g                        # the bias: _unbroadcast sums the batch axes
_row(T_LINEAR, "linear", _vjp_linear)


# ---- elementwise functions of one operand ----------------------------------------------
# saved = (x,) where the rule reads the input, else ()

cdef object _sigmoid_array(object x):
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

cdef object _unary_forward(int op, object x):
    if op == T_TANH:
        return np.tanh(x)
    if op == T_RELU:
        return np.maximum(x, 0.0)
    if op == T_SIGMOID:
        return _sigmoid_array(x)
    if op == T_EXP:
        return np.exp(x)
    if op == T_LOG:
        return np.log(x)
    if op == T_SQRT:
        return np.sqrt(x)
    if op == T_ABS:
        return np.abs(x)
    if op == T_SIN:
        return np.sin(x)
    if op == T_COS:
        return np.cos(x)
    return -x                                   # T_NEG

cdef object _unary(int op, object a):
    cdef object x = _operand(a, _NAMES[op])
    if type(x) is not ndarray:
        x = _asarray(x, dtype=np.float64)
    out = _unary_forward(op, x)
    if fg_grad_enabled and _tracks(a):
        # the rules of tanh, relu, sigmoid, exp, sqrt and neg read the result only
        saved = (x,) if op == T_LOG or op == T_ABS or op == T_SIN or op == T_COS else ()
        return _record(out, op, (a,), saved)
    return _leaf(out)

cdef object _vjp_neg(Tensor out, object g, int k):
    return -g
_row(T_NEG, "negative", _vjp_neg)

cdef object _vjp_tanh(Tensor out, object g, int k):
    t = out._data
    d = t * t
    if type(d) is not ndarray:      # 0-d: numpy gives scalars
        return g * (1.0 - d)
    _np_subtract(1.0, d, d)         # in place: one temporary, not three
    return _np_multiply(d, g, d) if d.shape == g.shape else d * g
_row(T_TANH, "tanh", _vjp_tanh)

cdef object _vjp_relu(Tensor out, object g, int k):
    return g * (out._data > 0)                 # relu'(0) = 0, as PyTorch
_row(T_RELU, "relu", _vjp_relu)

cdef object _vjp_sigmoid(Tensor out, object g, int k):
    s = out._data
    return g * (s * (1.0 - s))
_row(T_SIGMOID, "sigmoid", _vjp_sigmoid)

cdef object _vjp_exp(Tensor out, object g, int k):
    return g * out._data
_row(T_EXP, "exp", _vjp_exp)

cdef object _vjp_log(Tensor out, object g, int k):
    return g / out._saved[0]
_row(T_LOG, "log", _vjp_log)

cdef object _vjp_sqrt(Tensor out, object g, int k):
    return g * (0.5 / out._data)
_row(T_SQRT, "sqrt", _vjp_sqrt)

cdef object _vjp_abs(Tensor out, object g, int k):
    return g * np.sign(out._saved[0])         # abs'(0) = 0, as PyTorch
_row(T_ABS, "abs", _vjp_abs)

cdef object _vjp_sin(Tensor out, object g, int k):
    return g * np.cos(out._saved[0])
_row(T_SIN, "sin", _vjp_sin)

cdef object _vjp_cos(Tensor out, object g, int k):
    return -g * np.sin(out._saved[0])
_row(T_COS, "cos", _vjp_cos)


# ---- reductions ------------------------------------------------------------------------
# saved = (x, axis, keepdims, out)

cdef object _normalize_axis(object axis, int ndim, str where):
    if axis is None:
        return None
    try:
        if isinstance(axis, tuple):
            return tuple(sorted([_axis_index(a, ndim) for a in axis]))
        return _axis_index(axis, ndim)
    except (TypeError, IndexError) as exc:
        raise ValueError(f"{where}: invalid axis {axis!r} for an array of {ndim} "
                         f"dimension(s)") from None

cdef int _axis_index(object a, int ndim) except? -1:
    cdef int i = a.__index__()
    if i < -ndim or i >= ndim:
        raise IndexError(i)
    return i + ndim if i < 0 else i

cdef object _expand(object g, object axis, bint keepdims):
    """A reduction's output gradient, reshaped so it broadcasts against its input."""
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return g

cdef object _reduce(int op, object a, object axis, bint keepdims, bint is_max=True):
    cdef object x = _operand(a, _NAMES[op])
    if type(x) is not ndarray:
        x = _asarray(x, dtype=np.float64)
    axis = _normalize_axis(axis, x.ndim, _NAMES[op])
    if op == T_SUM:
        out = _add_reduce(x, axis, None, None, keepdims)
    elif op == T_MEAN:
        out = _add_reduce(x, axis, None, None, keepdims) / _count(x, axis)
    else:
        if x.size == 0:
            raise ValueError(f"{'max' if is_max else 'min'}: the array is empty")
        out = (_max_reduce if is_max else _min_reduce)(x, axis, None, None, keepdims)
    if fg_grad_enabled and _tracks(a):
        return _record(out, op, (a,), (x, axis, keepdims, out))
    return _leaf(out)

cdef Py_ssize_t _count(object x, object axis):
    # how many elements each output element of a reduction over `axis` summarises
    if axis is None:
        return x.size
    if isinstance(axis, tuple):
        n = 1
        for a in axis:
            n *= x.shape[a]
        return n
    return x.shape[axis]

cdef object _spread(object g, object x, object axis, bint keepdims):
    # g, of a reduction's output shape, copied out to x's shape (a fresh array)
    out = _empty(x.shape, dtype=x.dtype)
    if axis is None and not keepdims:
        out.fill(g)                 # a whole-array reduction: g is one number
    else:
        out[...] = _expand(g, axis, keepdims)
    return out

cdef object _vjp_sum(Tensor out, object g, int k):
    x, axis, keepdims, _ = out._saved
    return _spread(g, x, axis, keepdims)
_row(T_SUM, "sum", _vjp_sum)

cdef object _vjp_mean(Tensor out, object g, int k):
    x, axis, keepdims, _ = out._saved
    return _spread(g / _count(x, axis), x, axis, keepdims)
_row(T_MEAN, "mean", _vjp_mean)

cdef object _vjp_max(Tensor out, object g, int k):
    # ties share the gradient equally (PyTorch's amax/amin)
    x, axis, keepdims, r = out._saved
    mask = x == _expand(r, axis, keepdims)
    return _expand(g, axis, keepdims) * mask / mask.sum(axis=axis, keepdims=True)
_row(T_MAX, "max", _vjp_max)


# ---- shape ops -------------------------------------------------------------------------
# saved = (input shape, extra)

cdef object _reshape(object a, object shape):
    cdef object x = _operand(a, "reshape")
    try:
        out = np.reshape(x, shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an array of shape {_shape(x)} "
                         f"into shape {shape}") from None
    if fg_grad_enabled and _tracks(a):
        return _record(out, T_RESHAPE, (a,), (np.shape(x),))
    return _leaf(out)

cdef object _vjp_reshape(Tensor out, object g, int k):
    return g.reshape(out._saved[0])
_row(T_RESHAPE, "reshape", _vjp_reshape)

cdef object _transpose(object a, object axes):
    cdef object x = _operand(a, "transpose")
    try:
        out = np.transpose(x, axes)
    except ValueError:
        raise ValueError(f"transpose: axes {axes} do not fit an array of shape "
                         f"{_shape(x)}") from None
    if fg_grad_enabled and _tracks(a):
        return _record(out, T_TRANSPOSE, (a,), (axes,))
    return _leaf(out)

cdef object _vjp_transpose(Tensor out, object g, int k):
    axes = out._saved[0]
    if axes is None:
        return g.transpose()
    return g.transpose(np.argsort(axes))
_row(T_TRANSPOSE, "transpose", _vjp_transpose)

cdef object _join(int op, object seq, object axis):
    cdef str name = _NAMES[op]
    if isinstance(seq, Tensor) or not hasattr(seq, "__len__") or len(seq) == 0:
        raise ValueError(f"{name}: needs a non-empty sequence of arrays or Tensors")
    cdef list datas = [_operand(t, name) for t in seq]
    try:
        out = (np.concatenate if op == T_CONCAT else np.stack)(datas, axis=axis)
    except ValueError as exc:
        shapes = ", ".join(_shape(d) for d in datas)
        raise ValueError(f"{name}: cannot join shapes {shapes} along axis {axis}: "
                         f"{exc}") from None
    if fg_grad_enabled and any(_tracks(t) for t in seq):
        sizes = [np.shape(d)[axis] if op == T_CONCAT else 1 for d in datas]
        ax = axis if axis >= 0 else out.ndim + axis
        return _record(out, op, tuple([_tensor_or_none(t) for t in seq]),
                       (ax, np.cumsum([0] + sizes)))
    return _leaf(out)

cdef object _vjp_concat(Tensor out, object g, int k):
    axis, offsets = out._saved
    index = [slice(None)] * g.ndim
    index[axis] = slice(offsets[k], offsets[k + 1])
    return g[tuple(index)]
_row(T_CONCAT, "concatenate", _vjp_concat)

cdef object _vjp_stack(Tensor out, object g, int k):
    axis, _ = out._saved
    index = [slice(None)] * g.ndim
    index[axis] = k
    return g[tuple(index)]
_row(T_STACK, "stack", _vjp_stack)


# ---- indexing --------------------------------------------------------------------------

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

cdef object _getitem(object a, object index):
    if isinstance(index, Tensor):
        index = (<Tensor>index)._data
    cdef object x = (<Tensor>a)._data
    out = x[index]
    if fg_grad_enabled and (<Tensor>a)._requires_grad:
        return _record(out, T_GETITEM, (a,), (x.shape, x.dtype, index, _targets_unique(index)))
    return _leaf(out)

cdef object _vjp_getitem(Tensor out, object g, int k):
    shape, dtype, index, unique = out._saved
    z = np.zeros(shape, dtype=dtype)
    if unique:
        z[index] = g
    else:                           # repeated indices add up
        np.add.at(z, index, g)
    return z
_row(T_GETITEM, "getitem", _vjp_getitem)


# ---- selection -------------------------------------------------------------------------

cdef object _where(object condition, object a, object b):
    if isinstance(condition, Tensor):
        condition = (<Tensor>condition)._data
    cond = _asarray(condition, dtype=bool)
    x = _operand(a, "where")
    y = _operand(b, "where")
    try:
        out = np.where(cond, x, y)
    except ValueError:
        raise ValueError(f"where: cannot broadcast shapes {_shape(cond)}, {_shape(x)} and "
                         f"{_shape(y)} together") from None
    if fg_grad_enabled and (_tracks(a) or _tracks(b)):
        return _record(out, T_WHERE, (_tensor_or_none(a), _tensor_or_none(b)), (cond,))
    return _leaf(out)

cdef object _vjp_where(Tensor out, object g, int k):
    cond = out._saved[0]
    return np.where(cond, g, 0.0) if k == 0 else np.where(cond, 0.0, g)
_row(T_WHERE, "where", _vjp_where)

cdef object _clip(object a, object lo, object hi):
    x = _operand(a, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of the bounds")
    out = np.clip(x, lo, hi)
    if fg_grad_enabled and _tracks(a):
        return _record(out, T_CLIP, (a,), (x, lo, hi))
    return _leaf(out)

cdef object _vjp_clip(Tensor out, object g, int k):
    x, lo, hi = out._saved          # the gradient passes where lo <= x <= hi (PyTorch)
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return g * inside
_row(T_CLIP, "clip", _vjp_clip)


# ---- softmax, log-softmax and the losses -----------------------------------------------

cdef object _log_softmax_array(object x, int axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

cdef object _softmax(int op, object a, object axis):
    cdef object x = _operand(a, _NAMES[op])
    if type(x) is not ndarray:
        x = _asarray(x, dtype=np.float64)
    cdef int ax = _normalize_axis(axis, x.ndim, _NAMES[op])
    ls = _log_softmax_array(x, ax)
    out = ls if op == T_LOG_SOFTMAX else np.exp(ls)
    if fg_grad_enabled and _tracks(a):
        return _record(out, op, (a,), (ax,))
    return _leaf(out)

cdef object _vjp_softmax(Tensor out, object g, int k):
    s = out._data
    return s * (g - (g * s).sum(axis=out._saved[0], keepdims=True))
_row(T_SOFTMAX, "softmax", _vjp_softmax)

cdef object _vjp_log_softmax(Tensor out, object g, int k):
    return g - np.exp(out._data) * g.sum(axis=out._saved[0], keepdims=True)
_row(T_LOG_SOFTMAX, "log_softmax", _vjp_log_softmax)

cdef object _mse(object pred, object target):
    x = _operand(pred, "mse_loss")
    y = _operand(target, "mse_loss")
    if _shape_of(x) != _shape_of(y):
        raise ValueError(f"mse_loss: prediction of shape {_shape(x)} and target of shape "
                         f"{_shape(y)} differ")
    diff = x - y
    if type(diff) is ndarray and diff.size:
        sq = diff * diff            # the mean as a sum over a count of the same dtype
        out = _add_reduce(sq, None) / sq.dtype.type(sq.size)
    else:
        out = np.mean(diff * diff)
    if fg_grad_enabled and (_tracks(pred) or _tracks(target)):
        return _record(out, T_MSE, (_tensor_or_none(pred), _tensor_or_none(target)),
                       (diff,))
    return _leaf(out)

cdef object _vjp_mse(Tensor out, object g, int k):
    diff = out._saved[0]
    d = g * (2.0 / diff.size) * diff
    return d if k == 0 else -d
_row(T_MSE, "mse_loss", _vjp_mse)

cdef object _xent(object logits, object target):
    z = _operand(logits, "cross_entropy")
    if type(z) is not ndarray or z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (batch, classes), got "
                         f"{_shape(z)}")
    target_tensor = target if _tracks(target) else None
    if isinstance(target, Tensor):
        target = (<Tensor>target)._data
    t = _asarray(target)
    ls = _log_softmax_array(z, 1)
    n = z.shape[0]
    if t.dtype.kind in "iu":            # class indices
        if t.shape != (n,):
            raise ValueError(f"cross_entropy: class indices must have shape ({n},), got "
                             f"{t.shape}")
        if n and (t.min() < 0 or t.max() >= z.shape[1]):
            raise ValueError(f"cross_entropy: class indices must lie in [0, {z.shape[1]}), "
                             f"got values from {t.min()} to {t.max()}")
        probs = np.zeros_like(z)
        probs[np.arange(n), t] = 1.0
    elif t.dtype.kind == "f":           # class probabilities (one-hot or soft)
        if t.shape != z.shape:
            raise ValueError(f"cross_entropy: target probabilities must have the logits' "
                             f"shape {z.shape}, got {t.shape}")
        probs = t
    else:
        raise TypeError(f"cross_entropy: target must be integer class indices or float "
                        f"probabilities, got dtype {t.dtype}")
    out = -(probs * ls).sum() / n
    if fg_grad_enabled and (_tracks(logits) or target_tensor is not None):
        return _record(out, T_XENT, (_tensor_or_none(logits), target_tensor), (ls, probs))
    return _leaf(out)

cdef object _vjp_xent(Tensor out, object g, int k):
    ls, probs = out._saved
    n = ls.shape[0]
    if k == 1:                          # soft targets: d/dt of -sum(t * ls) / n
        return g * (-ls / n)
    return g * ((np.exp(ls) * probs.sum(axis=1, keepdims=True) - probs) / n)
_row(T_XENT, "cross_entropy", _vjp_xent)


#: The name of each op code, as ``Tensor.op`` shows it.
OP_NAMES = tuple(_NAMES)


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
                if p._epoch != ep and p._op != T_LEAF:
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
    dtype = p._data.dtype
    if g.dtype is not dtype and g.dtype != dtype:
        g = g.astype(dtype)
        shared = False
    if p._op == T_LEAF and p._grad is None:
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
        p._grad = g if type(g) is ndarray else _asarray(g)


cdef int _sweep(Tensor root, object seed, bint retain) except -1:
    global _next_epoch
    _next_epoch += 1
    if root._op == T_LEAF:
        _accumulate(root, seed, True)
        return 0
    cdef list order = _gather(root, _next_epoch)
    cdef Tensor node, p
    cdef object q, g, gp
    cdef Py_ssize_t k
    for node in order:
        node._grad = None
    root._grad = seed
    for node in order:
        g = node._grad
        if g is None:
            continue
        for k in range(len(node._parents)):
            q = node._parents[k]
            if q is None:
                continue
            p = <Tensor>q
            gp = _unbroadcast(VJPS[node._op](node, g, <int>k), p._data.shape)
            _accumulate(p, gp, gp is g)
        if not retain:
            node._grad = None           # as PyTorch: interior gradients are not kept
    return 0


# --------------------------------------------------------------------------------------
# The Tensor class
# --------------------------------------------------------------------------------------

cdef object _axes_arg(tuple axes):
    if len(axes) == 0:
        return None
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return None if axes[0] is None else tuple(axes[0])
    return axes


@cython.final
@cython.no_gc          # a Tensor references its operands, never its consumers: no cycles
@cython.freelist(64)
cdef class Tensor:
    """An n-dimensional array recorded for reverse-mode differentiation.

    Parameters
    ----------
    data : array_like
        Numbers. float16/32/64 data keeps its dtype; integers and bools become float64
        (a Tensor always holds floating-point data); complex and object data raise
        ``TypeError``.
    requires_grad : bool, default False
        Record operations on this Tensor so ``backward()`` can reach it.
    dtype : numpy dtype, optional
        Convert the data to this floating dtype.

    Notes
    -----
    Arithmetic (``+ - * / **``, ``@``) takes Tensors, arrays and numbers on either side,
    with numpy broadcasting; numpy functions and ufuncs called on Tensors
    (``np.tanh(t)``, ``np.mean(t)``, ``ndarray @ t``) return Tensors on the tape.
    ``backward()`` (on a one-element Tensor) or ``backward(gradient)`` fills ``.grad`` of
    every leaf that requires gradients, accumulating across calls like PyTorch.
    """

    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        global _next_serial
        if isinstance(data, Tensor):
            data = (<Tensor>data)._data
        arr = _float_array(data, "Tensor()")
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Tensor(): dtype must be a floating type, got {dt}")
            arr = arr.astype(dt, copy=False)
        self._data = arr
        self._requires_grad = bool(requires_grad)
        self._op = T_LEAF
        self._serial = _next_serial
        _next_serial += 1

    # ---- attributes -------------------------------------------------------------------

    @property
    def data(self):
        """The values (an ndarray). Settable on leaves, with the same shape."""
        return self._data

    @data.setter
    def data(self, value):
        if self._op != T_LEAF:
            raise AttributeError(
                f"cannot set .data of a Tensor computed by '{self.op}': its data follows "
                "from its operands. Set .data on the leaves and compute it again.")
        arr = _float_array(value.data if isinstance(value, Tensor) else value, "Tensor.data")
        if arr.shape != self._data.shape:
            raise ValueError(f"Tensor.data: new data of shape {arr.shape} does not match "
                             f"the Tensor's shape {self._data.shape}")
        self._data = arr

    @property
    def grad(self):
        """d(root)/d(self) after ``backward()``: None before; accumulates on leaves."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        arr = _float_array(value, "Tensor.grad")
        if arr.shape != self._data.shape:
            raise ValueError(f"Tensor.grad: a gradient of shape {arr.shape} does not match "
                             f"the Tensor's shape {self._data.shape}")
        self._grad = arr

    @property
    def requires_grad(self):
        """Whether operations on this Tensor are recorded for ``backward()``."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._op != T_LEAF:
            raise AttributeError("requires_grad can only be changed on leaf Tensors; use "
                                 "detach() to cut a computed Tensor from its graph")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self):
        """True unless the Tensor was computed by a recorded operation."""
        return self._op == T_LEAF

    @property
    def op(self):
        """The recorded operation (``"matmul"``, ``"tanh"``, ...); ``""`` for leaves."""
        return _NAMES[self._op]

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
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def T(self):
        """The transpose (axes reversed)."""
        return _transpose(self, None)

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extra = ""
        if self._data.dtype != np.float64:
            extra += f", dtype={self._data.dtype}"
        if self._op != T_LEAF:
            extra += f", op={self.op!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # ---- conversions ------------------------------------------------------------------

    def detach(self):
        """A leaf sharing this Tensor's data, cut from the graph."""
        return _leaf(self._data)

    def numpy(self):
        """The data as an ndarray (shared, not copied)."""
        return self._data

    def item(self):
        """The value of a one-element Tensor as a Python float."""
        if self._data.size != 1:
            raise ValueError(f"item(): only one-element Tensors have an item, this one "
                             f"has shape {self._data.shape}")
        return self._data.item()

    def __float__(self):
        return float(self.item())

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise TypeError("cannot convert a Tensor that requires grad to an ndarray "
                            "silently: use t.detach().numpy() (or t.numpy())")
        return self._data if dtype is None else self._data.astype(dtype)

    def __reduce__(self):
        if self._op != T_LEAF:
            raise TypeError("only leaf Tensors can be copied or pickled; use detach()")
        return (_rebuild, (self._data, self._requires_grad, self._grad))

    # ---- backward ---------------------------------------------------------------------

    def backward(self, gradient=None, retain_grads=False):
        """Reverse sweep: fill ``.grad`` of every leaf this Tensor depends on.

        Parameters
        ----------
        gradient : array_like, optional
            d(loss)/d(self), the seed; required unless the Tensor has one element.
        retain_grads : bool, default False
            Keep the gradient of every recorded (non-leaf) Tensor too, for inspection and
            drawing. By default, as in PyTorch, only leaves keep theirs: each interior
            gradient is dropped as soon as the sweep has passed it on, which saves memory.
        """
        if not self._requires_grad:
            raise RuntimeError("backward(): this Tensor does not require grad and was not "
                               "computed from any Tensor that does (requires_grad=True)")
        if gradient is None:
            if self._data.size != 1:
                raise ValueError(f"backward(): the Tensor has shape {self._data.shape}; "
                                 "give backward(gradient) with that shape, or reduce it "
                                 "to one element (e.g. .sum()) first")
            seed = (_asarray(1.0, self._data.dtype) if self._data.ndim == 0
                    else np.ones(self._data.shape, self._data.dtype))
        else:
            seed = _float_array(gradient.data if isinstance(gradient, Tensor) else gradient,
                                "backward(gradient)")
            if seed.shape != self._data.shape:
                raise ValueError(f"backward(gradient): gradient of shape {seed.shape} does "
                                 f"not match the Tensor's shape {self._data.shape}")
            seed = seed.astype(self._data.dtype, copy=False)
        _sweep(self, seed, retain_grads)

    # ---- arithmetic -------------------------------------------------------------------

    def __add__(self, other):
        return _binary(T_ADD, self, other)

    def __radd__(self, other):
        return _binary(T_ADD, other, self)

    def __sub__(self, other):
        return _binary(T_SUB, self, other)

    def __rsub__(self, other):
        return _binary(T_SUB, other, self)

    def __mul__(self, other):
        return _binary(T_MUL, self, other)

    def __rmul__(self, other):
        return _binary(T_MUL, other, self)

    def __truediv__(self, other):
        return _binary(T_DIV, self, other)

    def __rtruediv__(self, other):
        return _binary(T_DIV, other, self)

    def __pow__(self, other, modulo=None):
        return _binary(T_POW, self, other)

    def __rpow__(self, other, modulo=None):
        return _binary(T_POW, other, self)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __neg__(self):
        return _unary(T_NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _unary(T_ABS, self)

    def __getitem__(self, index):
        return _getitem(self, index)

    # ---- comparisons: plain boolean arrays (not differentiable) ------------------------

    def __lt__(self, other):
        return self._data < _operand(other, "<")

    def __le__(self, other):
        return self._data <= _operand(other, "<=")

    def __gt__(self, other):
        return self._data > _operand(other, ">")

    def __ge__(self, other):
        return self._data >= _operand(other, ">=")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return object.__hash__(self)

    # ---- elementwise functions ----------------------------------------------------------

    def tanh(self):
        """Hyperbolic tangent; derivative ``1 - tanh(x)**2``."""
        return _unary(T_TANH, self)

    def relu(self):
        """``max(x, 0)``; derivative 1 for x > 0, else 0."""
        return _unary(T_RELU, self)

    def sigmoid(self):
        """Logistic function, computed without overflow."""
        return _unary(T_SIGMOID, self)

    def exp(self):
        """Exponential."""
        return _unary(T_EXP, self)

    def log(self):
        """Natural logarithm."""
        return _unary(T_LOG, self)

    def sqrt(self):
        """Square root."""
        return _unary(T_SQRT, self)

    def abs(self):
        """Absolute value; derivative ``sign(x)``, 0 at 0."""
        return _unary(T_ABS, self)

    def sin(self):
        """Sine."""
        return _unary(T_SIN, self)

    def cos(self):
        """Cosine."""
        return _unary(T_COS, self)

    def softmax(self, axis=-1):
        """``exp(x) / sum(exp(x))`` along ``axis``, computed with the max subtracted."""
        return _softmax(T_SOFTMAX, self, axis)

    def log_softmax(self, axis=-1):
        """``x - logsumexp(x)`` along ``axis``, computed with the max subtracted."""
        return _softmax(T_LOG_SOFTMAX, self, axis)

    def clip(self, min=None, max=None):
        """Values limited to [min, max]; the gradient passes where min <= x <= max."""
        return _clip(self, min, max)

    # ---- reductions -------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (all axes by default)."""
        return _reduce(T_SUM, self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (all axes by default)."""
        return _reduce(T_MEAN, self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        return _reduce(T_MAX, self, axis, keepdims, True)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis``; tied minima share the gradient equally."""
        return _reduce(T_MAX, self, axis, keepdims, False)

    # ---- shape ------------------------------------------------------------------------

    def reshape(self, *shape):
        """The same data in a new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _reshape(self, shape)

    def transpose(self, *axes):
        """Axes permuted (reversed by default)."""
        return _transpose(self, _axes_arg(axes))

    def squeeze(self, axis=None):
        """Axes of length one removed (all of them by default)."""
        x = self._data
        try:
            shape = np.squeeze(x, axis).shape
        except ValueError:
            raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have "
                             "length 1") from None
        return _reshape(self, shape)

    def expand_dims(self, axis):
        """An axis of length one inserted at ``axis``."""
        return _reshape(self, np.expand_dims(self._data, axis).shape)

    # ---- numpy protocols ----------------------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = _UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
        if fn is None:
            what = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
            raise TypeError(f"numpy.{what} is not supported on fastgrad Tensors"
                            + (f" with keyword arguments {sorted(kwargs)}" if kwargs else ""))
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        fn = _FUNCTIONS.get(func)
        if fn is None:
            raise TypeError(f"numpy.{func.__name__} is not supported on fastgrad Tensors")
        return fn(*args, **kwargs)


def _rebuild(data, requires_grad, grad):
    t = Tensor(data, requires_grad=requires_grad)
    t._grad = grad
    return t


# --------------------------------------------------------------------------------------
# Functions (the module-level API and the numpy dispatch tables)
# --------------------------------------------------------------------------------------

def add(a, b):
    """Elementwise ``a + b`` with broadcasting."""
    return _binary(T_ADD, a, b)

def subtract(a, b):
    """Elementwise ``a - b`` with broadcasting."""
    return _binary(T_SUB, a, b)

def multiply(a, b):
    """Elementwise ``a * b`` with broadcasting."""
    return _binary(T_MUL, a, b)

def divide(a, b):
    """Elementwise ``a / b`` with broadcasting."""
    return _binary(T_DIV, a, b)

def power(a, b):
    """Elementwise ``a ** b`` with broadcasting."""
    return _binary(T_POW, a, b)

def maximum(a, b):
    """Elementwise larger of ``a`` and ``b`` (``np.maximum(z, 0)`` is relu); on a tie each
    side gets half the gradient, as in PyTorch and autograd."""
    return _binary(T_MAXIMUM, a, b)

def minimum(a, b):
    """Elementwise smaller of ``a`` and ``b``; on a tie each side gets half the gradient."""
    return _binary(T_MINIMUM, a, b)

def matmul(a, b):
    """Matrix product (1-D, 2-D and batched, as ``numpy.matmul``)."""
    return _matmul(a, b)

def linear(x, weight, bias=None):
    """``x @ weight + bias`` as one op (weight of shape (n_in, n_out), bias (n_out,))."""
    return _linear(x, weight, bias)

def dot(a, b):
    """``numpy.dot`` for 1-D and 2-D operands (the matrix product)."""
    if np.ndim(_operand(a, "dot")) > 2 or np.ndim(_operand(b, "dot")) > 2:
        raise ValueError("dot: operands of more than 2 dimensions are not supported; "
                         "use matmul")
    if np.ndim(_operand(a, "dot")) == 0 or np.ndim(_operand(b, "dot")) == 0:
        return _binary(T_MUL, a, b)
    return _matmul(a, b)

def negative(a):
    return _unary(T_NEG, a)

def square(a):
    return _binary(T_POW, a, 2)

def unary(str name, x):
    """Apply the elementwise function ``name`` to a Tensor (recorded on the tape)."""
    return _unary(_UNARY_CODES[name], x)

def unary_array(str name, x):
    """Apply the elementwise function ``name`` to an ndarray: the same forward rule."""
    return _unary_forward(_UNARY_CODES[name], _float_array(x, name))

cdef dict _UNARY_CODES = {"tanh": T_TANH, "relu": T_RELU, "sigmoid": T_SIGMOID,
                          "exp": T_EXP, "log": T_LOG, "sqrt": T_SQRT, "abs": T_ABS,
                          "sin": T_SIN, "cos": T_COS, "negative": T_NEG}

def sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Sum over ``axis``."""
    if dtype is not None or out is not None or kwargs:
        _no_extras("sum", dtype=dtype, out=out, **kwargs)
    return _reduce(T_SUM, a, axis, keepdims)

def mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Mean over ``axis``."""
    if dtype is not None or out is not None or kwargs:
        _no_extras("mean", dtype=dtype, out=out, **kwargs)
    return _reduce(T_MEAN, a, axis, keepdims)

def max(a, axis=None, out=None, keepdims=False, **kwargs):
    """Maximum over ``axis``."""
    _no_extras("max", out=out, **kwargs)
    return _reduce(T_MAX, a, axis, keepdims, True)

def min(a, axis=None, out=None, keepdims=False, **kwargs):
    """Minimum over ``axis``."""
    _no_extras("min", out=out, **kwargs)
    return _reduce(T_MAX, a, axis, keepdims, False)

def reshape(a, shape, *args, **kwargs):
    if args or kwargs:
        raise TypeError("reshape: only reshape(a, shape) is supported on Tensors")
    return _reshape(a, shape)

def transpose(a, axes=None):
    return _transpose(a, None if axes is None else tuple(axes))

def squeeze(a, axis=None):
    return a.squeeze(axis) if isinstance(a, Tensor) else np.squeeze(a, axis)

def expand_dims(a, axis):
    return a.expand_dims(axis) if isinstance(a, Tensor) else np.expand_dims(a, axis)

def concatenate(seq, axis=0, **kwargs):
    """Join Tensors (and arrays) along an existing axis."""
    _no_extras("concatenate", **kwargs)
    return _join(T_CONCAT, seq, axis)

def stack(seq, axis=0, **kwargs):
    """Join Tensors (and arrays) along a new axis."""
    _no_extras("stack", **kwargs)
    return _join(T_STACK, seq, axis)

def where(condition, x, y):
    """Elements of x where condition holds, else of y; gradients flow to the chosen side."""
    return _where(condition, x, y)

def clip(a, a_min=None, a_max=None, **kwargs):
    """Values limited to [a_min, a_max]."""
    _no_extras("clip", **kwargs)
    return _clip(a, a_min, a_max)

def softmax(x, axis=-1):
    """Softmax along ``axis``."""
    return _softmax(T_SOFTMAX, x, axis)

def log_softmax(x, axis=-1):
    """Log-softmax along ``axis``."""
    return _softmax(T_LOG_SOFTMAX, x, axis)

def mse_loss(prediction, target):
    """Mean squared error ``mean((prediction - target)**2)``; shapes must match."""
    return _mse(prediction, target)

def cross_entropy(logits, target):
    """Mean cross-entropy of ``softmax(logits)`` (shape (batch, classes)) against class
    indices (integers, shape (batch,)) or class probabilities (the logits' shape)."""
    return _xent(logits, target)

def _no_extras(name, **kwargs):
    bad = sorted(k for k, v in kwargs.items() if v is not None and v is not False)
    if bad:
        raise TypeError(f"{name}: arguments {bad} are not supported on Tensors")

def _data_of(x):
    return (<Tensor>x)._data if isinstance(x, Tensor) else x

cdef dict _UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
    np.power: power, np.maximum: maximum, np.minimum: minimum, np.matmul: matmul, np.negative: negative, np.square: square,
    np.positive: lambda a: a,
    np.tanh: lambda a: _unary(T_TANH, a), np.exp: lambda a: _unary(T_EXP, a),
    np.log: lambda a: _unary(T_LOG, a), np.sqrt: lambda a: _unary(T_SQRT, a),
    np.absolute: lambda a: _unary(T_ABS, a), np.sin: lambda a: _unary(T_SIN, a),
    np.cos: lambda a: _unary(T_COS, a),
    # comparisons give plain boolean arrays
    np.greater: lambda a, b: np.greater(_data_of(a), _data_of(b)),
    np.greater_equal: lambda a, b: np.greater_equal(_data_of(a), _data_of(b)),
    np.less: lambda a, b: np.less(_data_of(a), _data_of(b)),
    np.less_equal: lambda a, b: np.less_equal(_data_of(a), _data_of(b)),
}

cdef dict _FUNCTIONS = {
    np.sum: sum, np.mean: mean, np.max: max, np.min: min, np.amax: max, np.amin: min,
    np.dot: dot, np.matmul: matmul, np.reshape: reshape, np.transpose: transpose,
    np.squeeze: squeeze, np.expand_dims: expand_dims, np.concatenate: concatenate,
    np.stack: stack, np.where: where, np.clip: clip,
    # shape queries and non-differentiable results
    np.shape: lambda a: np.shape(_data_of(a)), np.ndim: lambda a: np.ndim(_data_of(a)),
    np.size: lambda a, axis=None: np.size(_data_of(a), axis),
    np.argmax: lambda a, axis=None, **kw: np.argmax(_data_of(a), axis, **kw),
    np.argmin: lambda a, axis=None, **kw: np.argmin(_data_of(a), axis, **kw),
}
