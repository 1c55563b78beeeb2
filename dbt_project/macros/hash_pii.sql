{#- Salted SHA-256 (hex) of a personal identifier, so records can be matched without exposing
    the value. The salt comes from CCHC_PII_SALT; keep it secret and stable (changing it
    changes every hash). Blank values hash to null. -#}
{% macro hash_pii(text_expr) -%}
    case
        when nullif(trim({{ text_expr }}), '') is not null
        then encode(
            sha256(convert_to({{ "'" ~ env_var('CCHC_PII_SALT', 'dev-salt') | replace("'", "''") ~ "'" }} || trim({{ text_expr }}), 'UTF8')),
            'hex'
        )
    end
{%- endmacro %}
