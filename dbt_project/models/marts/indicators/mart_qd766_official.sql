{#- Điểm Bộ chỉ số 766 chính thức — the official Decision 766 scores as the portal publishes
    them (stg_portal__evaluations), one row per province × scope × month × component or group
    total, with the points recomputed from the published counts by the one scoring rule (macro
    qd766_points, the same as `cchc qd766 recompute`). Incremental: the months of the
    snapshots loaded since the run before are deleted and inserted again; logs the months
    whose rows changed for mart_qd766_reconciliation. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(rebuilt_records(evaluation_rebuild_sources(), \"to_char(t.period_start, 'YYYY-MM')\"), periods_by_month('period_start')) }}",
            "{{ delete_rebuilt_rows(evaluation_rebuild_sources(), \"to_char(period_start, 'YYYY-MM')\") }}",
        ],
        post_hook=[
            "{{ log_changed_periods(rebuilt_records(evaluation_rebuild_sources(), \"to_char(t.period_start, 'YYYY-MM')\"), periods_by_month('period_start')) }}",
            "{{ save_watermarks({'evaluations': raw_changes(source('portal', 'evaluations'))}) }}",
        ],
        indexes=[{'columns': ['province_code', 'period_start']}],
    )
}}

with

evaluations as (

    select * from {{ ref('stg_portal__evaluations') }}
    where {{ rebuilt_records(evaluation_rebuild_sources(), "to_char(period_month, 'YYYY-MM')") }}

),

rules as (

    select * from {{ ref('qd766_components') }}

),

groups as (

    select distinct portal_endpoint, group_code, group_name_vi, group_max_points from rules

),

components as (

    select
        evaluations.*,
        coalesce(rule.group_code, groups.group_code) as group_code,
        rule.component_code is not null as is_scored_component,
        coalesce(rule.is_estimate, false) as is_estimate,
        case
            when not evaluations.is_group_total and rule.component_code is not null
            then {{ qd766_points('evaluations.numerator', 'evaluations.denominator', 'rule') }}
        end as recomputed_points
    from evaluations
    left join rules as rule on evaluations.metric_code = rule.component_code
    left join groups on evaluations.endpoint = groups.portal_endpoint

),

group_recomputed as (

    -- a group's points: its components' recomputed points summed, capped at the group's max
    select
        components.province_code,
        components.endpoint,
        components.period_month,
        components.department_code,
        'TOTAL:' || components.group_code as metric_code,
        case
            when bool_and(components.recomputed_points is not null or rules.points_when_no_denominator is null)
            then least(max(groups.group_max_points), sum(coalesce(components.recomputed_points, 0)))
        end as recomputed_points,
        bool_or(components.is_estimate) as is_estimate
    from components
    inner join rules on components.metric_code = rules.component_code
    inner join groups on components.endpoint = groups.portal_endpoint
    where not components.is_group_total
        and components.numerator is not null
    group by components.province_code, components.endpoint, components.period_month,
        components.department_code, components.group_code

),

final as (

    select
        components.province_code,
        case when components.is_province then 'province' else 'agency' end as scope_kind,
        components.department_code as scope_code,
        components.department_name as scope_name,
        components.department_level as scope_level,
        'month' as period_grain,
        components.period_month as period_start,
        to_char(components.period_month, 'YYYY-MM') as period_label,
        components.endpoint as portal_endpoint,
        components.group_code,
        components.metric_code as component_code,
        components.metric_name as component_name,
        components.is_group_total,
        components.is_scored_component,
        coalesce(group_recomputed.is_estimate, components.is_estimate) as is_estimate,
        components.numerator,
        components.denominator,
        round(components.ratio, 6) as ratio,
        components.score as official_points,
        components.max_score as max_points,
        coalesce(components.recomputed_points, group_recomputed.recomputed_points)
            as recomputed_points,
        components.updated_at as published_at
    from components
    left join group_recomputed
        on components.is_group_total
        and components.province_code = group_recomputed.province_code
        and components.endpoint = group_recomputed.endpoint
        and components.period_month = group_recomputed.period_month
        and components.department_code = group_recomputed.department_code
        and components.metric_code = group_recomputed.metric_code

)

select * from final
