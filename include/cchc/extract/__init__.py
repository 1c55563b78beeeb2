"""Extraction: pull pages from the source systems and stream them into the raw layer."""
