"""Replays the early-warning model over past nights of the warehouse, set-wise in SQL.

One dbt run builds `int_warning_replay` (every night of the period × every dossier open at
its end, the model trained on the history before the first night); the outcomes are read
from the dossiers' latest state. No night is rebuilt one by one.
"""

from __future__ import annotations

import json
from datetime import date

from cchc.config import PgParams

from .score import Night, Outcome

REPLAY_MODEL = "int_warning_replay"

NIGHTS = f"""
select province_code, dossier_code, as_of_date, working_days_left, risk_probability,
    is_waiting_supplement
from intermediate.{REPLAY_MODEL}
order by as_of_date, province_code, dossier_code
"""

OUTCOMES = f"""
select d.province_code, d.dossier_code, d.due_date, d.ended_date, d.status_code = 7
from marts.fct_dossiers d
where exists (
    select 1 from intermediate.{REPLAY_MODEL} r
    where r.province_code = d.province_code and r.dossier_code = d.dossier_code
)
"""

DATA_END = """
select (max(updated_at) at time zone %s)::date from marts.fct_dossiers
"""


def build_replay(pg: PgParams, first: date, last: date, extra_vars: dict | None = None) -> None:
    from cchc.transform.dbt import run_dbt

    variables = {"warning_replay_from": first.isoformat(), "warning_replay_to": last.isoformat()}
    variables.update(extra_vars or {})
    run_dbt(["run", "--select", REPLAY_MODEL, "--vars", json.dumps(variables)], pg)


def read_replay(
    pg: PgParams, timezone: str = "Asia/Ho_Chi_Minh"
) -> tuple[list[Night], dict[tuple[str, str], Outcome], date]:
    import psycopg

    with psycopg.connect(pg.url()) as conn:
        nights = [
            Night((province, code), as_of, left, float(risk), bool(waiting))
            for province, code, as_of, left, risk, waiting in conn.execute(NIGHTS)
        ]
        outcomes = {
            (province, code): Outcome(due, ended, bool(withdrawn))
            for province, code, due, ended, withdrawn in conn.execute(OUTCOMES)
        }
        data_end = conn.execute(DATA_END, (timezone,)).fetchone()[0]
    return nights, outcomes, data_end
