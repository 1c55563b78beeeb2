{#- The early-warning model replayed over past nights, for `cchc warn score`: one row per
    night × dossier open at its end, each night judged only from what was recorded by then,
    the model trained once on the history known on the first night (as that night's mart
    was). Built only when the command asks for it (vars warning_replay_from /
    warning_replay_to), never nightly. -#}
{{
    config(
        materialized='table',
        enabled=var('warning_replay_from', none) is not none,
        pre_hook="{{ warning_planner_settings() }}",
    )
}}
{%- set first_night = var('warning_replay_from', '2000-01-01') %}
{%- set last_night = var('warning_replay_to', '2000-01-01') %}
{%- set nights_sql -%}
    select provinces.province_code, night::date as as_of_date
    from (select distinct province_code from {{ ref('fct_dossiers') }}) as provinces
    cross join generate_series('{{ first_night }}'::date, '{{ last_night }}'::date, interval '1 day') as night
{%- endset %}
{%- set training_sql -%}
    -- what the nightly mart knew on the first night: a one-night replay is that night's mart
    select distinct province_code, '{{ first_night }}'::date as trained_through
    from {{ ref('fct_dossiers') }}
{%- endset %}

with

{{ warning_rows(nights_sql, training_sql) }}

select
    as_of_date,
    province_code,
    dossier_code,
    due_date,
    due_date_then,
    working_days_left,
    is_waiting_supplement,
    group_level,
    coalesce(risk_probability, 0) as risk_probability,
    -- what the model read, to look at its misses and false alarms
    state,
    elapsed_working_days,
    allowed_working_days,
    agency_code,
    procedure_code,
    holding_agency_code
from judged
