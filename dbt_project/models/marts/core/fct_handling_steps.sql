{#- Bước xử lý hồ sơ (QuaTrinhXuLy) — one row per handling step of each dossier, with its own
    deadline (NgayKetThucTheoQuyDinh) and whether it overran it. Lateness is attributed to
    the step and department that caused it: among the overrunning steps of a dossier that
    ended late, the one with the largest overrun (the first on a tie) is the cause. Who
    handled the step is not here (docs/personal-data.md): the officer-level view is
    restricted.officer_handling_steps. Incremental like fct_dossiers: the steps of the
    rebuilt dossiers are deleted (pre-hook) and inserted again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_rows(dossier_rebuild_sources(), 'dossier_code') }}",
        post_hook="{{ save_dossier_watermarks() }}",
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'step_number'], 'unique': true},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set rebuilt = rebuild_filter(rebuild_keys(dossier_rebuild_sources()), 'dossier_code') %}

with

steps as (

    select * from {{ ref('stg_onestop__handling_steps') }}
    where {{ rebuilt }}

),

dossiers as (

    select
        province_code,
        dossier_code,
        is_ended
            and not coalesce(ended_at <= due_at and supplement_request_count <= 1, false)
            as is_ended_late,
        updated_at
    from {{ ref('int_dossiers_lifecycle') }}
    where {{ rebuilt }}

),

measured as (

    select
        steps.*,
        coalesce(dossiers.is_ended_late, false) as is_dossier_late,
        coalesce(steps.handled_at > steps.step_due_at, false) as is_step_late,
        greatest(steps.handled_at - steps.step_due_at, interval '0') as overrun,
        -- scalar look-ups (dim_date's primary key) rather than joins: the row estimates of
        -- the unnested steps are too poor for the planner to choose join methods well
        greatest(
            (
                select working_days.working_day_number from {{ ref('dim_date') }} as working_days
                where working_days.date_day = (steps.handled_at at time zone '{{ tz }}')::date
            )
            - (
                select working_days.working_day_number from {{ ref('dim_date') }} as working_days
                where working_days.date_day = (steps.step_due_at at time zone '{{ tz }}')::date
            ),
            0
        ) as overrun_working_days
    from steps
    inner join dossiers
        on steps.province_code = dossiers.province_code
        and steps.dossier_code = dossiers.dossier_code

),

ranked as (

    select
        *,
        row_number() over (
            partition by province_code, dossier_code
            order by is_step_late desc, overrun desc nulls last, step_number
        ) as overrun_rank
    from measured

),

final as (

    select
        province_code,
        dossier_code,
        step_number,
        agency_code,
        department_name,
        action,
        step_status,
        started_at,
        step_due_at,
        handled_at,
        is_step_late,
        overrun,
        overrun_working_days,
        is_dossier_late,
        is_dossier_late and is_step_late and overrun_rank = 1 as is_lateness_cause,
        dossier_updated_at
    from ranked

)

select * from final
