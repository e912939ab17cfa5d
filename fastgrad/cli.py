"""The ``fastgrad`` command line (console script and ``python -m fastgrad``)."""
import argparse
import platform
import sys

import numpy

from . import __version__, _scalar


def _info(args):
    """Print what is installed: versions and where the compiled core lives."""
    tape = _scalar.Tape()
    print(f"fastgrad {__version__}")
    print(f"compiled core: {_scalar.__file__}")
    print(f"bytes per node: {tape.nbytes // tape.capacity}")
    print(f"python {platform.python_version()} ({platform.machine()}), numpy {numpy.__version__}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastgrad",
        description="Reverse-mode automatic differentiation with a compiled tape.")
    parser.add_argument("--version", action="version", version=f"fastgrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = commands.add_parser("info", help="show versions and the compiled core in use")
    info.set_defaults(run=_info)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
