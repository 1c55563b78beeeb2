{#- Salted SHA-256 (hex) of a personal identifier, so records can be matched without exposing
    the value; blank values hash to null. The hashing runs in the warehouse function
    cchc_private.pii_hash, which alone reads the salt: no view definition, compiled file or
    dbt log contains it. The function is created by the warehouse bootstrap
    (cchc.security.bootstrap_warehouse, `python -m cchc.security`), which must run before
    dbt. -#}
{% macro hash_pii(text_expr) -%}
    {%- if execute -%}
        {%- set found = run_query("select to_regprocedure('cchc_private.pii_hash(text)') is not null") -%}
        {%- if not found.columns[0].values()[0] -%}
            {{ exceptions.raise_compiler_error(
                "cchc_private.pii_hash(text) is missing: run the warehouse bootstrap "
                ~ "(python -m cchc.security) before dbt") }}
        {%- endif -%}
    {%- endif -%}
    cchc_private.pii_hash({{ text_expr }})
{%- endmacro %}
