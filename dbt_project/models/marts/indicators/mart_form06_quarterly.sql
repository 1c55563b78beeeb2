{#- Form 06/VPCP/KSTT (Circular 01/2020/TT-VPCP): dossiers per field × level × agency ×
    quarter, for calendar quarters and for the legal reporting quarter (15th of the month
    before the quarter to the 14th of its last month). Rule in _indicators__models.yml. -#}
{%- set tz = var('local_timezone') -%}

with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}
    where received_at is not null

),

agencies as (

    select agency_code, agency_name from {{ ref('dim_agencies') }}

),

data_range as (

    select
        min(received_date) as first_day,
        (max(updated_at) at time zone '{{ tz }}')::date as last_day,
        max(updated_at) as data_as_of
    from {{ ref('int_dossiers_lifecycle') }}

),

calendar_quarters as (

    select
        'calendar' as period_kind,
        quarter_start::date as period_start,
        (quarter_start + interval '3 months' - interval '1 day')::date as period_end,
        extract(year from quarter_start)::int as period_year,
        extract(quarter from quarter_start)::int as period_quarter
    from data_range
    cross join lateral generate_series(
        date_trunc('quarter', first_day::timestamp),
        date_trunc('quarter', last_day::timestamp),
        interval '3 months'
    ) as quarter_start

),

legal_quarters as (

    -- a day from the 15th on belongs to the reporting month after it: legal Q1 2024 runs
    -- 2023-12-15 … 2024-03-14
    select
        'legal' as period_kind,
        (quarter_start - interval '1 month' + interval '14 days')::date as period_start,
        (quarter_start + interval '2 months' + interval '13 days')::date as period_end,
        extract(year from quarter_start)::int as period_year,
        extract(quarter from quarter_start)::int as period_quarter
    from data_range
    cross join lateral generate_series(
        date_trunc('quarter', (first_day + interval '1 month' - interval '14 days')),
        date_trunc('quarter', (last_day + interval '1 month' - interval '14 days')),
        interval '3 months'
    ) as quarter_start

),

periods as (

    select
        all_periods.*,
        all_periods.period_year || 'Q' || all_periods.period_quarter as period_label,
        -- open dossiers are judged at the end of the period, or at "as of" while it runs
        least(
            (all_periods.period_end + 1)::timestamp at time zone '{{ tz }}', data_range.data_as_of
        ) as judged_at
    from (
        select * from calendar_quarters
        union all
        select * from legal_quarters
    ) as all_periods
    cross join data_range

),

dossiers_in_scope as (

    select
        dossiers.dossier_code,
        dossiers.field_code,
        dossiers.field_name,
        dossiers.level_code,
        dossiers.agency_code,
        periods.period_kind,
        periods.period_label,
        periods.period_start,
        periods.period_end,
        dossiers.received_date < periods.period_start as is_carried_over,
        dossiers.received_date >= periods.period_start as is_received_in_period,
        dossiers.channel_code,
        coalesce(dossiers.ended_date <= periods.period_end, false) as is_resolved_in_period,
        dossiers.ended_date,
        dossiers.due_date,
        dossiers.due_at,
        periods.judged_at
    from dossiers
    inner join periods
        on dossiers.received_date <= periods.period_end
        and (dossiers.ended_date is null or dossiers.ended_date >= periods.period_start)

),

classified as (

    select
        *,
        is_resolved_in_period and ended_date < due_date as is_resolved_before_deadline,
        is_resolved_in_period and ended_date = due_date as is_resolved_on_deadline,
        is_resolved_in_period and not coalesce(ended_date <= due_date, false) as is_resolved_late,
        not is_resolved_in_period and coalesce(due_at >= judged_at, false) as is_open_within_deadline,
        not is_resolved_in_period and not coalesce(due_at >= judged_at, false) as is_open_overdue
    from dossiers_in_scope

),

counted as (

    select
        period_kind,
        period_label,
        period_start,
        period_end,
        field_code,
        max(field_name) as field_name,
        level_code,
        agency_code,
        count(*)::int as received_total,
        count(*) filter (where is_received_in_period and channel_code = 2)::int as received_online,
        count(*) filter (where is_received_in_period and channel_code in (1, 3))::int
            as received_direct_or_postal,
        count(*) filter (where is_carried_over)::int as received_carried_over,
        count(*) filter (where is_resolved_in_period)::int as resolved_total,
        count(*) filter (where is_resolved_before_deadline)::int as resolved_before_deadline,
        count(*) filter (where is_resolved_on_deadline)::int as resolved_on_deadline,
        count(*) filter (where is_resolved_late)::int as resolved_late,
        count(*) filter (where not is_resolved_in_period)::int as in_progress_total,
        count(*) filter (where is_open_within_deadline)::int as in_progress_within_deadline,
        count(*) filter (where is_open_overdue)::int as in_progress_overdue
    from classified
    group by period_kind, period_label, period_start, period_end, field_code, level_code, agency_code

),

final as (

    select
        counted.period_kind,
        counted.period_label,
        counted.period_start,
        counted.period_end,
        counted.field_code,
        counted.field_name,
        counted.level_code,
        counted.agency_code,
        agencies.agency_name,
        counted.received_total,
        counted.received_online,
        counted.received_direct_or_postal,
        counted.received_carried_over,
        counted.resolved_total,
        counted.resolved_before_deadline,
        counted.resolved_on_deadline,
        counted.resolved_late,
        counted.in_progress_total,
        counted.in_progress_within_deadline,
        counted.in_progress_overdue
    from counted
    left join agencies on counted.agency_code = agencies.agency_code

)

select * from final
