{#- Integer from a JSON text value; null when it is not an integer. -#}
{% macro safe_int(text_expr) -%}
    case when trim({{ text_expr }}) ~ '^-?\d{1,9}$' then trim({{ text_expr }})::int end
{%- endmacro %}

{#- Boolean from a JSON text value (true/false/1/0); null otherwise. -#}
{% macro safe_bool(text_expr) -%}
    case
        when lower(trim({{ text_expr }})) in ('true', '1') then true
        when lower(trim({{ text_expr }})) in ('false', '0') then false
    end
{%- endmacro %}

{#- Number of elements of a JSON array; 0 when missing, null or not an array. -#}
{% macro json_array_count(json_expr) -%}
    case when jsonb_typeof({{ json_expr }}) = 'array' then jsonb_array_length({{ json_expr }}) else 0 end
{%- endmacro %}

{#- A JSON list to unpack with jsonb_array_elements: the list, or an empty one when the source
    sent something else (null, an object), so one bad record never fails the whole view. -#}
{% macro json_array_or_empty(json_expr) -%}
    case when jsonb_typeof({{ json_expr }}) = 'array' then {{ json_expr }} else '[]'::jsonb end
{%- endmacro %}

{#- Numeric from a JSON value (jsonb): the number, or a numeric string; null otherwise. -#}
{% macro json_number(json_expr) -%}
    case
        when jsonb_typeof({{ json_expr }}) = 'number' then ({{ json_expr }})::text::numeric
        when jsonb_typeof({{ json_expr }}) = 'string'
            and ({{ json_expr }} #>> '{}') ~ '^-?\d{1,15}(\.\d+)?$'
        then ({{ json_expr }} #>> '{}')::numeric
    end
{%- endmacro %}
