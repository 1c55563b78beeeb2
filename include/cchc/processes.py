"""The local background processes the project starts (Airflow's services, Superset) and the
files it leaves while writing: is a recorded process still alive, is a loopback port free."""

from __future__ import annotations

import os
import socket


def alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie child of this process counts as gone, another OS user's
    process as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:  # not our child: kill(0) said it exists
        return True


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now."""
    with socket.socket() as probe:
        # As the servers do: connections of a stopped server in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
