{#- The official Decision 766 scores the portal publishes, flattened: one row per province ×
    department × endpoint × month × metric, from the latest monthly snapshot of each endpoint
    (record_key '<endpoint>:<yyyy-mm>', the same key in every province). Two response shapes:
    - tree endpoints (data.parent, data.children[]): one row per component the seed
      qd766_components maps to the endpoint, its counts read from the fields the seed names
      (numerator_field, denominator_field; 'a+b' sums fields); the official score is the
      department's score when the endpoint has a single component;
    - overview / evaluation endpoints (data.overview, data.evaluation[]): one row per
      metrics[] entry.
    Both also give one 'TOTAL:<group>' row per department with the published total.
    Ratios are fractions (0–1): the portal publishes percentages. -#}
with

snapshots as (

    select
        province_code,
        record_key,
        split_part(record_key, ':', 1) as endpoint,
        to_date(split_part(record_key, ':', 2) || '-01', 'YYYY-MM-DD') as period_month,
        payload -> 'data' as data,
        record_updated_at as updated_at,
        extracted_at
    from ({{ latest_record_version(source('portal', 'evaluations')) }}) as latest_versions
    where split_part(record_key, ':', 2) ~ '^\d{4}-\d{2}$'

),

departments as (

    -- the province row (parent / overview) and one row per agency or commune
    select
        snapshots.*,
        true as is_province,
        coalesce(data -> 'parent', data -> 'overview') as department
    from snapshots
    where coalesce(data -> 'parent', data -> 'overview') is not null

    union all

    select
        snapshots.*,
        false as is_province,
        child.value as department
    from snapshots
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("coalesce(data -> 'children', data -> 'evaluation')") }}
    ) as child (value)

),

identified as (

    select
        province_code,
        record_key,
        endpoint,
        period_month,
        data ? 'parent' as is_tree,
        is_province,
        coalesce(department ->> 'departmentCode', department ->> 'departmentName') as department_code,
        normalize(department ->> 'departmentName', nfc) as department_name,
        coalesce(department ->> 'level', department ->> 'departmentLevel') as department_level,
        department,
        updated_at,
        extracted_at
    from departments

),

rules as (

    select * from {{ ref('qd766_components') }}

),

endpoint_component_counts as (

    select portal_endpoint, count(*) as component_count
    from rules
    group by portal_endpoint

),

tree_metrics as (

    select
        identified.*,
        rules.component_code as metric_code,
        rules.component_name_vi as metric_name,
        (
            select case when bool_and(department ? trim(field)) then
                sum({{ json_number("department -> trim(field)") }}) end
            from unnest(string_to_array(rules.numerator_field, '+')) as field
        ) as numerator,
        (
            select case when bool_and(department ? trim(field)) then
                sum({{ json_number("department -> trim(field)") }}) end
            from unnest(string_to_array(rules.denominator_field, '+')) as field
        ) as denominator,
        case
            when component_counts.component_count = 1
            then {{ json_number("department -> 'ratio'") }} / 100
        end as ratio,
        case
            when component_counts.component_count = 1
            then coalesce(
                {{ json_number("department -> 'score'") }},
                {{ json_number("department -> 'totalScore'") }}
            )
        end as score,
        rules.max_points as max_score,
        false as is_group_total
    from identified
    inner join rules on identified.endpoint = rules.portal_endpoint
    inner join endpoint_component_counts as component_counts
        on rules.portal_endpoint = component_counts.portal_endpoint
    where identified.is_tree

),

list_metrics as (

    select
        identified.*,
        metric ->> 'code' as metric_code,
        normalize(metric ->> 'name', nfc) as metric_name,
        {{ json_number("metric -> 'numerator'") }} as numerator,
        {{ json_number("metric -> 'denominator'") }} as denominator,
        {{ json_number("metric -> 'ratio'") }} / 100 as ratio,
        {{ json_number("metric -> 'score'") }} as score,
        {{ json_number("metric -> 'maxScore'") }} as max_score,
        false as is_group_total
    from identified
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("department -> 'metrics'") }}
    ) as metric
    where not identified.is_tree

),

group_totals as (

    select
        identified.*,
        'TOTAL:' || endpoint_groups.group_code as metric_code,
        endpoint_groups.group_name_vi as metric_name,
        null::numeric as numerator,
        null::numeric as denominator,
        {{ json_number("department -> 'ratio'") }} / 100 as ratio,
        coalesce(
            {{ json_number("department -> 'totalScore'") }},
            {{ json_number("department -> 'score'") }}
        ) as score,
        coalesce(
            {{ json_number("department -> 'totalMaxScore'") }},
            {{ json_number("department -> 'maxScore'") }}
        ) as max_score,
        true as is_group_total
    from identified
    inner join (
        select distinct portal_endpoint, group_code, group_name_vi from rules
    ) as endpoint_groups
        on identified.endpoint = endpoint_groups.portal_endpoint

),

unioned as (

    select * from tree_metrics
    union all
    select * from list_metrics
    union all
    select * from group_totals

),

final as (

    select
        province_code,
        record_key as evaluation_key,
        endpoint,
        period_month,
        department_code,
        department_name,
        department_level,
        is_province,
        metric_code,
        metric_name,
        numerator,
        denominator,
        ratio,
        score,
        max_score,
        is_group_total,
        updated_at,
        extracted_at
    from unioned

)

select * from final
