"""What `cchc` says when a command fails: one line a person can act on, not a traceback.

`--verbose` keeps Python's traceback for whoever has to debug it.
"""

from __future__ import annotations

import errno

HINT = "(run with --verbose for the details)"


def _os_error(error: OSError) -> str:
    where = error.filename or ""
    if error.filename2:
        where = f"{where} → {error.filename2}"
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOENT: "no such file or folder",
    }.get(error.errno, error.strerror or str(error))
    return f"{reason}: {where}" if where else reason


def one_line(error: BaseException) -> str:
    """The error as one line, with what to do when it is a known situation."""
    import psycopg

    if isinstance(error, psycopg.OperationalError):
        first = (str(error).strip().splitlines() or ["no answer"])[0]
        return (f"the warehouse does not answer ({first}); start it with `cchc warehouse start`"
                " or check CCHC_WAREHOUSE_URL")  # fmt: skip
    if isinstance(error, OSError):
        return _os_error(error)
    text = " ".join(str(error).split()) or type(error).__name__
    if len(text) > 400:
        text = text[:400] + "…"
    return text if isinstance(error, ValueError | LookupError) else f"{text} {HINT}"
