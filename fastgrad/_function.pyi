# Type stubs for the compiled replay (src_cython/fastgrad/_function.pyx).
# Keep in step with the .pyx: tests/test_typing.py compares the two with mypy's stubtest.
from typing import Any, final

import numpy as np
import numpy.typing as npt

from ._scalar import Value

class BranchChanged(ValueError):
    """A replay reached a comparison that would go the other way than when recorded."""

def build(inputs: list[Value], outputs: list[Value], guard_lo: int,
          guard_hi: int) -> dict[str, Any]:
    """Cut the program computing ``outputs`` from the leaves ``inputs`` out of their tape."""

@final
class Program:
    """An immutable recorded program and its sweeps."""

    @property
    def arrays(self) -> dict[str, Any]: ...
    @property
    def guards(self) -> dict[int, str]: ...
    @property
    def n_slots(self) -> int: ...
    @property
    def n_instructions(self) -> int: ...
    @property
    def n_inputs(self) -> int: ...
    @property
    def n_outputs(self) -> int: ...
    def __init__(self, arrays: dict[str, Any]) -> None: ...
    def run(self, x: npt.NDArray[np.float64], B: int, tangent: Any = None, seed: Any = None,
            second: bool = False) -> tuple[Any, Any, Any, Any]:
        """Run the sweeps on ``B`` samples."""
    def hessian(self, x: npt.NDArray[np.float64], lo: int, hi: int,
                dense: bool = False) -> npt.NDArray[np.float64]:
        """The Hessian of the one output w.r.t. inputs ``lo:hi``, by colouring."""
    def hessian_colouring(self, lo: int, hi: int) -> (
            tuple[npt.NDArray[np.int32], int, npt.NDArray[np.bool_]] | None):
        """``(colour, n_colours, pattern)`` of the Hessian w.r.t. inputs ``lo:hi``."""
