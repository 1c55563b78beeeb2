"""Writing export files atomically: readers never see a half-written file.

Temporary names carry the writer's process id (`.<name>.<pid>.<random>`): a writer killed
half-way leaves one behind, and the next writer of the same file removes it once that
process is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cchc.processes import alive

# Left by a writer of an older version (no process id in the name): removed after a day.
ORPHAN_AGE_SECONDS = 24 * 3600


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files and folders of `path` whose writer has died; returns them."""
    removed = []
    if not path.parent.is_dir():
        return removed
    now = time.time()
    for candidate in path.parent.glob(f".{path.name}.*"):
        if candidate.name == f".{path.name}.old":
            continue  # the previous folder during a swap: the swap itself removes it
        pid = candidate.name[len(path.name) + 2 :].split(".", 1)[0]
        try:
            dead = not alive(int(pid)) if pid.isdigit() else (
                now - candidate.lstat().st_mtime > ORPHAN_AGE_SECONDS)  # fmt: skip
        except OSError:
            continue
        if dead:
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)`, then move the finished file into place in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path), dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_directory_atomically(path: Path, build: Callable[[Path], None]) -> Path:
    """Call `build(tmp_dir)`, then swap the finished folder in for `path`.

    Readers see the old folder or the new one, never a mix; between the two renames the
    folder is briefly absent (rename cannot swap two directories in one step)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(path), dir=path.parent))
    old = path.parent / f".{path.name}.old"
    try:
        build(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return path
