"""Run the simulators in a child process, for tests and local runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (another process could still take it before us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SimulatorProcess:
    """`with SimulatorProcess(store) as sim: httpx.get(sim.base_url + "/onestop/health")`.

    port=0 picks a free port. `faults` is passed on as --faults (see cchc.simulators.faults).
    """

    def __init__(
        self,
        store_path: Path,
        host: str = "127.0.0.1",
        port: int = 8780,
        token: str = "dev-token",
        faults: str | None = None,
        startup_timeout: float = 20.0,
    ) -> None:
        self.store_path = Path(store_path)
        self.host = host
        self.port = port or free_port(host)
        self.token = token
        self.faults = faults
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen | None = None
        self._stderr = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, source: str) -> str:
        """A source's base URL, as in the Airflow connections (`.../onestop`)."""
        return f"{self.base_url}/{source}"

    def start(self) -> SimulatorProcess:
        if self._process is not None:
            raise RuntimeError("simulator already started")
        command = [
            sys.executable,
            "-m",
            "cchc.simulators",
            "--store",
            str(self.store_path),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--token",
            self.token,
            "--faults",
            self.faults or "",
        ]
        # stderr to a file, not a pipe: a chatty child can't block on a full pipe.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self._stderr, env=env
        )
        self._wait_until_healthy()
        return self

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        health = f"{self.base_url}/onestop/health"
        # One client for every poll: each new client loads the TLS bundle again (~50 ms).
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    stderr = self._stderr_text()
                    self.stop()
                    raise RuntimeError(
                        f"simulator exited with code {self._process_code}:\n{stderr}"
                    )
                try:
                    if http.get(health).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        stderr = self._stderr_text()
        self.stop()
        raise TimeoutError(
            f"simulator not healthy at {health} after {self.startup_timeout:.0f}s; stderr:\n{stderr}"
        )

    @property
    def _process_code(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
