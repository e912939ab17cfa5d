"""Writing files atomically: the one helper behind ``Module.save``, ``--save``, ``--plot``.

A file is written under a temporary name in the folder it belongs to and renamed into
place, so it appears complete or not at all. The temporary file is created with mode
0600 (``tempfile.mkstemp``); before the rename it gets the mode a plain ``open()`` would
have given it, ``0o666`` with the process's umask applied.
"""
import contextlib
import os
import tempfile

__all__ = ["atomic_write", "default_file_mode"]


def default_file_mode():
    """The mode ``open(path, "w")`` gives a new file: ``0o666 & ~umask``."""
    umask = os.umask(0)                # the only portable way to read it is to set it
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path, suffix=""):
    """Give a temporary path next to ``path``; on success rename it to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    suffix : str, optional
        Ending of the temporary name (writers that pick a format from the file name,
        such as matplotlib's ``savefig``, need the real extension).

    Yields
    ------
    str
        The temporary file's path (the file exists and is empty). If the ``with`` block
        raises, the temporary file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".fastgrad-", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
