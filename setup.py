"""Build script: lists the compiled extension modules, nothing else.

Metadata lives in pyproject.toml. Compiler directives are set once, here, for every
module; ``FASTGRAD_DEBUG=1`` turns bounds and wraparound checks back on and builds
without optimisation, for debugging and memory checkers.
"""
import os
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTGRAD_DEBUG", "") not in ("", "0")

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,  # IEEE division: x/0 gives inf or nan, never ZeroDivisionError
    "embedsignature": True,
}
if sys.platform == "win32":          # MSVC
    compile_args = ["/Od", "/Zi"] if DEBUG else ["/O2"]
else:
    compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]

extensions = [
    Extension(
        "fastgrad." + path.stem,
        [str(path)],
        extra_compile_args=compile_args,
    )
    for path in sorted(Path("src_cython", "fastgrad").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        include_path=["src_cython"],
        compiler_directives=directives,
    )
)
