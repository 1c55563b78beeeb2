{{ config(materialized='table') }}
{#- One row per dossier and calendar period (month, quarter, year) in which it is in scope of
    the Decision 766 progress indicator, judged with the refined rule: working days, supplement
    waiting time subtracted (rule in _intermediate.yml). -#}
{%- set tz = var('local_timezone') -%}

with

dossiers as (

    select * from {{ ref('int_dossier_deadlines') }}

),

supplements as (

    select * from {{ ref('stg_onestop__dossier_supplements') }}
    where requested_at is not null

),

calendar as (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

data_range as (

    select
        min(received_at at time zone '{{ tz }}')::date as first_day,
        (max(updated_at) at time zone '{{ tz }}')::date as last_day,
        max(updated_at) as data_as_of
    from {{ ref('int_dossiers_lifecycle') }}

),

periods as (

    {%- set steps = {'month': '1 month', 'quarter': '3 months', 'year': '1 year'} %}
    {%- for grain, step in steps.items() %}
    select
        '{{ grain }}' as period_grain,
        period_start::date as period_start,
        (period_start + interval '{{ step }}' - interval '1 day')::date as period_end,
        period_start::timestamp at time zone '{{ tz }}' as period_start_at,
        (period_start + interval '{{ step }}')::timestamp at time zone '{{ tz }}' as next_period_start_at,
        least(
            (period_start + interval '{{ step }}')::timestamp at time zone '{{ tz }}', data_as_of
        ) as judged_at
    from data_range
    cross join lateral generate_series(
        date_trunc('{{ grain }}', first_day::timestamp),
        date_trunc('{{ grain }}', last_day::timestamp),
        interval '{{ step }}'
    ) as period_start
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

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
        on dossiers.received_at < periods.next_period_start_at
        and (dossiers.ended_at is null or dossiers.ended_at >= periods.period_start_at)

),

open_supplement_waits as (

    -- supplement waiting working days up to the judged day, for dossiers open at period end
    select
        scoped.dossier_code,
        scoped.period_grain,
        scoped.period_start,
        sum(resumed_day.working_day_number - requested_day.working_day_number)::int
            as supplement_wait_working_days
    from dossiers_in_scope as scoped
    inner join supplements
        on scoped.dossier_code = supplements.dossier_code
        and (supplements.requested_at at time zone '{{ tz }}')::date <= scoped.judged_date
    inner join calendar as requested_day
        on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    inner join calendar as resumed_day
        on least(
            coalesce((supplements.resubmitted_at at time zone '{{ tz }}')::date, scoped.judged_date),
            scoped.judged_date
        ) = resumed_day.date_day
    where not scoped.is_ended_in_period
    group by scoped.dossier_code, scoped.period_grain, scoped.period_start

),

judged as (

    select
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
        on scoped.dossier_code = open_supplement_waits.dossier_code
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
