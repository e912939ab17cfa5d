"""The hand-written C floor of the chain rows (``chain_floor.c``), built at run time.

``load()`` compiles ``chain_floor.c`` with the system's C compiler (``$CC``, else the one
Python was built with, else ``cc``) at ``-O2``, without machine-specific flags, into a
temporary folder, and loads it with ctypes; ``ImportError`` (so the row is a not-run row
with the reason) where there is no compiler or the build fails.
"""
import ctypes
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("chain_floor.c")


def _compiler():
    for cand in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc", "clang"):
        if cand:
            argv = shlex.split(cand)
            if shutil.which(argv[0]):
                return argv
    return None


def compiler_version():
    """The first line of the C compiler's ``--version``, or None without one."""
    cc = _compiler()
    if cc is None:
        return None
    try:
        out = subprocess.run(cc + ["--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0] if first else None


def load():
    """The compiled floor: a ``Floor`` with ``value(a, b, x0)`` and
    ``value_and_grad(a, b, x0)``."""
    cc = _compiler()
    if cc is None:
        raise ImportError("no C compiler found ($CC, Python's CC, cc, gcc or clang)")
    folder = Path(tempfile.mkdtemp(prefix="fastgrad-cfloor-"))
    lib = folder / "chain_floor.so"
    cmd = cc + ["-O2", "-shared", "-fPIC", str(SOURCE), "-o", str(lib), "-lm"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise ImportError(f"building {SOURCE.name} failed ({' '.join(cmd)}): {detail}") \
            from None
    return Floor(ctypes.CDLL(str(lib)))


class Floor:
    def __init__(self, dll):
        d, p = ctypes.c_double, ctypes.POINTER(ctypes.c_double)
        self._value = dll.chain_value
        self._value.restype, self._value.argtypes = d, [d, d, d, ctypes.c_long]
        self._vg = dll.chain_value_and_grad
        self._vg.restype = d
        self._vg.argtypes = [d, d, d, ctypes.c_long, p, p]
        self._xs = np.empty(0)
        self._grad = np.empty(3)

    def value(self, a, b, x0, repeats):
        return self._value(a, b, x0, repeats)

    def value_and_grad(self, a, b, x0, repeats):
        if len(self._xs) < repeats + 1:
            self._xs = np.empty(repeats + 1)
        p = ctypes.POINTER(ctypes.c_double)
        v = self._vg(a, b, x0, repeats, self._xs.ctypes.data_as(p),
                     self._grad.ctypes.data_as(p))
        return v, self._grad.copy()
