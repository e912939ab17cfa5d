"""Record once, replay in C: ``fastgrad.Function``, ``fastgrad.trace`` and ``vmap``.

A graph of ``Value``s recorded once becomes a program (``fastgrad._function``) that is
evaluated again at new inputs in compiled code, with no Python per node and without the
GIL, and differentiated in every mode: gradients and vector-Jacobian products (reverse
sweep), Jacobian-vector products (tangent sweep), Hessians and Hessian-vector products
(forward over reverse, with each op's second-derivative rule from the scalar op table),
and all of it batched over samples with ``vmap``.

Arguments mirror the inputs: an input that is one Value takes a float; an input that is
a list (or tuple) of Values takes a sequence or a 1-D array of that length, nested
lists nest. Results come back in the same shapes: a float for a Value, a 1-D ndarray
for a flat list of Values, a list for a nested one.
"""
import functools
import numbers
import sys

import numpy as np

from . import _function, _scalar
from ._function import BranchChanged, Program
from ._scalar import Value

__all__ = ["Function", "BatchedFunction", "trace", "load_function", "BranchChanged",
           "dask_client"]

_FORMAT = "fastgrad.Function/1"


# --------------------------------------------------------------------------------------
# Structures: an input spec is None (one Value) or a tuple of specs (a list of them)
# --------------------------------------------------------------------------------------

def _spec_of(tree, what, leaves):
    """The spec of a (nested) list of Values; appends the Values to ``leaves``."""
    if isinstance(tree, Value):
        leaves.append(tree)
        return None
    if isinstance(tree, (list, tuple)):
        return tuple(_spec_of(t, what, leaves) for t in tree)
    raise TypeError(f"fastgrad.Function: {what} must be Values or (nested) lists of "
                    f"Values, got {type(tree).__name__}")


@functools.lru_cache(maxsize=256)
def _is_flat(spec):
    return spec is not None and all(s is None for s in spec)


def _size(spec):
    return 1 if spec is None else sum(_size(s) for s in spec)


def _flatten(arg, spec, where, out):
    if spec is None:
        if isinstance(arg, Value):
            raise TypeError(f"{where}: pass a number, not a Value (the Function replays "
                            "the recorded graph at plain numbers)")
        if isinstance(arg, np.ndarray) and arg.ndim == 0:
            arg = arg[()]
        if isinstance(arg, bool) or not isinstance(arg, numbers.Real):
            raise TypeError(f"{where}: expected a real number, got {type(arg).__name__}")
        out.append(float(arg))
        return
    if isinstance(arg, np.ndarray):
        if arg.ndim != 1 or not _is_flat(spec):
            raise ValueError(f"{where}: expected a sequence of {len(spec)} items, got an "
                             f"array of shape {arg.shape}")
        if not np.issubdtype(arg.dtype, np.number) or np.iscomplexobj(arg):
            raise TypeError(f"{where}: expected real numbers, got an array of {arg.dtype}")
        if len(arg) != len(spec):
            raise ValueError(f"{where}: expected {len(spec)} items, got {len(arg)}")
        out.extend(arg.astype(np.float64, copy=False).tolist())
        return
    if not isinstance(arg, (list, tuple)):
        raise TypeError(f"{where}: expected a sequence of {len(spec)} items, got "
                        f"{type(arg).__name__}")
    if len(arg) != len(spec):
        raise ValueError(f"{where}: expected {len(spec)} items, got {len(arg)}")
    for i, (a, s) in enumerate(zip(arg, spec)):
        _flatten(a, s, f"{where}[{i}]", out)


def _unflatten(flat, spec, pos=0):
    """Numbers ``flat[pos:]`` in the shape of ``spec``; returns (result, next pos)."""
    if spec is None:
        return float(flat[pos]), pos + 1
    if _is_flat(spec):
        return np.array(flat[pos:pos + len(spec)], dtype=np.float64), pos + len(spec)
    out = []
    for s in spec:
        r, pos = _unflatten(flat, s, pos)
        out.append(r)
    return out, pos


@functools.lru_cache(maxsize=256)
def _shape(spec):
    if spec is None:
        return ()
    if all(s is None for s in spec):
        return (len(spec),)
    raise ValueError("fastgrad.Function: jacobian/hessian need an argument that is one "
                     "Value or a flat list of Values; this one is nested")


def _check_argnum(argnum, n):
    if isinstance(argnum, bool) or not isinstance(argnum, numbers.Integral):
        raise TypeError(f"argnum must be an int, got {type(argnum).__name__}")
    if not 0 <= argnum < n:
        raise ValueError(f"argnum={argnum} is out of range: the Function takes {n} "
                         f"argument{'s' if n != 1 else ''}")
    return int(argnum)


# --------------------------------------------------------------------------------------
# Function
# --------------------------------------------------------------------------------------

class Function:
    """A recorded graph of Values, replayed and differentiated in compiled code.

    Parameters
    ----------
    inputs : Value or list
        The leaves the Function's arguments replace: one argument per item of the list
        (a Value, or a (nested) list of Values); a single Value means one argument.
        They must be leaves (``Value(...)``), distinct, on the outputs' tape; an interior
        Value raises ``ValueError`` naming it.
    outputs : Value or list of Value
        What the Function returns: a float for one Value, an ndarray for a list.

    Notes
    -----
    Constants of the graph (the 3 in ``x * 3``, leaves that are not inputs, interior
    Values that depend on no input) keep their recorded values. An input the outputs do
    not depend on gets a zero gradient. Comparisons between Values made while the graph
    was recorded (``if x > 0:``, ``max(a, b)``) after the inputs were created are guards
    (while the Values they compared live; ``trace`` keeps every one):
    replaying where one would go the other way raises ``BranchChanged`` (``relu`` and
    ``abs`` are not guards). Non-finite arguments follow IEEE (nan in, nan out).

    Examples
    --------
    >>> from fastgrad import Value, Function, sin
    >>> xs = [Value(0.5), Value(4.2)]
    >>> F = Function(inputs=xs, outputs=xs[0] * xs[1] + sin(xs[0]))
    >>> round(F(0.6, 4.0), 6)
    2.964642
    """

    def __init__(self, inputs, outputs):
        leaves = []
        in_spec = _spec_of(inputs, "inputs", leaves)
        self._in_specs = (in_spec,) if in_spec is None else in_spec
        self._single_arg_list = in_spec is not None
        outs = []
        out_spec = _spec_of(outputs, "outputs", outs)
        if out_spec is not None and any(s is not None for s in out_spec):
            raise TypeError("fastgrad.Function: outputs must be a Value or a flat list of "
                            "Values")
        if not outs:
            raise ValueError("fastgrad.Function: no outputs")
        self._n_out = len(outs)
        self._scalar_out = out_spec is None
        seen = {}
        for i, v in enumerate(leaves):
            if not v.is_leaf:
                raise ValueError(f"fastgrad.Function: input {i} ({v!r}) is computed by "
                                 f"'{v.op}', not a leaf; inputs must be Values made by "
                                 "Value(...) (a Function replaces them by its arguments)")
            if id(v) in seen:
                raise ValueError(f"fastgrad.Function: input {i} is the same Value as input "
                                 f"{seen[id(v)]}; every input must be a distinct leaf")
            seen[id(v)] = i
        # guards: the comparisons recorded after the newest input was created
        arrays = _function.build(leaves, outs, max((v.id for v in leaves), default=0),
                                 2 ** 62)
        self._program = Program(arrays)

    # ---- construction from arrays (load, unpickle) -------------------------------------

    @classmethod
    def _from_state(cls, state):
        self = cls.__new__(cls)
        try:
            self._in_specs = _decode_spec(state["in_specs"])
            self._single_arg_list = bool(state["single_arg_list"])
            self._n_out = int(state["n_out"])
            self._scalar_out = bool(state["scalar_out"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a saved fastgrad.Function: {exc!r}") from None
        self._program = Program(state["program"])
        if self._program.n_inputs != sum(_size(s) for s in self._in_specs) or (
                self._program.n_outputs != self._n_out):
            raise ValueError("not a saved fastgrad.Function: its structure does not match "
                             "its program")
        return self

    def _state(self):
        return {"in_specs": _encode_spec(self._in_specs),
                "single_arg_list": self._single_arg_list, "n_out": self._n_out,
                "scalar_out": self._scalar_out, "program": dict(self._program.arrays,
                                                                guards=self._program.guards)}

    def __reduce__(self):
        return (Function._from_state, (self._state(),))

    def save(self, path):
        """Write the program to ``path`` as a ``.npz`` file (arrays only, no pickle).

        ``fastgrad.load_function(path)`` reads it back.
        """
        state = self._state()
        program = state.pop("program")
        guards = program.pop("guards")
        meta = {"format": _FORMAT, **state, "n_slots": program.pop("n_slots")}
        np.savez(path, meta=np.array(repr(meta)),
                 guard_at=np.array(sorted(guards), dtype=np.int64),
                 guard_text=np.array([guards[t] for t in sorted(guards)], dtype=str),
                 **program)

    # ---- arguments ---------------------------------------------------------------------

    @property
    def n_args(self):
        """How many arguments the Function takes."""
        return len(self._in_specs)

    @property
    def program(self):
        """The compiled program (``fastgrad._function.Program``): its arrays and guards."""
        return self._program

    def _flat_args(self, args, what="argument"):
        if len(args) != len(self._in_specs):
            raise TypeError(f"this Function takes {len(self._in_specs)} argument"
                            f"{'s' if len(self._in_specs) != 1 else ''}, got {len(args)}")
        flat = []
        for i, (a, s) in enumerate(zip(args, self._in_specs)):
            _flatten(a, s, f"{what} {i}", flat)
        return np.array(flat, dtype=np.float64)

    def _offsets(self):
        # where each argument's numbers start in the flat inputs (computed once)
        off = self.__dict__.get("_off")
        if off is None:
            off = [0]
            for s in self._in_specs:
                off.append(off[-1] + _size(s))
            self._off = off
        return off

    def _arg_like(self, flat):
        out, pos = [], 0
        for s in self._in_specs:
            r, pos = _unflatten(flat, s, pos)
            out.append(r)
        return out

    def _out(self, flat):
        return float(flat[0]) if self._scalar_out else np.array(flat, dtype=np.float64)

    def _scalar_only(self, what):
        if not self._scalar_out:
            raise ValueError(f"Function.{what} needs a Function with one output; this one "
                             f"has {self._n_out}: use jacobian or vjp")

    # ---- evaluation --------------------------------------------------------------------

    def __call__(self, *args):
        """The outputs at ``args``: a float (one output) or an ndarray."""
        values, _, _, _ = self._program.run(self._flat_args(args), 1)
        return self._out(values)

    def value_and_grad(self, *args, argnum=0):
        """``(value, gradient)`` of the one output w.r.t. ``args[argnum]``."""
        self._scalar_only("value_and_grad")
        argnum = _check_argnum(argnum, self.n_args)
        values, _, grads, _ = self._program.run(self._flat_args(args), 1, seed=np.ones(1))
        off = self._offsets()
        g, _ = _unflatten(grads[off[argnum]:off[argnum + 1]], self._in_specs[argnum])
        return float(values[0]), g

    def grad(self, *args, argnum=0):
        """The gradient of the one output w.r.t. ``args[argnum]``, shaped like it."""
        return self.value_and_grad(*args, argnum=argnum)[1]

    def vjp(self, args, cotangent):
        """``(value, cotangents of every argument)`` for ``cotangent`` on the outputs.

        ``cotangent`` is a float (one output) or a sequence of ``n_outputs`` floats.
        """
        x = self._flat_args(tuple(args))
        ct = []
        _flatten(cotangent, None if self._scalar_out else (None,) * self._n_out,
                 "cotangent", ct)
        values, _, grads, _ = self._program.run(x, 1, seed=np.array(ct))
        return self._out(values), self._arg_like(grads)

    def jvp(self, args, tangents):
        """``(value, tangent of the outputs)`` for ``tangents`` shaped like ``args``."""
        x = self._flat_args(tuple(args))
        t = self._flat_args(tuple(tangents), "tangent")
        values, tout, _, _ = self._program.run(x, 1, tangent=t)
        return self._out(values), self._out(tout)

    def jacobian(self, *args, argnum=0):
        """d outputs / d ``args[argnum]``: shape ``out_shape + arg_shape``."""
        argnum = _check_argnum(argnum, self.n_args)
        arg_shape = _shape(self._in_specs[argnum])
        x = self._flat_args(args)
        off = self._offsets()
        rows = []
        for j in range(self._n_out):
            seed = np.zeros(self._n_out)
            seed[j] = 1.0
            _, _, grads, _ = self._program.run(x, 1, seed=seed)
            rows.append(grads[off[argnum]:off[argnum + 1]])
        jac = np.array(rows).reshape((() if self._scalar_out else (self._n_out,)) + arg_shape)
        return float(jac) if jac.ndim == 0 else jac

    def hvp(self, args, v, argnum=0):
        """The Hessian of the one output w.r.t. ``args[argnum]`` times ``v`` (shaped like
        that argument), by forward over reverse."""
        self._scalar_only("hvp")
        argnum = _check_argnum(argnum, self.n_args)
        x = self._flat_args(tuple(args))
        off = self._offsets()
        t = np.zeros_like(x)
        vv = []
        _flatten(v, self._in_specs[argnum], "v", vv)
        t[off[argnum]:off[argnum + 1]] = vv
        _, _, _, hv = self._program.run(x, 1, tangent=t, seed=np.ones(1), second=True)
        return _unflatten(hv[off[argnum]:off[argnum + 1]], self._in_specs[argnum])[0]

    def hessian(self, *args, argnum=0, _dense=False):
        """The Hessian of the one output w.r.t. ``args[argnum]``: ``arg_shape * 2``.

        Forward over reverse, one direction per colour of the Hessian's columns: its
        sparsity pattern is read off the program once (``Program.hessian``), so a
        banded or block Hessian costs a few sweeps, whatever its size. ``_dense``: one
        direction per column (the reference the tests compare with).
        """
        self._scalar_only("hessian")
        argnum = _check_argnum(argnum, self.n_args)
        arg_shape = _shape(self._in_specs[argnum])
        a = args[0] if len(args) == 1 else None
        if (type(a) is np.ndarray and a.dtype == np.float64 and self.n_args == 1
                and a.shape == arg_shape):     # one flat array: taken as it is
            x = np.ascontiguousarray(a)
        else:
            x = self._flat_args(args)
        off = self._offsets()
        H = self._program.hessian(x, off[argnum], off[argnum + 1], _dense)
        H = H.reshape(arg_shape + arg_shape)
        return float(H) if H.ndim == 0 else H

    def vmap(self, in_axes):
        """The Function batched over samples: ``in_axes[i]`` is 0 (argument i has a
        leading batch axis) or None (shared by every sample).

        Returns a ``BatchedFunction``; its replay is sample-inner (for each instruction
        one tight loop over the batch).
        """
        return BatchedFunction(self, in_axes)

    # ---- showing the program (fastgrad.tape_table, to_dot, draw_dot) -------------------

    def _slot_names(self):
        a = self._program.arrays
        names = {int(s): f"inputs[{j}]" for j, s in enumerate(a["inputs"])}
        names.update({int(s): repr(float(v)) for s, v in zip(a["const_slots"], a["const_vals"])})
        return names

    def _instructions(self, max_rows):
        """(number, op, result, operands, note) per instruction, the last max_rows."""
        if max_rows is not None and max_rows < 1:
            raise ValueError(f"max_nodes must be at least 1, got {max_rows}")
        a = self._program.arrays
        fixed = self._slot_names()
        n = len(a["op"])
        first = 0 if max_rows is None else max(0, n - max_rows)
        rows = []
        for i in range(first, n):
            row = _scalar.OPS[int(a["op"][i])]
            name = lambda s: fixed.get(int(s), f"s{int(s)}")  # noqa: E731
            ops = [name(a["a"][i])]
            if row.arity == 2:
                ops.append(name(a["b"][i]))
            elif row.constant:
                ops.append(repr(float(a["k"][i])))
            if row.guard:
                note = (f"guard: {self._program.guards[i]} was "
                        f"{bool(a['expect'][i])} when recorded")
                rows.append((i, row.name, "", ops, note))
            else:
                rows.append((i, row.name, name(a["dst"][i]), ops, ""))
        return rows, first

    def _tape_table(self, max_rows):
        rows, first = self._instructions(max_rows)
        outs = ", ".join(self._slot_names().get(int(s), f"s{int(s)}")
                         for s in self._program.arrays["outputs"])
        body = [(str(i), op, dst, ", ".join(ops), note) for i, op, dst, ops, note in rows]
        header = ("#", "op", "result", "operands", "")
        widths = [max(len(r[c]) for r in body + [header]) for c in range(len(header))]
        fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
        lines = [repr(self), fmt(header), fmt(tuple("-" * w for w in widths))]
        if first:
            lines.append(f"... {first:,} earlier instructions not shown")
        lines += [fmt(r) for r in body]
        lines.append(f"outputs: {outs}")
        return "\n".join(lines) + "\n"

    def _dot_parts(self, max_nodes):
        """Boxes ``(name, label, shape)`` and edges of a drawing of the program."""
        rows, first = self._instructions(max_nodes)
        fixed = self._slot_names()
        boxes, edges, producer = [], [], {}
        if first:
            boxes.append(("more", f"... {first:,} earlier instructions", "note"))
        for i, op, dst, ops, note in rows:
            node = f"i{i}"
            boxes.append((node, op if not note else f"guard {op}", "diamond" if note
                          else "ellipse"))
            for text in ops:
                src = producer.get(text)
                if src is None:
                    src = f"v{len(boxes)}"
                    boxes.append((src, text, "box"))
                edges.append((src, node))
            if dst:
                producer[dst] = node
        for j, s in enumerate(self._program.arrays["outputs"]):
            text = fixed.get(int(s), f"s{int(s)}")
            boxes.append((f"out{j}", f"output {j}", "box"))
            edges.append((producer.get(text, f"out{j}"), f"out{j}"))
        return boxes, edges

    def __repr__(self):
        p = self._program
        return (f"<fastgrad.Function: {self.n_args} argument{'s' if self.n_args != 1 else ''}"
                f" ({p.n_inputs} numbers), {self._n_out} output{'s' if self._n_out != 1 else ''}"
                f", {p.n_instructions} instructions, {p.n_slots} slots, "
                f"{len(p.guards)} guard{'s' if len(p.guards) != 1 else ''}>")


class BatchedFunction:
    """A ``Function`` evaluated on a batch of samples (made by ``Function.vmap``).

    Arguments marked 0 in ``in_axes`` carry a leading batch axis (all the same length
    N); the others are shared. Results have a leading batch axis: values ``(N,)`` (or
    ``(N, n_outputs)``), gradients ``(N,) + argument shape``; every call takes
    ``reduce="sum"`` or ``"mean"`` for their sum or mean over the samples instead.

    A batched argument may be a ``dask.array.Array`` chunked along axis 0: the results
    are then Dask arrays chunked the same way (nothing is computed until asked), or with
    ``reduce=`` computed ndarrays, tree-reduced across chunks; see ``fastgrad._dask``.
    """

    def __init__(self, function, in_axes):
        if not isinstance(in_axes, (list, tuple)):
            raise TypeError(f"vmap: in_axes must be a tuple with one entry (0 or None) per "
                            f"argument, got {type(in_axes).__name__}")
        in_axes = tuple(in_axes)
        if len(in_axes) != function.n_args:
            raise ValueError(f"vmap: in_axes has {len(in_axes)} entries; the Function takes "
                             f"{function.n_args} arguments")
        for i, ax in enumerate(in_axes):
            if ax is not None and (isinstance(ax, bool) or ax != 0):
                raise ValueError(f"vmap: in_axes[{i}] is {ax!r}; batching is along axis 0 "
                                 "(0) or not at all (None)")
        if all(ax is None for ax in in_axes):
            raise ValueError("vmap: no argument is batched (every in_axes entry is None)")
        self.function = function
        self.in_axes = in_axes

    def _batch(self, args):
        F = self.function
        if len(args) != F.n_args:
            raise TypeError(f"this Function takes {F.n_args} arguments, got {len(args)}")
        N = None
        for i, (a, ax) in enumerate(zip(args, self.in_axes)):
            if ax == 0:
                n = len(a)
                if N is None:
                    N, first = n, i
                elif n != N:
                    raise ValueError(f"vmap: argument {i} has {n} samples along axis 0, "
                                     f"argument {first} has {N}")
        if N == 0:
            raise ValueError("vmap: the batch is empty (0 samples)")
        cols = []
        for i, (a, ax, spec) in enumerate(zip(args, self.in_axes, F._in_specs)):
            if ax == 0 and spec is None and isinstance(a, np.ndarray):
                if a.ndim != 1:
                    raise ValueError(f"vmap: argument {i} must have shape (N,), got {a.shape}")
                if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
                    raise TypeError(f"argument {i}: expected real numbers, got an array of "
                                    f"{a.dtype}")
                cols.append(np.asarray(a, dtype=np.float64)[None, :])
                continue
            if ax is None:
                if (type(a) is np.ndarray and a.ndim == 1 and a.dtype.kind in "fiu"
                        and _is_flat(spec) and len(a) == len(spec)):
                    shared = a.astype(np.float64, copy=False)[:, None]   # as it is
                else:
                    flat = []
                    _flatten(a, spec, f"argument {i}", flat)
                    shared = np.array(flat, dtype=np.float64)[:, None]
                cols.append(np.broadcast_to(shared, (len(shared), N)))   # not copied N times
            else:
                if isinstance(a, np.ndarray) and _is_flat(spec):
                    if a.ndim != 2 or a.shape[1] != len(spec):
                        raise ValueError(f"vmap: argument {i} must have shape (N, {len(spec)})"
                                         f", got {a.shape}")
                    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
                        raise TypeError(f"argument {i}: expected real numbers, got an array "
                                        f"of {a.dtype}")
                    cols.append(np.asarray(a, dtype=np.float64).T)
                    continue
                rows = []
                for s_, sample in enumerate(a):
                    flat = []
                    _flatten(sample, spec, f"argument {i}[{s_}]", flat)
                    rows.append(flat)
                cols.append(np.array(rows, dtype=np.float64).reshape(N, -1).T)
        return np.ascontiguousarray(np.concatenate(cols, axis=0)).ravel(), N

    def _values(self, values, N):
        F = self.function
        v = values.reshape(F._n_out, N)
        return v[0].copy() if F._scalar_out else np.ascontiguousarray(v.T)

    # ---- per-sample results on numpy input (the chunk kernels of fastgrad._dask) -----

    def _np_call(self, args):
        X, N = self._batch(args)
        values, _, _, _ = self.function._program.run(X, N)
        return (self._values(values, N),)

    def _np_value_and_grad(self, args, argnum):
        F = self.function
        shape = _shape(F._in_specs[argnum])
        X, N = self._batch(args)
        values, _, grads, _ = F._program.run(X, N, seed=np.ones(N))
        off = F._offsets()
        g = grads.reshape(-1, N)[off[argnum]:off[argnum + 1]].T
        return values.copy(), np.ascontiguousarray(g).reshape((N,) + shape)

    def _np_jacobian(self, args, argnum):
        # one reverse sweep over the batch per output, as Function.jacobian
        F = self.function
        shape = _shape(F._in_specs[argnum])
        X, N = self._batch(args)
        off = F._offsets()
        rows = []
        for j in range(F._n_out):
            seed = np.zeros(F._n_out * N)
            seed[j * N:(j + 1) * N] = 1.0
            _, _, grads, _ = F._program.run(X, N, seed=seed)
            rows.append(grads.reshape(-1, N)[off[argnum]:off[argnum + 1]].T)
        jac = np.stack(rows, axis=1)                    # (N, n_out, m)
        out = () if F._scalar_out else (F._n_out,)
        return (np.ascontiguousarray(jac).reshape((N,) + out + shape),)

    def _np_hessian(self, args, argnum):
        # as Function.hessian: m copies of every sample, tangent e_j in copy j
        F = self.function
        shape = _shape(F._in_specs[argnum])
        X, N = self._batch(args)
        off = F._offsets()
        n_in, m = len(X) // N, off[argnum + 1] - off[argnum]
        Xm = np.repeat(X, m)                            # input i, sample s, copy j
        T = np.zeros((n_in, N, m))
        T[off[argnum]:off[argnum + 1]] = np.eye(m)[:, None, :]
        _, _, _, hv = F._program.run(Xm, N * m, tangent=T.ravel(), seed=np.ones(N * m),
                                     second=True)
        H = hv.reshape(n_in, N, m)[off[argnum]:off[argnum + 1]].transpose(1, 0, 2)
        return (np.ascontiguousarray(H).reshape((N,) + shape + shape),)

    def _per_sample(self, method, args, argnum):
        """The per-sample results of ``method`` on numpy input, as a tuple of arrays."""
        if method == "call":
            return self._np_call(args)
        return getattr(self, "_np_" + method)(args, argnum)

    def _dispatch(self, method, args, argnum, reduce):
        """The numpy path, or the Dask one where an argument is a Dask collection."""
        _check_reduce(reduce)
        F = self.function
        if method != "call":
            if method != "jacobian":
                F._scalar_only(method)
            argnum = _check_argnum(argnum, F.n_args)
        if _any_dask(args):
            from . import _dask
            return _dask.batched(self, method, args, argnum, reduce)
        res = self._per_sample(method, args, argnum)
        if reduce is not None:
            res = tuple(_reduced(r, reduce, len(r)) for r in res)
        return res if method == "value_and_grad" else res[0]

    # ---- the public calls ---------------------------------------------------------------

    def __call__(self, *args, reduce=None):
        """Per-sample outputs: shape ``(N,)`` (one output) or ``(N, n_outputs)``.

        Parameters
        ----------
        *args
            The Function's arguments; those marked 0 in ``in_axes`` with a leading batch
            axis: numpy arrays (or sequences), or ``dask.array.Array`` chunked along it.
        reduce : {None, "sum", "mean"}, optional
            None: per-sample results (a Dask array, chunked like the batched arguments,
            for Dask input; nothing is computed). ``"sum"``/``"mean"``: their sum or mean
            over the samples (a float for one output, else an ndarray), tree-reduced
            across chunks and computed for Dask input.
        """
        return self._dispatch("call", args, 0, reduce)

    def value_and_grad(self, *args, argnum=0, reduce=None):
        """Per-sample values ``(N,)`` and gradients w.r.t. ``args[argnum]``: shape
        ``(N,) + argument shape`` (a shared argument too: one gradient per sample).

        ``reduce="sum"`` or ``"mean"`` gives ``(value, gradient)`` summed or averaged over
        the samples (a float and an array shaped like ``args[argnum]``: what
        ``scipy.optimize.minimize(..., jac=True)`` takes). Dask input: see ``__call__``.
        """
        return self._dispatch("value_and_grad", args, argnum, reduce)

    def grad(self, *args, argnum=0, reduce=None):
        """Per-sample gradients w.r.t. ``args[argnum]``: ``(N,) + argument shape``
        (``reduce``: see ``value_and_grad``)."""
        return self.value_and_grad(*args, argnum=argnum, reduce=reduce)[1]

    def jacobian(self, *args, argnum=0, reduce=None):
        """Per-sample Jacobians of the outputs w.r.t. ``args[argnum]``: shape
        ``(N,) + out_shape + arg_shape`` (``out_shape`` is ``()`` for one output),
        sample ``s`` equal to ``function.jacobian`` at sample ``s``'s arguments
        (``reduce``: see ``__call__``)."""
        return self._dispatch("jacobian", args, argnum, reduce)

    def hessian(self, *args, argnum=0, reduce=None):
        """Per-sample Hessians of the one output w.r.t. ``args[argnum]``: shape
        ``(N,) + arg_shape * 2``, sample ``s`` equal to ``function.hessian`` there
        (``reduce``: see ``__call__``)."""
        return self._dispatch("hessian", args, argnum, reduce)


_REDUCE = (None, "sum", "mean")


def _check_reduce(reduce):
    if not (reduce is None or (isinstance(reduce, str) and reduce in _REDUCE[1:])):
        raise ValueError(f"reduce must be None, 'sum' or 'mean', got {reduce!r}")


def _reduced(per_sample, reduce, n):
    """The sum (or mean) over axis 0 of per-sample results: a float where 0-d."""
    total = np.sum(per_sample, axis=0)
    if reduce == "mean":
        total = total / n
    return float(total) if np.ndim(total) == 0 else total


def _any_dask(args):
    """Whether an argument is a Dask collection, without importing dask."""
    if "dask" not in sys.modules:       # no Dask collection can exist
        return False
    return any(type(a).__module__.split(".")[0] == "dask" for a in args)


def dask_client(address=None, **cluster_kwargs):
    """A ``distributed.Client``: to the scheduler at ``address``, or to a new
    ``distributed.LocalCluster(**cluster_kwargs)`` of worker processes.

    Batched Functions need no client (Dask's threaded scheduler runs them on every core);
    with one active, they run on its cluster. Needs ``pip install "fastgrad[dask]"``.

    Parameters
    ----------
    address : str, optional
        A scheduler's address (``"tcp://host:8786"``); then ``cluster_kwargs`` must be
        empty.
    **cluster_kwargs
        ``LocalCluster``'s arguments; the defaults here: ``processes=True``,
        ``threads_per_worker=1`` (a Function's replay is one thread's work).

    Returns
    -------
    distributed.Client
    """
    from . import _dask
    return _dask.client(address, **cluster_kwargs)


# --------------------------------------------------------------------------------------
# trace, load
# --------------------------------------------------------------------------------------

def _values_like(arg, where):
    """Leaves shaped like an example argument: a Value per number."""
    if isinstance(arg, np.ndarray):
        if arg.ndim == 0:
            return _values_like(arg[()], where)
        if arg.ndim != 1:
            raise ValueError(f"trace: {where} is an array of shape {arg.shape}; pass "
                             "numbers, lists or 1-D arrays (nest lists for more axes)")
        arg = arg.tolist()
    if isinstance(arg, (list, tuple)):
        return [_values_like(a, f"{where}[{i}]") for i, a in enumerate(arg)]
    if isinstance(arg, bool) or not isinstance(arg, numbers.Real):
        raise TypeError(f"trace: {where} must be a number, a list or a 1-D array, got "
                        f"{type(arg).__name__}")
    return Value(float(arg))


def trace(fn, *example_args):
    """Record ``fn`` once, on Values shaped like ``example_args``, as a ``Function``.

    Parameters
    ----------
    fn : callable
        Scalar code on Values (``+ - * / **``, ``tanh``, ..., ``fastgrad.sin`` ...):
        returns a Value or a list of Values.
    *example_args : float, list or 1-D array (nested lists nest)
        The point of recording; every ``if`` the code takes on a comparison of Values
        there is kept as a guard.

    Returns
    -------
    Function
    """
    if not callable(fn):
        raise TypeError(f"trace: fn must be callable, got {type(fn).__name__}")
    leaves = [_values_like(a, f"argument {i}") for i, a in enumerate(example_args)]
    tape = _scalar.current_tape()
    tape._hold_guards(True)         # a compaction inside fn keeps every comparison
    try:
        out = fn(*leaves)
        if isinstance(out, (list, tuple)):
            if not all(isinstance(o, Value) for o in out):
                raise TypeError("trace: fn must return a Value or a list of Values; it "
                                "returned a list with other items (a float does not depend "
                                "on the inputs: return Values)")
        elif not isinstance(out, Value):
            raise TypeError(f"trace: fn must return a Value or a list of Values, got "
                            f"{type(out).__name__}")
        # the comparisons made by fn are those recorded after its newest leaf
        return Function(leaves, out if isinstance(out, Value) else list(out))
    finally:
        tape._hold_guards(False)


def _encode_spec(specs):
    return repr(specs)


def _decode_spec(text):
    import ast
    spec = ast.literal_eval(text) if isinstance(text, str) else text

    def ok(s):
        return s is None or (isinstance(s, tuple) and all(ok(t) for t in s))
    if not isinstance(spec, tuple) or not ok(spec):
        raise ValueError(f"bad input structure {text!r}")
    return spec


def load_function(path):
    """Read a Function written by ``Function.save(path)`` (no pickle involved).

    Raises ``ValueError`` if the file is not a saved Function.
    """
    import ast
    import pickle
    import zipfile
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a saved fastgrad.Function ({exc})") from None
    try:
        meta = ast.literal_eval(str(data.pop("meta")))
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError("no fastgrad.Function header")
        at, text = data.pop("guard_at"), data.pop("guard_text")
        program = dict(data, n_slots=meta["n_slots"],
                       guards={int(t): str(s) for t, s in zip(at, text)})
        return Function._from_state(dict(meta, program=program))
    except (KeyError, ValueError, SyntaxError, TypeError) as exc:
        raise ValueError(f"{path}: not a saved fastgrad.Function ({exc})") from None
