"""Superset's configuration for the CCHC dashboards (embedded default and compose `bi` profile).

Superset loads this file through SUPERSET_CONFIG_PATH; every value that differs between
deployments or is secret comes from the environment (`cchc.bi.superset.superset_env`).
"""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["CCHC_SUPERSET_METADATA_URL"]

# Nothing reaches outside hosts. The menu of Superset's prebuilt UI draws a usage pixel from
# an outside host whatever SCARF_ANALYTICS says, so the browser is told by the
# Content-Security-Policy to load nothing from anywhere but this server: no pixel, no
# web fonts, no map tiles.
SCARF_ANALYTICS = False
MAPBOX_API_KEY = ""
THEME_FONT_URL_ALLOWED_DOMAINS = []
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    # Served on loopback over plain HTTP; a TLS proxy in front sets these for real hosts.
    "force_https": False,
    "session_cookie_secure": False,
}
DEFAULT_FEATURE_FLAGS = {}
FEATURE_FLAGS = {"DASHBOARD_RBAC": False, "ENABLE_TEMPLATE_PROCESSING": False}

# The office reads Vietnamese.
BABEL_DEFAULT_LOCALE = "vi"
LANGUAGES = {"vi": {"flag": "vn", "name": "Tiếng Việt"}, "en": {"flag": "us", "name": "English"}}

# One small instance: Superset's default caches (no cache server), no async query workers.
# Rate limiting would need a store; the UI listens on loopback only.
RATELIMIT_ENABLED = False
RATELIMIT_STORAGE_URI = "memory://"
WTF_CSRF_ENABLED = True
# SQL Lab may only read (the BI login is read-only anyway).
PREVENT_UNSAFE_DB_CONNECTIONS = True
