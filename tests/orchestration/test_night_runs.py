"""Run hygiene of `cchc night run`: one run of a night at a time, its Airflow child stops
with it, and every run keeps its own log. No Airflow needed: the machinery is tested alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import pytest

from cchc.orchestration.local_airflow import NightAlreadyRunning, _new_log_file, night_lock

NIGHT = date(2024, 4, 5)


def test_a_second_run_of_the_same_night_refuses_with_a_clear_message(tmp_path):
    refused = rf"cchc_nightly for night 2024-04-05 is already running \(pid {os.getpid()}"
    with night_lock(tmp_path, "cchc_nightly", NIGHT):
        with pytest.raises(NightAlreadyRunning, match=refused), night_lock(tmp_path, "cchc_nightly", NIGHT):  # fmt: skip
            pass
        with night_lock(tmp_path, "cchc_nightly", date(2024, 4, 6)):
            pass  # another night runs
    with night_lock(tmp_path, "cchc_nightly", NIGHT):
        pass  # released


def test_the_lock_is_held_across_processes(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from datetime import date
            from pathlib import Path
            from cchc.orchestration.local_airflow import night_lock
            with night_lock(Path({str(tmp_path)!r}), "cchc_nightly", date(2024, 4, 5)):
                print("held", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(NightAlreadyRunning, match=f"pid {holder.pid}"),
            night_lock(tmp_path, "cchc_nightly", NIGHT),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with night_lock(tmp_path, "cchc_nightly", NIGHT):
        pass  # the lock died with its holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is as good as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_stopping_the_run_stops_its_airflow_child_and_grandchildren(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    runner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import subprocess
            from cchc.orchestration.local_airflow import _run_as_group
            _run_as_group(["bash", "-c", "sleep 300 & echo $! > {pid_file}; wait"], {{}}, subprocess.PIPE)
        """)],
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and runner.poll() is None
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert _alive(grandchild)
    runner.send_signal(signal.SIGTERM)
    runner.wait(30)
    deadline = time.monotonic() + 15
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the Airflow child outlived `cchc night run`"


def test_every_run_writes_its_own_log(tmp_path):
    first = _new_log_file(tmp_path, "cchc_nightly_2024-04-05")
    first.write_text("first run")
    second = _new_log_file(tmp_path, "cchc_nightly_2024-04-05")
    assert second != first and not second.exists()
    assert first.name.startswith("cchc_nightly_2024-04-05_")
