{#- Form 06/VPCP/KSTT (Circular 01/2020/TT-VPCP): dossiers per field × level × agency ×
    quarter, for calendar quarters and for the legal reporting quarter (15th of the month
    before the quarter to the 14th of its last month), per province over its own data's range
    and as-of: the rows of int_dossier_form06_quarters counted. Rule in _form06__models.yml.
    Incremental: only the quarters whose dossier rows changed since the run before are
    deleted and counted again (macro touched_partitions); a change of the agencies' names
    recounts the province. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(form06_partitions()) }}",
        post_hook="{{ save_consumer_state(fingerprints={'agencies': agency_fingerprints()}) }}",
        indexes=[
            {'columns': ['province_code', 'period_kind', 'period_start', 'field_code', 'level_code', 'agency_code'], 'unique': true},
        ],
    )
}}

with

dossiers as (

    select * from {{ ref('int_dossier_form06_quarters') }}
    where {{ form06_partitions() }}

),

agencies as (

    select province_code, agency_code, agency_name from {{ ref('dim_agencies') }}

),

counted as (

    select
        province_code,
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
    from dossiers
    group by province_code, period_kind, period_label, period_start, period_end, field_code,
        level_code, agency_code

),

final as (

    select
        counted.province_code,
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
    left join agencies
        on counted.province_code = agencies.province_code
        and counted.agency_code = agencies.agency_code

)

select * from final
