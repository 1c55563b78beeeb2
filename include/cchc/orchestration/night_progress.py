"""Live progress of a night: each task of `airflow dags test` as it starts and ends.

`airflow dags test` writes its log to a file while it runs; this follows that file and turns
its task lines into events (task, state, seconds), so a person watching a night sees it move
instead of minutes of silence.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STARTING = re.compile(r"\[DAG TEST\] starting task_id=(\S+)")
NEW_STATE = re.compile(r"Task instance state updated .*?new_state=(\w+)")
ENDED = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class TaskEvent:
    task: str
    state: str  # 'running' when it starts, then Airflow's final state (success, failed, …)
    seconds: float  # since the task started


class NightProgress:
    """Feed it the log's lines; it returns an event when a task starts or ends."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._task: str | None = None
        self._started = 0.0
        self._state: str | None = None

    def feed(self, line: str) -> TaskEvent | None:
        if match := STARTING.search(line):
            self._task, self._started, self._state = match[1], self._clock(), None
            return TaskEvent(self._task, "running", 0.0)
        if self._task and (match := NEW_STATE.search(line)):
            self._state = match[1]
            return None
        if match := ENDED.search(line):
            task, state = match[1], self._state or "ended"
            self._task, self._state = None, None
            return TaskEvent(task, state, self._clock() - self._started)
        return None


def follow(process: subprocess.Popen, log_file: Path,
           on_task: Callable[[TaskEvent], None]) -> int:  # fmt: skip
    """Read `log_file` as `process` writes it, reporting each task event; returns the
    process's exit code once it has ended and every line is read."""
    progress = NightProgress()
    with log_file.open(errors="replace") as log:
        pending = ""
        while True:
            chunk = log.readline()
            if chunk:
                pending += chunk
                if pending.endswith("\n"):
                    if event := progress.feed(pending):
                        on_task(event)
                    pending = ""
                continue
            if process.poll() is not None:
                rest = pending + log.read()
                for line in rest.splitlines():
                    if event := progress.feed(line):
                        on_task(event)
                return process.returncode
            time.sleep(POLL_SECONDS)
