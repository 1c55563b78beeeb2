"""The weekly digest per agency: dossiers at risk, apology letters due, data-entry flags to
correct before the month closes, and the agency's Decision 766 components against the
province's thresholds; written as an HTML e-mail and an XLSX, sent by SMTP when configured,
and threshold alerts when a component falls below a threshold.

`cchc.digest.run` holds the steps the DAG `cchc_weekly_digest` calls.
"""
