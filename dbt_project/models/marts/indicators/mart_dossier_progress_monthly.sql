{#- Tiến độ giải quyết per province, agency and month (skeleton rule, _indicators__models.yml):
    the rows of int_dossier_months_judged counted. Incremental: only the months whose dossier
    rows changed since the run before are deleted and counted again (macro
    touched_partitions); a change of the agencies' names recounts the province. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(progress_partitions()) }}",
        post_hook="{{ save_consumer_state(fingerprints={'agencies': agency_fingerprints()}) }}",
        indexes=[{'columns': ['province_code', 'month_start', 'agency_code'], 'unique': true}],
    )
}}

with

dossier_months as (

    select * from {{ ref('int_dossier_months_judged') }}
    where {{ progress_partitions() }}

),

agencies as (

    select * from {{ ref('dim_agencies') }}

),

counted as (

    select
        province_code,
        agency_code,
        month_start,
        count(*)::int as dossiers_in_scope,
        count(*) filter (where is_received_in_month)::int as dossiers_received,
        count(*) filter (where is_ended_in_month)::int as dossiers_ended,
        count(*) filter (where is_ended_on_time)::int as ended_on_time,
        count(*) filter (where is_ended_late)::int as ended_late,
        count(*) filter (where is_open_on_time)::int as open_on_time,
        count(*) filter (where is_open_overdue)::int as open_overdue
    from dossier_months
    group by province_code, agency_code, month_start

),

scored as (

    select
        *,
        (ended_on_time + open_on_time)::numeric / dossiers_in_scope as exact_ratio
    from counted

),

final as (

    select
        scored.province_code,
        scored.agency_code,
        agencies.agency_name,
        scored.month_start,
        scored.dossiers_in_scope,
        scored.dossiers_received,
        scored.dossiers_ended,
        scored.ended_on_time,
        scored.ended_late,
        scored.open_on_time,
        scored.open_overdue,
        round(scored.exact_ratio, 6) as on_time_ratio,
        round(20 * scored.exact_ratio, 2) as progress_score
    from scored
    left join agencies
        on scored.province_code = agencies.province_code
        and scored.agency_code = agencies.agency_code

)

select * from final
