"""Running the project's DAGs with a local Airflow (embedded mode)."""
