{#- A source date 'yyyyMMddHHmmss' in local time (Asia/Ho_Chi_Minh) as timestamptz.
    Anything that is not a real date and time (wrong shape, 31 February, hour 25) gives null
    instead of failing the build; data-quality checks report such values. -#}
{% macro parse_local_timestamp(text_expr) -%}
    {%- set tz = var('local_timezone') -%}
    case
        when {{ text_expr }} ~ '^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])([01]\d|2[0-3])[0-5]\d[0-5]\d$'
            and substr({{ text_expr }}, 7, 2)::int <= extract(day from (
                make_date(substr({{ text_expr }}, 1, 4)::int, substr({{ text_expr }}, 5, 2)::int, 1)
                + interval '1 month' - interval '1 day'))
        then make_timestamp(
            substr({{ text_expr }}, 1, 4)::int,
            substr({{ text_expr }}, 5, 2)::int,
            substr({{ text_expr }}, 7, 2)::int,
            substr({{ text_expr }}, 9, 2)::int,
            substr({{ text_expr }}, 11, 2)::int,
            substr({{ text_expr }}, 13, 2)::int
        ) at time zone '{{ tz }}'
    end
{%- endmacro %}
