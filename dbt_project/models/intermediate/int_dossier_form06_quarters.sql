{#- One row per dossier and form 06 reporting quarter it is in (calendar quarters, and legal
    reporting quarters: the 15th of the month before the quarter to the 14th of its last
    month), classified by the form's rule (_form06__models.yml): carried over or received in
    the period, resolved before, on or after the appointment date, or in progress within the
    deadline or overdue at the period's end (or at the province's as-of while it runs). A
    dossier's quarters run from its receipt to its end, or to the as-of's quarter while open.
    Incremental: the dossiers changed since the run before, and the open ones whose
    classification the as-of's move can change (a new quarter, the appointment passed:
    open_dossier_events), are deleted and inserted again; logs the quarters whose rows changed for
    mart_form06_quarterly (period_grain 'quarter' for calendar, 'legal_quarter' for legal). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(rebuilt_dossiers(open='form06'), form06_periods()) }}",
            "{{ delete_rebuilt_rows(dossier_rebuild_sources(open='form06'), 'dossier_code') }}",
        ],
        post_hook=[
            "{{ log_changed_periods(rebuilt_dossiers(open='form06'), form06_periods()) }}",
            "{{ save_dossier_watermarks() }}",
        ],
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'period_kind', 'period_start'], 'unique': true},
            {'columns': ['province_code', 'period_kind', 'period_start']},
        ],
    )
}}
{%- set tz = var('local_timezone') %}

with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}
    where received_at is not null and {{ rebuilt_dossiers(open='form06') }}

),

data_as_of as (

    select
        province_code,
        latest as data_as_of,
        (latest at time zone '{{ tz }}')::date as last_day
    from {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as latest

),

quarters as (

    -- in a period: received on or before its last day, not ended before its first
    {%- for kind, grain in [('calendar', 'quarter'), ('legal', 'legal_quarter')] %}
    select
        dossiers.province_code,
        dossiers.dossier_code,
        '{{ kind }}' as period_kind,
        period_start::date as period_start
    from dossiers
    inner join data_as_of on dossiers.province_code = data_as_of.province_code
    cross join lateral generate_series(
        {{ period_containing(grain, 'dossiers.received_date') }},
        least(
            coalesce({{ period_containing(grain, 'dossiers.ended_date') }}, 'infinity'),
            {{ period_containing(grain, 'data_as_of.last_day') }}
        ),
        interval '3 months'
    ) as period_start
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

periods as (

    select
        quarters.*,
        -- the calendar quarter a period reports: itself, or the one a legal period ends in
        case quarters.period_kind
            when 'calendar' then quarters.period_start
            else (quarters.period_start + interval '1 month' - interval '14 days')::date
        end as reported_quarter
    from quarters

),

dossiers_in_scope as (

    select
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.field_code,
        dossiers.field_name,
        dossiers.level_code,
        dossiers.agency_code,
        periods.period_kind,
        extract(year from periods.reported_quarter) || 'Q'
            || extract(quarter from periods.reported_quarter) as period_label,
        periods.period_start,
        (periods.period_start + interval '3 months' - interval '1 day')::date as period_end,
        dossiers.received_date < periods.period_start as is_carried_over,
        dossiers.received_date >= periods.period_start as is_received_in_period,
        dossiers.channel_code,
        coalesce(
            dossiers.ended_date <= (periods.period_start + interval '3 months' - interval '1 day')::date,
            false
        ) as is_resolved_in_period,
        dossiers.ended_date,
        dossiers.due_date,
        dossiers.due_at,
        -- open dossiers are judged at the end of the period, or at "as of" while it runs
        least(
            (periods.period_start + interval '3 months')::timestamp at time zone '{{ tz }}',
            data_as_of.data_as_of
        ) as judged_at
    from dossiers
    inner join periods
        on dossiers.province_code = periods.province_code
        and dossiers.dossier_code = periods.dossier_code
    inner join data_as_of on dossiers.province_code = data_as_of.province_code

),

classified as (

    select
        province_code,
        dossier_code,
        period_kind,
        period_label,
        period_start,
        period_end,
        field_code,
        field_name,
        level_code,
        agency_code,
        channel_code,
        is_carried_over,
        is_received_in_period,
        is_resolved_in_period,
        is_resolved_in_period and ended_date < due_date as is_resolved_before_deadline,
        is_resolved_in_period and ended_date = due_date as is_resolved_on_deadline,
        is_resolved_in_period and not coalesce(ended_date <= due_date, false) as is_resolved_late,
        not is_resolved_in_period and coalesce(due_at >= judged_at, false) as is_open_within_deadline,
        not is_resolved_in_period and not coalesce(due_at >= judged_at, false) as is_open_overdue
    from dossiers_in_scope

)

select * from classified
