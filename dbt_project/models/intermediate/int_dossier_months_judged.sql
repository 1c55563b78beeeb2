{{ config(materialized='table') }}
{#- One row per dossier and calendar month in which it is in scope of the Decision 766
    progress indicator, judged on time or late for that month (rule in _intermediate.yml). -#}
{%- set tz = var('local_timezone') -%}

with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}

),

data_months as (

    -- from the month of the first received dossier to the month of the latest data;
    -- the latest change seen is how far the data reaches ("as of")
    select
        date_trunc('month', min(received_at at time zone '{{ tz }}'))::date as first_month,
        date_trunc('month', max(updated_at at time zone '{{ tz }}'))::date as last_month,
        max(updated_at) as data_as_of
    from dossiers

),

months as (

    select
        month_start::date as month_start,
        month_start::timestamp at time zone '{{ tz }}' as month_start_at,
        (month_start + interval '1 month')::timestamp at time zone '{{ tz }}' as next_month_start_at,
        -- an open dossier is judged at the end of the month, or at "as of" for the current month
        least(
            (month_start + interval '1 month')::timestamp at time zone '{{ tz }}', data_as_of
        ) as judged_at
    from data_months
    cross join lateral generate_series(
        first_month::timestamp, last_month::timestamp, interval '1 month'
    ) as month_start

),

dossiers_in_scope as (

    select
        dossiers.dossier_code,
        dossiers.agency_code,
        months.month_start,
        months.month_start_at,
        months.next_month_start_at,
        months.judged_at,
        dossiers.received_at,
        dossiers.due_at,
        dossiers.ended_at,
        dossiers.supplement_request_count
    from dossiers
    inner join months
        on dossiers.received_at < months.next_month_start_at
        and (dossiers.ended_at is null or dossiers.ended_at >= months.month_start_at)
    where dossiers.received_at is not null

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
