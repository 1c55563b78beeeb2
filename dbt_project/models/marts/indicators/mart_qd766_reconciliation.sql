{#- Đối chiếu điểm 766 — official (mart_qd766_official) against ours (mart_qd766_scores) by
    province × scope × month × component, and by group total ('TOTAL:<group>'). difference = ours −
    official; within_tolerance: |difference| <= 0.015 points, judged only for components with
    a known formula (null for estimates and where either side is missing). Scopes match on
    the province and the code: the province (H40) and each agency or commune of it.
    Incremental: only the months whose official or computed scores changed since the run
    before (logged by those marts; macro touched_partitions) are deleted and matched again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partitions(reconciliation_partitions('period_start')) }}",
        post_hook="{{ save_consumer_state() }}",
        indexes=[{'columns': ['province_code', 'period_start']}],
    )
}}

with

official as (

    select * from {{ ref('mart_qd766_official') }}
    where (is_scored_component or is_group_total)
        and {{ reconciliation_partitions('period_start') }}

),

ours_components as (

    select
        province_code, scope_kind, scope_code, scope_name, period_start, group_code,
        component_code, component_name, numerator, denominator, points, max_points, is_estimate
    from {{ ref('mart_qd766_scores') }}
    where period_grain = 'month' and {{ reconciliation_partitions('period_start') }}

),

ours_groups as (

    select distinct
        province_code, scope_kind, scope_code, scope_name, period_start, group_code,
        'TOTAL:' || group_code as component_code,
        null::text as component_name,
        null::int as numerator,
        null::int as denominator,
        group_points as points,
        group_max_points as max_points,
        bool_or(is_estimate) over (
            partition by province_code, scope_kind, scope_code, period_start, group_code
        ) as is_estimate
    from {{ ref('mart_qd766_scores') }}
    where period_grain = 'month' and {{ reconciliation_partitions('period_start') }}

),

ours as (

    select * from ours_components
    union all
    select * from ours_groups

),

matched as (

    select
        coalesce(official.province_code, ours.province_code) as province_code,
        coalesce(official.scope_kind, ours.scope_kind) as scope_kind,
        coalesce(official.scope_code, ours.scope_code) as scope_code,
        coalesce(official.scope_name, ours.scope_name) as scope_name,
        coalesce(official.period_start, ours.period_start) as period_start,
        coalesce(official.group_code, ours.group_code) as group_code,
        coalesce(official.component_code, ours.component_code) as component_code,
        coalesce(ours.component_name, official.component_name) as component_name,
        coalesce(official.is_group_total, ours.component_code like 'TOTAL:%') as is_group_total,
        official.numerator as official_numerator,
        official.denominator as official_denominator,
        official.official_points,
        ours.numerator as our_numerator,
        ours.denominator as our_denominator,
        ours.points as our_points,
        coalesce(ours.max_points, official.max_points) as max_points,
        coalesce(ours.is_estimate, official.is_estimate, false) as is_estimate,
        official.scope_code is not null as is_published,
        ours.scope_code is not null as is_computed
    from official
    full outer join ours on {{ qd766_same_cell('official', 'ours', grain=false) }}

),

final as (

    select
        province_code,
        scope_kind,
        scope_code,
        scope_name,
        'month' as period_grain,
        period_start,
        to_char(period_start, 'YYYY-MM') as period_label,
        group_code,
        component_code,
        component_name,
        is_group_total,
        official_numerator,
        official_denominator,
        official_points,
        our_numerator,
        our_denominator,
        our_points,
        our_points - official_points as difference,
        max_points,
        is_estimate,
        case
            when is_estimate or official_points is null or our_points is null then null
            else abs(our_points - official_points) <= 0.015
        end as within_tolerance,
        is_published,
        is_computed
    from matched

)

select * from final
