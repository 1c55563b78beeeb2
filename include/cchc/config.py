"""Settings read from the environment, the same variables in the embedded mode and in compose.

Nothing here touches the network or the database: importing it is free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_TZ = "Asia/Ho_Chi_Minh"
SOURCES = ("onestop", "portal", "ioffice")
# Report titles of the provinces we know; any other is named by CCHC_PROVINCE_NAME[_<CODE>].
PROVINCE_NAMES = {"H40": "tỉnh Nghệ An", "H45": "tỉnh Quảng Trị"}
# How the nightly DAG runs dbt: one task for the whole build, or one task per model (cosmos).
DBT_TASK_MODES = ("single", "per_model")
# The embedded warehouse: `durable` (fsync on, the default) survives an OS crash or power
# loss; `fast` (fsync off) is for throw-away test warehouses only.
PG_DURABILITY_MODES = ("durable", "fast")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class PgParams:
    """Connection parameters split the way dbt profiles and libpq want them."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> PgParams:
        parts = urlsplit(url)
        if parts.scheme not in (
            "postgres",
            "postgresql",
            "postgresql+psycopg",
            "postgresql+psycopg2",
        ):
            raise ValueError(
                f"warehouse URL must be a postgresql:// URL, got scheme {parts.scheme!r}"
            )
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        )

    def url(self, driver: str = "postgresql") -> str:
        from urllib.parse import quote

        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"{driver}://{auth}@{self.host}:{self.port}/{self.dbname}"

    def display_url(self) -> str:
        """The URL without its password: for messages and logs."""
        return PgParams(self.host, self.port, self.user, "", self.dbname).url()

    def libpq_env(self) -> dict[str, str]:
        """Environment for dbt's profile and for psql."""
        return {
            "CCHC_PG_HOST": self.host,
            "CCHC_PG_PORT": str(self.port),
            "CCHC_PG_USER": self.user,
            "CCHC_PG_PASSWORD": self.password,
            "CCHC_PG_DBNAME": self.dbname,
        }


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    export_dir: Path
    province_code: str
    province_name: str  # as it appears in report titles, e.g. "tỉnh Nghệ An"
    warehouse_url: str | None  # None: the embedded server is used
    embedded_port: int
    sim_host: str
    sim_port: int
    sim_token: str
    extract_overlap_minutes: int
    page_size: int
    source_urls: dict[str, str] = field(default_factory=dict)
    # Every province this deployment loads into the warehouse; the first is `province_code`.
    provinces: tuple[str, ...] = ()
    dbt_tasks: str = "single"  # one of DBT_TASK_MODES
    # A night that finds an entity covered only until before its interval catches up in
    # windows of at most this many hours, each its own batch.
    extract_chunk_hours: int = 24
    # Entities extracted at once by a night run outside Airflow and by the initial load, each
    # on its own connections: one entity's pages arrive while another's batch is published.
    extract_workers: int = 2
    pg_durability: str = "durable"  # one of PG_DURABILITY_MODES (embedded server only)

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"

    @property
    def province_export_dir(self) -> Path:
        """Where this province's files go: provinces sharing a deployment never overwrite each
        other's exports."""
        return self.export_dir / self.province_code

    def for_province(self, code: str) -> Settings:
        """These settings for another province of the deployment: its name and the source
        connections the environment gives it (`AIRFLOW_CONN_CCHC_<CODE>_<SOURCE>`; the first
        province's are `AIRFLOW_CONN_CCHC_<SOURCE>`). Inside Airflow the connections may live
        in its metadata database or a secrets backend instead: tasks look them up there."""
        if code == self.province_code:
            return self
        if code not in self.provinces:
            raise ValueError(
                f"province {code} is not in CCHC_PROVINCES ({', '.join(self.provinces)})"
            )
        urls = {s: _env(f"AIRFLOW_CONN_{connection_id(code, s).upper()}") for s in SOURCES}
        return replace(
            self,
            province_code=code,
            province_name=_province_name(code),
            source_urls={s: url for s, url in urls.items() if url},
        )


def connection_id(province: str, source: str, primary: str | None = None) -> str:
    """The Airflow connection of a province's source: `cchc_onestop` for the deployment's first
    province, `cchc_h45_onestop` for the others."""
    primary = primary or _env("CCHC_PROVINCE_CODE", "H40")
    return f"cchc_{source}" if province == primary else f"cchc_{province.lower()}_{source}"


def _province_name(code: str) -> str:
    return _env(f"CCHC_PROVINCE_NAME_{code}") or PROVINCE_NAMES.get(code, f"tỉnh {code}")


def load_settings() -> Settings:
    data_dir = Path(_env("CCHC_DATA_DIR", str(REPO_ROOT / ".data"))).resolve()
    warehouse_url = _env("CCHC_WAREHOUSE_URL") or _env("AIRFLOW_CONN_CCHC_WAREHOUSE")
    sim_host = _env("CCHC_SIM_HOST", "127.0.0.1")
    sim_port = int(_env("CCHC_SIM_PORT", "8780"))
    sim_token = _env("CCHC_SIM_TOKEN", "dev-token")
    # Airflow-style connection URIs: http://:TOKEN@host:port/prefix. In dev they point at the simulators.
    source_urls = {
        s: _env(f"AIRFLOW_CONN_CCHC_{s.upper()}", f"http://:{sim_token}@{sim_host}:{sim_port}/{s}")
        for s in SOURCES
    }
    province_code = _env("CCHC_PROVINCE_CODE", "H40")
    others = [p.strip() for p in (_env("CCHC_PROVINCES", "") or "").split(",") if p.strip()]
    dbt_tasks = _env("CCHC_DBT_TASKS", "single")
    if dbt_tasks not in DBT_TASK_MODES:
        raise ValueError(
            f"CCHC_DBT_TASKS must be one of {', '.join(DBT_TASK_MODES)}, got {dbt_tasks!r}"
        )
    pg_durability = _env("CCHC_PG_DURABILITY", "durable")
    if pg_durability not in PG_DURABILITY_MODES:
        raise ValueError(
            f"CCHC_PG_DURABILITY must be one of {', '.join(PG_DURABILITY_MODES)}, "
            f"got {pg_durability!r}"
        )
    return Settings(
        data_dir=data_dir,
        export_dir=Path(_env("CCHC_EXPORT_DIR", str(REPO_ROOT / "exports"))).resolve(),
        province_code=province_code,
        province_name=_env("CCHC_PROVINCE_NAME") or _province_name(province_code),
        warehouse_url=warehouse_url,
        embedded_port=int(_env("CCHC_PG_PORT_EMBEDDED", "54329")),
        sim_host=sim_host,
        sim_port=sim_port,
        sim_token=sim_token,
        extract_overlap_minutes=int(_env("CCHC_EXTRACT_OVERLAP_MINUTES", "60")),
        page_size=int(_env("CCHC_PAGE_SIZE", "500")),
        source_urls=source_urls,
        provinces=tuple(dict.fromkeys([province_code, *others])),
        dbt_tasks=dbt_tasks,
        extract_chunk_hours=int(_env("CCHC_EXTRACT_CHUNK_HOURS", "24")),
        extract_workers=max(1, int(_env("CCHC_EXTRACT_WORKERS", "2"))),
        pg_durability=pg_durability,
    )
