"""`python -m bench.dbt_statements [LOG ...]`: where a dbt build's database time went, statement
by statement, read from dbt's debug log (`dbt_project/logs/dbt.log*`, rotated files included).

dbt's node timings lump a model's compile-time queries (its change detection, run by macros
at compile time), hooks and the model's own `SELECT` together. The debug log has every
statement dbt sent and its duration ("SQL status: SELECT 2 in 7.58 seconds"): this sums
them per node and lists the dearest statements, with the status line that tells which is
which (a compile-time query returns a few rows; the model's `CREATE TABLE AS` reports the
rows it built). Give the log files of one build (clear the folder before the build).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

STATEMENT = re.compile(r"\[(Thread-\d+|MainThread)[^\]]*\]: On (\S+?):")
STATUS = re.compile(r"\[(Thread-\d+|MainThread)[^\]]*\]: SQL status: (.+) in ([\d.]+) seconds")


def statements(lines) -> list[tuple[float, str, str]]:
    """(seconds, node, status) of every statement, in log order: a thread's status line
    belongs to the node that thread last sent a statement for."""
    node_of: dict[str, str] = {}
    found = []
    for line in lines:
        sent = STATEMENT.search(line)
        if sent:
            node_of[sent.group(1)] = sent.group(2)
            continue
        done = STATUS.search(line)
        if done:
            thread, status, seconds = done.groups()
            found.append((float(seconds), node_of.get(thread, "?"), status))
    return found


def _log_files(paths: list[Path]) -> list[Path]:
    """The given files, or the project's dbt.log and its rotations, oldest first."""
    if paths:
        return paths
    from cchc.transform.dbt import PROJECT_DIR

    logs = PROJECT_DIR / "logs"
    rotated = sorted(logs.glob("dbt.log.*"), key=lambda p: -int(p.suffix[1:]))
    return [*rotated, logs / "dbt.log"]


def _lines(paths: list[Path]):
    for path in paths:
        with path.open(errors="replace") as handle:
            yield from handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("logs", nargs="*", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    # one stream: a statement and its status may fall on either side of a log rotation
    found = statements(_lines(_log_files(args.logs)))
    per_node = Counter()
    for seconds, node, _ in found:
        per_node[node] += seconds
    print(f"{len(found)} statements, {sum(per_node.values()):.1f} s in all; by node:")
    for node, seconds in per_node.most_common(args.top):
        print(f"{seconds:8.2f}  {node}")
    print("the dearest statements:")
    for seconds, node, status in sorted(found, reverse=True)[: args.top]:
        print(f"{seconds:8.2f}  {node.rsplit('.', 1)[-1]:45s} {status}")


if __name__ == "__main__":
    main()
