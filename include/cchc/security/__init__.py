"""Access control and personal-data protection for the warehouse.

- :mod:`cchc.security.roles`: group and login roles, grants, and the salted hash function
  that staging calls (:func:`bootstrap_warehouse` runs all of it; safe to run every night).
- :mod:`cchc.security.retention`: removing personal data from old raw versions.
- :mod:`cchc.security.masking`: keeping source credentials out of task logs.
- :mod:`cchc.security.secret_store`: generated warehouse passwords, 0600 under the data folder.
- :mod:`cchc.security.retired_columns`: officer data earlier versions put in the marts.
- :mod:`cchc.security.scan`: clear-text personal data in a schema.

`python -m cchc.security` runs the bootstrap against the configured warehouse.
"""

from cchc.security.masking import mask_connection_secrets, redact
from cchc.security.retention import purge_raw
from cchc.security.roles import (
    BI_READER,
    LOADER,
    PRIVATE_SCHEMA,
    TRANSFORMER,
    bootstrap_roles,
    bootstrap_warehouse,
    rotate_pii_salt,
)

__all__ = [
    "BI_READER",
    "LOADER",
    "PRIVATE_SCHEMA",
    "TRANSFORMER",
    "bootstrap_roles",
    "bootstrap_warehouse",
    "mask_connection_secrets",
    "purge_raw",
    "redact",
    "rotate_pii_salt",
]
