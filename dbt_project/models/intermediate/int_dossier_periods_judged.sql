{#- One row per dossier and calendar period (month, quarter, year) in which it is in scope of
    the Decision 766 progress indicator, judged with the refined rule: working days, supplement
    waiting time subtracted (rule in _intermediate.yml). A dossier's periods run from its
    receipt to its end, or to the period of its province's latest data ("as of") while open.
    Incremental: the dossiers changed since the run before, and the open ones whose
    judgement the as-of's move can change (a new month, the working day after the deadline,
    a supplement's days: open_dossier_events), are deleted and inserted again; a change of
    the province's procedure catalogue rebuilds the whole province. Logs the periods whose rows changed for
    the period marts (macro log_changed_periods). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(rebuilt_dossiers(open='periods_judged', catalogue=true), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ delete_rebuilt_rows(dossier_rebuild_sources(open='periods_judged', catalogue=true), 'dossier_code') }}",
        ],
        post_hook=[
            "{{ log_changed_periods(rebuilt_dossiers(open='periods_judged', catalogue=true), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ save_dossier_watermarks(catalogue=true) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'period_grain', 'period_start'], 'unique': true},
            {'columns': ['province_code', 'period_grain', 'period_start']},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set rebuilt = rebuilt_dossiers(open='periods_judged', catalogue=true) %}
{%- set steps = {'month': '1 month', 'quarter': '3 months', 'year': '1 year'} %}

with

dossiers as (

    select * from {{ ref('int_dossier_deadlines') }}
    where {{ rebuilt }}

),

supplements as (

    select * from {{ ref('stg_onestop__dossier_supplements') }}
    where requested_at is not null and {{ rebuilt }}

),

calendar as not materialized (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

data_as_of as (

    -- the latest change seen is how far each province's data reaches ("as of")
    select
        province_code,
        latest as data_as_of,
        (latest at time zone '{{ tz }}')::date as last_day
    from {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as latest

),

grains (period_grain, period_step) as (

    values
    {%- for grain, step in steps.items() %}
        ('{{ grain }}', interval '{{ step }}'){{ "," if not loop.last }}
    {%- endfor %}

),

periods as (

    -- in scope in a period: received before its end, not ended before its start
    select
        dossiers.province_code,
        dossiers.dossier_code,
        grains.period_grain,
        period_start::date as period_start,
        (period_start + grains.period_step - interval '1 day')::date as period_end,
        period_start::timestamp at time zone '{{ tz }}' as period_start_at,
        (period_start + grains.period_step)::timestamp at time zone '{{ tz }}'
            as next_period_start_at,
        least(
            (period_start + grains.period_step)::timestamp at time zone '{{ tz }}',
            data_as_of.data_as_of
        ) as judged_at
    from dossiers
    inner join data_as_of on dossiers.province_code = data_as_of.province_code
    cross join grains
    cross join lateral generate_series(
        date_trunc(grains.period_grain, dossiers.received_at at time zone '{{ tz }}'),
        least(
            coalesce(
                date_trunc(grains.period_grain, dossiers.ended_at at time zone '{{ tz }}'),
                'infinity'
            ),
            date_trunc(grains.period_grain, data_as_of.last_day::timestamp)
        ),
        grains.period_step
    ) as period_start

),

dossiers_in_scope as (

    select
        dossiers.*,
        periods.period_grain,
        periods.period_start,
        periods.period_end,
        periods.judged_at,
        -- the last day the period judges an open dossier on
        ((periods.judged_at - interval '1 microsecond') at time zone '{{ tz }}')::date as judged_date,
        dossiers.received_at >= periods.period_start_at as is_received_in_period,
        coalesce(dossiers.ended_at < periods.next_period_start_at, false) as is_ended_in_period
    from dossiers
    inner join periods
        on dossiers.province_code = periods.province_code
        and dossiers.dossier_code = periods.dossier_code

),

open_supplement_waits as (

    -- supplement waiting working days up to the judged day, for dossiers open at period end
    select
        scoped.province_code,
        scoped.dossier_code,
        scoped.period_grain,
        scoped.period_start,
        sum(resumed_day.working_day_number - requested_day.working_day_number)::int
            as supplement_wait_working_days
    from dossiers_in_scope as scoped
    inner join supplements
        on scoped.province_code = supplements.province_code
        and scoped.dossier_code = supplements.dossier_code
        and (supplements.requested_at at time zone '{{ tz }}')::date <= scoped.judged_date
    inner join calendar as requested_day
        on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    inner join calendar as resumed_day
        on least(
            coalesce((supplements.resubmitted_at at time zone '{{ tz }}')::date, scoped.judged_date),
            scoped.judged_date
        ) = resumed_day.date_day
    where not scoped.is_ended_in_period
    group by scoped.province_code, scoped.dossier_code, scoped.period_grain, scoped.period_start

),

judged as (

    select
        scoped.province_code,
        scoped.dossier_code,
        scoped.agency_code,
        scoped.period_grain,
        scoped.period_start,
        scoped.period_end,
        scoped.is_received_in_period,
        scoped.is_ended_in_period,
        scoped.is_ended_in_period and scoped.is_ended_on_time_net as is_ended_on_time,
        scoped.is_ended_in_period and not scoped.is_ended_on_time_net as is_ended_late,
        not scoped.is_ended_in_period
            and coalesce(
                judged_day.working_day_number - received_day.working_day_number
                - coalesce(open_supplement_waits.supplement_wait_working_days, 0)
                <= scoped.allowed_working_days,
                false
            )
            and scoped.supplement_request_count <= 1
            as is_open_on_time
    from dossiers_in_scope as scoped
    left join open_supplement_waits
        on scoped.province_code = open_supplement_waits.province_code
        and scoped.dossier_code = open_supplement_waits.dossier_code
        and scoped.period_grain = open_supplement_waits.period_grain
        and scoped.period_start = open_supplement_waits.period_start
    left join calendar as judged_day on scoped.judged_date = judged_day.date_day
    left join calendar as received_day on scoped.received_date = received_day.date_day

),

final as (

    select
        *,
        not is_ended_in_period and not is_open_on_time as is_open_overdue
    from judged

)

select * from final
