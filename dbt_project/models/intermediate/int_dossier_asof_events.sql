{#- The moments at which a received dossier's judgement at the data's as-of can flip while
    the dossier itself does not change, one row per moment: the models judged at the as-of
    (macro open_dossier_events) rebuild an unchanged open dossier only on the night the as-of
    crosses one of them, found through the index on (province, kind, moment) among the
    night's few, not by computing every open dossier's events every night.

    kind 'periods_judged' (int_dossier_periods_judged, the 766 rule in working days): the
    working day after the deadline, the supplement's request and resubmission days, and the
    deadline pushed back by a resubmitted supplement's waiting days; kind 'appointment'
    (int_dossier_form06_quarters, int_dossier_months_judged): the appointment passing. The
    start of a new period is every open dossier's event at once: open_dossier_events finds it
    from the as-of alone.

    Each moment is an `event_at` such that rows judged at an as-of T depend only on whether
    T >= event_at. Kept only after the dossier's latest update and not after its end: a
    build that reads this version of the dossier rebuilds it as changed, and every later
    one judges at an as-of at or after that update (the data's time it saved), so an earlier
    event is never read; one after the end no longer moves the ended rows. So the table holds
    the open backlog's coming events, not the history's.

    Incremental: the dossiers changed since the run before are deleted and inserted again; a
    change of the province's procedure catalogue (the deadlines) rebuilds the whole province. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_rows(dossier_rebuild_sources(catalogue=true), 'dossier_code') }}",
        post_hook="{{ save_dossier_watermarks(catalogue=true) }}",
        indexes=[
            {'columns': ['province_code', 'event_kind', 'event_at']},
            {'columns': ['province_code', 'dossier_code']},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set rebuilt = rebuilt_dossiers(catalogue=true) %}

with

deadlines as (

    select province_code, dossier_code, due_at, deadline_date
    from {{ ref('int_dossier_deadlines') }}
    where {{ rebuilt }}

),

staged as (

    select province_code, dossier_code, updated_at, {{ dossier_open_until('staged') }} as open_until
    from {{ ref('stg_onestop__dossiers') }} as staged
    where {{ rebuilt }}

),

dossiers as (

    select deadlines.*, staged.updated_at, staged.open_until
    from deadlines
    inner join staged
        on deadlines.province_code = staged.province_code
        and deadlines.dossier_code = staged.dossier_code

),

supplements as (

    select province_code, dossier_code, requested_at, resubmitted_at
    from {{ ref('stg_onestop__dossier_supplements') }}
    where requested_at is not null and {{ rebuilt }}

),

calendar as not materialized (

    select date_day, is_working_day, working_day_number from {{ ref('dim_date') }}

),

working_day_events as (

    -- the 766 rule's: the net working days grow with the judged day between these (a
    -- waiting supplement holds them still), so "open on time" flips only at one of them
    select dossiers.province_code, dossiers.dossier_code, event.event_at
    from dossiers
    left join calendar as deadline_day on dossiers.deadline_date = deadline_day.date_day
    left join calendar as overdue_day
        on overdue_day.working_day_number = deadline_day.working_day_number + 1
        and overdue_day.is_working_day
    left join supplements
        on dossiers.province_code = supplements.province_code
        and dossiers.dossier_code = supplements.dossier_code
    left join calendar as requested_day
        on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    left join calendar as resubmitted_day
        on (supplements.resubmitted_at at time zone '{{ tz }}')::date = resubmitted_day.date_day
    left join calendar as pushed_overdue_day
        on pushed_overdue_day.working_day_number = deadline_day.working_day_number + 1
            + resubmitted_day.working_day_number - requested_day.working_day_number
        and pushed_overdue_day.is_working_day
    cross join lateral (
        values
            ({{ judged_day_reaches('overdue_day.date_day') }}),
            ({{ judged_day_reaches('requested_day.date_day') }}),
            ({{ judged_day_reaches('resubmitted_day.date_day') }}),
            ({{ judged_day_reaches('pushed_overdue_day.date_day') }})
    ) as event (event_at)

),

events as (

    select province_code, dossier_code, 'periods_judged' as event_kind, event_at
    from working_day_events

    union all

    -- "within the deadline" is due_at >= the as-of
    select province_code, dossier_code, 'appointment', due_at + interval '1 microsecond'
    from dossiers

)

select distinct events.province_code, events.dossier_code, events.event_kind, events.event_at
from events
inner join dossiers
    on events.province_code = dossiers.province_code
    and events.dossier_code = dossiers.dossier_code
where events.event_at > dossiers.updated_at
    and events.event_at <= dossiers.open_until
