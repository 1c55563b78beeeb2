"""Generated warehouse passwords, kept 0600 under the data folder and read by the project.

One JSON file, `<data dir>/secrets/warehouse-roles.json`, maps a login (the embedded
superuser `postgres`, `cchc_etl`, `cchc_dbt`, ...) to its password. Only the OS account that
runs the project can read it: the folder is 0700, the file 0600 from the moment it exists.
A lock serialises two processes generating a missing password at the same time, so both
end with the same value.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

PASSWORD_FILE = "warehouse-roles.json"


def secrets_dir(data_dir: Path) -> Path:
    return data_dir / "secrets"


def password_file(data_dir: Path) -> Path:
    return secrets_dir(data_dir) / PASSWORD_FILE


def new_password() -> str:
    # URL-safe: it travels inside connection URLs unescaped in some tools.
    return secrets.token_urlsafe(24)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    folder = secrets_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    fd = os.open(folder / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_json(path: Path) -> dict[str, str]:
    """A secrets file's values; none when it does not exist yet."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def read_passwords(data_dir: Path) -> dict[str, str]:
    return read_json(password_file(data_dir))


def write_private_json(path: Path, values: dict[str, str]) -> None:
    """Replace a secrets file atomically; its folder 0700, the file 0600 from the start, never
    readable by others, even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    scratch = path.with_suffix(".tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=1, sort_keys=True)
    os.replace(scratch, path)


def stored_password(data_dir: Path, login: str, *, generate: bool = True) -> str | None:
    """The stored password of `login`; a missing one is generated and stored when `generate`."""
    with _locked(data_dir):
        values = read_passwords(data_dir)
        if login not in values and generate:
            values[login] = new_password()
            write_private_json(password_file(data_dir), values)
        return values.get(login)


def stored_passwords(data_dir: Path, logins: list[str]) -> dict[str, str]:
    """Passwords of `logins`, generating and storing the missing ones in one step."""
    with _locked(data_dir):
        values = read_passwords(data_dir)
        missing = [login for login in logins if login not in values]
        for login in missing:
            values[login] = new_password()
        if missing:
            write_private_json(password_file(data_dir), values)
        return {login: values[login] for login in logins}
