"""Apache Superset on the embedded default: its own virtualenv, its own process, loopback only.

`cchc bi start` installs Superset into a virtualenv of its own the first time (a few minutes;
`~/.cache/cchc/superset-<hash of the pins>`, reused while `superset-requirements.txt` and its
lock are unchanged), writes its configuration under `<data dir>/superset`
(its own metadata in SQLite there; SECRET_KEY and the admin password generated once and kept
0600 in `<data dir>/secrets/superset.json`), initialises it, serves it on 127.0.0.1 with
gunicorn and provisions the marts connection (as `cchc_bi`) and the dashboards
(`cchc.bi.provision`). The compose `bi` profile runs the same tool from the same files.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cchc.config import Settings, _env
from cchc.processes import alive, port_free
from cchc.security.secret_store import read_json, write_private_json

HOST = "127.0.0.1"
DEFAULT_PORT = 8088
REQUIREMENTS = Path(__file__).with_name("superset-requirements.txt")
LOCK = Path(__file__).with_name("superset-requirements.lock")
CONFIG_TEMPLATE = Path(__file__).with_name("superset_config.py")
SECRETS_FILE = "superset.json"
ADMIN_USER = "admin"


class SupersetError(RuntimeError):
    pass


def bi_port() -> int:
    return int(_env("CCHC_BI_PORT", str(DEFAULT_PORT)))


def venv_dir() -> Path:
    """In the user's cache, named by the pins: every checkout, data folder and CI run on this
    machine reuses it while the pins are unchanged, and new pins get a new one."""
    cache = Path(_env("XDG_CACHE_HOME", str(Path.home() / ".cache")))
    default = cache / "cchc" / f"superset-{_requirements_stamp()[:12]}"
    return Path(_env("CCHC_BI_VENV", str(default)))


def home_dir(settings: Settings) -> Path:
    return settings.data_dir / "superset"


def secrets_file(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / SECRETS_FILE


def _requirements_stamp() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes() + LOCK.read_bytes()).hexdigest()


def ensure_venv(progress: Callable[[str], None] = print) -> Path:
    """The BI virtualenv, installed only when its pinned requirements changed."""
    venv = venv_dir()
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == _requirements_stamp():
        return venv
    progress(f"installing Superset into {venv} (first time: a few minutes)")
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         "-r", str(REQUIREMENTS), "-c", str(LOCK)],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise SupersetError(f"installing Superset failed:\n{result.stderr[-3000:]}")
    stamp.write_text(_requirements_stamp())
    return venv


def superset_secrets(settings: Settings) -> tuple[dict[str, str], bool]:
    """SECRET_KEY and the admin password, generated once; True when generated just now."""
    path = secrets_file(settings)
    stored = read_json(path)
    new = not stored.get("admin_password")
    stored.setdefault("secret_key", secrets.token_urlsafe(42))
    stored.setdefault("admin_password", secrets.token_urlsafe(18))
    if new or not path.exists():
        write_private_json(path, stored)
    return stored, new


def superset_env(settings: Settings, metadata: Path | None = None) -> dict[str, str]:
    home = home_dir(settings)
    metadata = metadata or home / "superset.db"
    values, _ = superset_secrets(settings)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))},
        "SUPERSET_CONFIG_PATH": str(CONFIG_TEMPLATE),
        "SUPERSET_HOME": str(home),
        "CCHC_SUPERSET_METADATA_URL": f"sqlite:///{metadata}",
        "SUPERSET_SECRET_KEY": values["secret_key"],
        "FLASK_APP": "superset",
        # No usage pixel, no update check (also set in superset_config.py).
        "SCARF_ANALYTICS": "false",
        "SUPERSET_LOG_LEVEL": "warning",
    }


def _superset(
    settings: Settings, *args: str, metadata: Path | None = None, timeout: float = 900
) -> None:
    command = [str(venv_dir() / "bin" / "superset"), *args]
    result = subprocess.run(
        command, env=superset_env(settings, metadata), capture_output=True, text=True,
        timeout=timeout, cwd=home_dir(settings),
    )  # fmt: skip
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-3000:]
        raise SupersetError(f"`superset {' '.join(args)}` failed:\n{output}")


def ensure_template(settings: Settings, progress: Callable[[str], None] = print) -> Path:
    """The metadata every new data folder starts from: Superset's schema and roles, no user."""
    template = venv_dir() / "metadata-template.db"
    if not template.exists():
        progress("initialising Superset's metadata (first time: a minute or two)")
        home_dir(settings).mkdir(parents=True, exist_ok=True)
        scratch = template.with_suffix(".partial")
        scratch.unlink(missing_ok=True)
        _superset(settings, "db", "upgrade", metadata=scratch)
        _superset(settings, "init", metadata=scratch)
        os.replace(scratch, template)
    return template


def initialise(settings: Settings, progress: Callable[[str], None] = print) -> None:
    """Superset's metadata schema, roles and admin; redone only when Superset changed.

    The schema and roles (`db upgrade`, `init`: a minute or two) are the same for every data
    folder, so they are built once per virtualenv into a template that a new data folder
    copies; only its admin is its own."""
    home = home_dir(settings)
    home.mkdir(parents=True, exist_ok=True)
    values, _ = superset_secrets(settings)
    stamp = home / ".initialised"
    wanted = _requirements_stamp()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    template = ensure_template(settings, progress)
    database = home / "superset.db"
    if not database.exists():
        shutil.copyfile(template, database)
    else:  # a data folder of an older Superset: its schema and roles brought up to date
        _superset(settings, "db", "upgrade")
        _superset(settings, "init")
    _superset(settings, "fab", "create-admin", "--username", ADMIN_USER, "--firstname", "CCHC",
              "--lastname", "Admin", "--email", "admin@localhost",
              "--password", values["admin_password"])  # fmt: skip
    stamp.write_text(wanted)


def _pid_file(settings: Settings) -> Path:
    return home_dir(settings) / "superset.pid"


def running_url(settings: Settings) -> str | None:
    path = _pid_file(settings)
    if not path.exists():
        return None
    pid, url = path.read_text().split()
    return url if alive(int(pid)) else None


@dataclass
class Started:
    url: str
    admin_password: str
    password_is_new: bool
    password_file: Path
    already_running: bool
    dashboards: dict[str, str] = field(default_factory=dict)


def start(
    settings: Settings,
    port: int | None = None,
    *,
    progress: Callable[[str], None] = print,
    timeout: float = 300,
) -> Started:
    """Install (first time), initialise, serve and provision; idempotent."""
    from cchc.bi.provision import provision

    values, new = superset_secrets(settings)
    started = Started("", values["admin_password"], new, secrets_file(settings), False)
    url = running_url(settings)
    if url:
        started.already_running = True
    else:
        port = port or bi_port()
        _ensure_port_free(port)
        ensure_venv(progress)
        initialise(settings, progress)
        url = f"http://{HOST}:{port}"
        log = (home_dir(settings) / "superset.log").open("ab")
        process = subprocess.Popen(
            [str(venv_dir() / "bin" / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", "1",
             "--threads", "8", "--timeout", "120", "superset.app:create_app()"],
            env=superset_env(settings), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=home_dir(settings),
        )  # fmt: skip
        _pid_file(settings).write_text(f"{process.pid} {url}\n")
        _wait_healthy(settings, url, timeout)
    started.url = url
    started.dashboards = provision(settings, url, ADMIN_USER, values["admin_password"])
    return started


def _ensure_port_free(port: int) -> None:
    if not port_free(HOST, port):
        raise SupersetError(f"port {port} on {HOST} is in use: set CCHC_BI_PORT to a free port")


def _wait_healthy(settings: Settings, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running_url(settings):
            log = home_dir(settings) / "superset.log"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SupersetError(f"Superset exited during start-up:\n{tail}")
        try:
            if httpx.get(f"{url}/health", timeout=5).text.strip() == "OK":
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise SupersetError(f"Superset at {url} did not answer within {timeout:.0f}s")


def stop(settings: Settings, timeout: float = 30) -> bool:
    path = _pid_file(settings)
    if not path.exists():
        return False
    pid = int(path.read_text().split()[0])
    was_running = alive(pid)
    if was_running:
        with_group = [signal.SIGTERM, signal.SIGKILL]
        for sig in with_group:
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.5)
            if not alive(pid):
                break
    path.unlink(missing_ok=True)
    return was_running
