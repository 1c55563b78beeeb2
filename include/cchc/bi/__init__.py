"""The BI tool: Apache Superset on the marts as the read-only `cchc_bi`, with the office's
dashboards provisioned from code kept in this package."""
