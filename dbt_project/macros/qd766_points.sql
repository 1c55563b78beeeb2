{#- Decision 766 points of one component, from the component's rule (a row of the seed
    qd766_components, joined as `rule`) and its numerator and denominator. The same rule as
    cchc.qd766.rules.points in Python:
      no denominator (null or 0) -> points_when_no_denominator (null: not scored)
      otherwise -> round(least(max_points, max_points * ratio / full_score_ratio), 2),
                   ratio = numerator / denominator, never below 0. -#}
{% macro qd766_points(numerator, denominator, rule='rule') -%}
    case
        when coalesce({{ denominator }}, 0) = 0 then {{ rule }}.points_when_no_denominator
        else round(
            least(
                {{ rule }}.max_points,
                {{ rule }}.max_points
                * greatest(coalesce({{ numerator }}, 0), 0)::numeric / {{ denominator }}
                / {{ rule }}.full_score_ratio
            ),
            2
        )
    end
{%- endmacro %}

{#- The ratio numerator / denominator (0–1, 6 decimals); null without a denominator. -#}
{% macro qd766_ratio(numerator, denominator) -%}
    round(coalesce({{ numerator }}, 0)::numeric / nullif({{ denominator }}, 0), 6)
{%- endmacro %}
