"""What a newcomer meets when something goes wrong: one line on stderr, no traceback (unless
--verbose), nothing half-written left behind, and a killed export's temporary folder removed
by the next one."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from cchc import cli
from cchc.exports import files, quarterly
from cchc.orchestration.night_progress import NightProgress


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["cchc", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return exited.value.code, capsys.readouterr().err


@pytest.fixture
def full_disk(monkeypatch, export_settings):
    """The export's settings, with a disk that fills up while the CSV files are written."""
    monkeypatch.setattr(quarterly, "load_settings", lambda: export_settings)

    def no_space(path, table, **_):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(quarterly, "write_csv", no_space)
    return export_settings


def test_a_full_disk_is_one_line_and_leaves_nothing_behind(full_disk, monkeypatch, capsys):
    folder = full_disk.province_export_dir / "quarterly"
    before = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    # 2024Q1: a quarter that has ended and has data, so the export gets as far as the disk
    code, err = run_main(monkeypatch, capsys, "export", "quarter", "--quarter", "2024Q1")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the disk is full: "), err
    assert "Traceback" not in err and "2024Q1" in lines[0]
    assert sorted(p.name for p in folder.iterdir()) == before  # no temporary folder left


def test_verbose_keeps_the_traceback(full_disk, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["cchc", "--verbose", "export", "quarter", "-q", "2024Q1"])
    with pytest.raises(OSError):
        cli.main()


def test_a_refused_quarter_is_one_line(export_settings, monkeypatch, capsys):
    monkeypatch.setattr(quarterly, "load_settings", lambda: export_settings)
    code, err = run_main(monkeypatch, capsys, "export", "quarter", "--quarter", "2024Q3")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refused to export 2024Q3: "), err
    assert "--draft" in lines[0] and "Traceback" not in err


def test_a_missing_ground_truth_is_one_line():
    run = subprocess.run(
        [sys.executable, "-m", "cchc.cli", "dq", "score", "--truth", "/nonexistent"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "error: no ground truth at /nonexistent (give truth/errors.csv or its folder)"
    )
    assert "Warning" not in run.stderr  # no stray warning opens the command either


def test_a_reversed_window_is_refused_before_anything_runs():
    run = subprocess.run(
        [sys.executable, "-m", "cchc.cli", "extract", "--from", "2024-04-05", "--to", "2024-04-01"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "error: --to (2024-04-01 00:00) must be after --from (2024-04-05 00:00)"
    )


def test_a_killed_exports_temporary_folder_is_removed_by_the_next(export_settings):
    folder = export_settings.province_export_dir / "quarterly"
    folder.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    left = folder / f".2024Q1.{dead.pid}.k1ll3d"
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "half.xlsx").write_bytes(b"half")
    running = folder / f".2024Q1.{os.getpid()}.busy"  # a live writer's: kept
    running.mkdir()
    try:
        quarterly.export_quarter(quarterly.Quarter.parse("2024Q1"), export_settings)
        assert not left.exists()
        assert running.exists()
    finally:
        running.rmdir()


def test_a_file_writers_leftover_is_removed_too(tmp_path):
    target = tmp_path / "tien_do.xlsx"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".tien_do.xlsx.{dead.pid}.x"
    leftover.write_bytes(b"half")
    files.write_atomically(target, lambda tmp: tmp.write_bytes(b"whole"))
    assert target.read_bytes() == b"whole" and not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tien_do.xlsx"]


def test_night_progress_reports_each_task_with_state_and_seconds():
    ticks = iter([10.0, 12.5, 20.0, 21.0])
    progress = NightProgress(clock=lambda: next(ticks))
    log = [
        "x [info ] [DAG TEST] starting task_id=prepare_warehouse map_index=-1 [airflow]",
        "x [info ] Task instance state updated [airflow] new_state=success rows_affected=1",
        "x [info ] [DAG TEST] end task task_id=prepare_warehouse map_index=-1 [airflow]",
        "x [info ] [DAG TEST] starting task_id=build_marts map_index=-1 [airflow]",
        "x [info ] Task instance state updated [airflow] new_state=failed rows_affected=1",
        "x [info ] [DAG TEST] end task task_id=build_marts map_index=-1 [airflow]",
    ]
    events = [e for e in map(progress.feed, log) if e]
    assert [(e.task, e.state, e.seconds) for e in events] == [
        ("prepare_warehouse", "running", 0.0),
        ("prepare_warehouse", "success", 2.5),
        ("build_marts", "running", 0.0),
        ("build_marts", "failed", 1.0),
    ]
