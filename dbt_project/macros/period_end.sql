{#- The last day of a calendar period (month, quarter or year) that starts on `start`. -#}
{% macro period_end(grain, start) -%}
(
    {{ start }}
    + case {{ grain }}
        when 'month' then interval '1 month'
        when 'quarter' then interval '3 months'
        else interval '1 year'
    end
    - interval '1 day'
)::date
{%- endmacro %}
