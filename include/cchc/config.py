"""Settings read from the environment, the same variables in the embedded mode and in compose.

Nothing here touches the network or the database: importing it is free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_TZ = "Asia/Ho_Chi_Minh"
SOURCES = ("onestop", "portal", "ioffice")


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

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pg"


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
    return Settings(
        data_dir=data_dir,
        export_dir=Path(_env("CCHC_EXPORT_DIR", str(REPO_ROOT / "exports"))).resolve(),
        province_code=_env("CCHC_PROVINCE_CODE", "H40"),
        province_name=_env("CCHC_PROVINCE_NAME", "tỉnh Nghệ An"),
        warehouse_url=warehouse_url,
        embedded_port=int(_env("CCHC_PG_PORT_EMBEDDED", "54329")),
        sim_host=sim_host,
        sim_port=sim_port,
        sim_token=sim_token,
        extract_overlap_minutes=int(_env("CCHC_EXTRACT_OVERLAP_MINUTES", "60")),
        page_size=int(_env("CCHC_PAGE_SIZE", "500")),
        source_urls=source_urls,
    )
