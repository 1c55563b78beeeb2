"""The transformation layer: running the dbt project and generating its seeds."""
