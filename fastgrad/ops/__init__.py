"""The registry rows written in Python: the rest of what numpy differentiates.

The compiled rows (``src_cython/fastgrad/_tensor.pyx``) cover what training loops run
every step: arithmetic, ``tanh``, ``matmul``, reductions, reshapes, losses. Everything
else numpy can differentiate is a row here, one per primitive, in the same registry
(``fastgrad._tensor.REGISTRY``) through ``fastgrad._tensor.define``: its name, its
forward (numpy's own function, on plain values), a VJP and a JVP rule per operand, and
the front ends that reach it (numpy's functions and ufuncs on Tensors, ``fastgrad.numpy``,
Tensor methods). The rules are numpy code; numpy dispatches them to the registry when
they meet Tensors, so every row differentiates to any order, in both modes.

The families, one module each:

* ``elementwise``: ufuncs (``sinh``, ``arctan2``, ``logaddexp``, ...), and the
  functions with no derivative (``floor``, ``sign``, ``argmax``, ...), which run on the
  values and return constants.
* ``reductions``: ``prod`` (exact with zeros), ``cumsum``, ``var``/``std`` (``ddof``),
  ``trace``, and the Tensor methods ``astype`` (float dtypes), ``dot``, ``ravel``,
  ``flatten``.
* ``products``: ``einsum`` (any subscripts), ``tensordot``, ``dot`` of n-d operands,
  ``inner``, ``outer``, ``kron``, ``cross``, ``vdot``, ``linalg.multi_dot``: every one
  but ``cross`` an einsum, its rules one einsum adjoint.
* ``linalg``: ``numpy.linalg``'s ``norm inv det slogdet solve pinv svd eigh eigvalsh
  cholesky eig matrix_power`` (batched, as numpy's); several outputs are one row each.
* ``complex``: ``real``, ``imag``, ``conj``, ``angle``, ``real_if_close`` with autograd's
  complex conventions (the table in its docstring), and ``iscomplex``/``isreal``.
* ``fft``: ``numpy.fft``'s transforms (``fft`` ... ``irfftn``, with ``n``/``s``, axes and
  ``norm``) and ``fftshift``/``ifftshift``; each VJP is the transform's transpose.
* ``shapes``: functions that move elements (``flip roll tile repeat diag take sort
  split insert pad meshgrid ...``: numpy's own function on the elements' positions, one
  getitem), change the shape (``ravel atleast_*d``) or permute axes (``moveaxis
  rollaxis matrix_transpose``), join
  (``vstack hstack column_stack dstack append``), ``tril triu select diff gradient
  linspace full``, autograd's ``make_diagonal``; composites of compiled rows, no rows
  of their own.

Adding an op: one ``define(...)`` row (or one line of a family's table) in its family's
module, and one case in that family's test file ``tests/test_ops_<family>.py``
(``CASES``: how to call it and on which shapes), which checks it against finite
differences to second order in both modes, against PyTorch where torch has it, and
that every front end the row names reaches it.
"""
from . import elementwise  # noqa: F401  (registers the rows)
from . import reductions  # noqa: F401
from . import products  # noqa: F401
from . import linalg  # noqa: F401
from . import complex  # noqa: F401,E402
from . import fft  # noqa: F401,E402
from . import shapes  # noqa: F401
