{#- One row per dossier and calendar month in which it is in scope of the Decision 766
    progress indicator, judged on time or late for that month (rule in _intermediate.yml).
    A dossier's months run from its receipt to its end, or to the month of its province's
    latest data ("as of") while open. Incremental: the dossiers changed since the run before,
    and the open ones whose judgement the as-of's move can change (a new month, the
    appointment passed: open_dossier_events), are deleted and inserted again; the months whose rows
    changed are logged for mart_dossier_progress_monthly (macro log_changed_periods). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(rebuilt_dossiers(open='months_judged'), periods_by_month('month_start')) }}",
            "{{ delete_rebuilt_rows(dossier_rebuild_sources(open='months_judged'), 'dossier_code') }}",
        ],
        post_hook=[
            "{{ log_changed_periods(rebuilt_dossiers(open='months_judged'), periods_by_month('month_start')) }}",
            "{{ save_dossier_watermarks() }}",
        ],
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'month_start'], 'unique': true},
            {'columns': ['province_code', 'month_start']},
        ],
    )
}}
{%- set tz = var('local_timezone') %}

with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}
    where received_at is not null
        and {{ rebuilt_dossiers(open='months_judged') }}

),

data_as_of as (

    -- the latest change seen is how far each province's data reaches ("as of")
    select
        province_code,
        latest as data_as_of,
        date_trunc('month', latest at time zone '{{ tz }}') as last_month
    from {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as latest

),

dossiers_in_scope as (

    -- in scope in a month: received before its end, not ended before its start
    select
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.agency_code,
        month_start::date as month_start,
        month_start::timestamp at time zone '{{ tz }}' as month_start_at,
        (month_start + interval '1 month')::timestamp at time zone '{{ tz }}' as next_month_start_at,
        -- an open dossier is judged at the end of the month, or at "as of" for the current month
        least(
            (month_start + interval '1 month')::timestamp at time zone '{{ tz }}',
            data_as_of.data_as_of
        ) as judged_at,
        dossiers.received_at,
        dossiers.due_at,
        dossiers.ended_at,
        dossiers.supplement_request_count
    from dossiers
    inner join data_as_of on dossiers.province_code = data_as_of.province_code
    cross join lateral generate_series(
        date_trunc('month', dossiers.received_at at time zone '{{ tz }}'),
        least(
            coalesce(date_trunc('month', dossiers.ended_at at time zone '{{ tz }}'), 'infinity'),
            data_as_of.last_month
        ),
        interval '1 month'
    ) as month_start

),

ended_flagged as (

    select
        *,
        received_at >= month_start_at as is_received_in_month,
        coalesce(ended_at < next_month_start_at, false) as is_ended_in_month,
        coalesce(supplement_request_count, 0) <= 1 as has_at_most_one_supplement
    from dossiers_in_scope

),

judged as (

    select
        province_code,
        dossier_code,
        agency_code,
        month_start,
        is_received_in_month,
        is_ended_in_month,
        is_ended_in_month
            and coalesce(ended_at <= due_at, false)
            and has_at_most_one_supplement
            as is_ended_on_time,
        is_ended_in_month
            and not (coalesce(ended_at <= due_at, false) and has_at_most_one_supplement)
            as is_ended_late,
        not is_ended_in_month
            and coalesce(due_at >= judged_at, false)
            and has_at_most_one_supplement
            as is_open_on_time,
        not is_ended_in_month
            and not (coalesce(due_at >= judged_at, false) and has_at_most_one_supplement)
            as is_open_overdue
    from ended_flagged

)

select * from judged
