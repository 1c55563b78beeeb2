{#- What each Decision 766 score is worth: for every row of mart_qd766_scores (province,
    agency, commune × period × component), the lowest and highest points the component could
    have if every dossier flagged by a data-entry rule that reaches it (seed
    qd766_rule_effects; flags of the latest check of the one-stop dossiers, dq.record_flags)
    were wrong in the worst and the best direction, the points at stake (highest − lowest)
    and an estimate (a dossier keyed in twice counted once; a dossier whose end date is missing
    or before its receipt judged by its return date, when it has one). The same arithmetic as
    cchc.qd766.bounds, on counts: a flagged dossier whose state is in doubt ('either') may
    leave or join the numerator; a copy ('copy') may not exist, which lowers the ratio only
    when it is counted in the numerator. Bounds are scored by the component's own rule
    (macro qd766_points) and always contain the score as computed. Rule in
    _qd766_bounds__models.yml. The dq tables are written by the quality checks; before the
    first check they may not exist, and nothing is then flagged. -#}
{{ config(materialized='table', pre_hook="set local enable_nestloop = off") }}
{%- set grains = ['month', 'quarter', 'year'] %}
{%- set dq = namespace(exists=true) %}
{%- if execute %}
  {%- for t in ['validation_runs', 'record_flags'] %}
    {%- if load_relation(source('dq', t)) is none %}{% set dq.exists = false %}{% endif %}
  {%- endfor %}
{%- endif %}
{#- where a dossier received in the period stands in each component counted from such
    dossiers: the same list the scores mart measures from (macro qd766_component_measures) -#}
{%- set per_dossier = [] %}
{%- for code, _n, _d, _b, numerator, denominator in qd766_component_measures() %}
  {%- if numerator is not none %}{% do per_dossier.append((code, numerator, denominator)) %}{% endif %}
{%- endfor %}

with

scores as (

    select * from {{ ref('mart_qd766_scores') }}

),

rules as (

    select * from {{ ref('qd766_components') }}

),

effects as (

    select * from {{ ref('qd766_rule_effects') }}

),

reached as (

    select distinct component_code from effects

),

grains as (

    select unnest(array['{{ grains | join("', '") }}']) as period_grain

),

flags as (

    {%- if dq.exists %}
    select distinct flags.province_code, flags.record_key as dossier_code, flags.rule_id
    from {{ source('dq', 'record_flags') }} as flags
    inner join (
        select distinct on (source, entity) source, entity, run_id
        from {{ source('dq', 'validation_runs') }}
        where source = 'onestop' and entity = 'dossiers'
        order by source, entity, validated_at desc, run_id desc
    ) as latest using (source, entity, run_id)
    {%- else %}
    select null::text as province_code, null::text as dossier_code, null::text as rule_id
    where false
    {%- endif %}

),

registered as (

    select distinct province_code, unit_code from {{ ref('dim_administrative_units') }}

),

moved as (

    -- a dossier filed under an unknown unit code that extends a registered unit's code
    -- (H40.18.99 → H40.18) may belong to that unit: it may join its scope, as it is counted
    select distinct on (flags.province_code, flags.dossier_code)
        flags.province_code,
        flags.dossier_code,
        registered.unit_code as agency_code
    from flags
    inner join {{ ref('fct_dossiers') }} as dossiers
        on flags.province_code = dossiers.province_code
        and flags.dossier_code = dossiers.dossier_code
    inner join registered
        on dossiers.province_code = registered.province_code
        and dossiers.agency_code like registered.unit_code || '.%'
    where flags.rule_id = 'unknown_agency_code'
    order by flags.province_code, flags.dossier_code, length(registered.unit_code) desc

),

flagged_components as (

    -- one row per flagged dossier × component it reaches: 'either' wins over 'copy' (a copy
    -- whose state is in doubt may be in the numerator or not, like any other); 'join' for a
    -- dossier that may belong to the unit joins_agency
    select
        flags.province_code,
        flags.dossier_code,
        effects.component_code,
        case when bool_or(effects.effect = 'either') then 'either' else 'copy' end as effect,
        -- an end date missing or before receipt: the return date, when there is one, says
        -- when the dossier really ended
        bool_or(flags.rule_id in ('end_before_receipt', 'completed_without_end_date'))
            as has_wrong_end_date,
        null::text as joins_agency
    from flags
    inner join effects on flags.rule_id = effects.rule_id
    group by flags.province_code, flags.dossier_code, effects.component_code

    union all

    select moved.province_code, moved.dossier_code, reached.component_code, 'join', false,
        moved.agency_code
    from moved
    cross join reached

),

flagged_states as (

    -- the state each flagged dossier is counted in, per period: handling progress in every
    -- period the dossier is in scope of, the other components in its period of receipt
    select
        judged.province_code,
        coalesce(flagged.joins_agency, judged.agency_code) as agency_code,
        judged.period_grain,
        judged.period_start,
        flagged.component_code,
        flagged.effect,
        coalesce(judged.is_ended_on_time or judged.is_open_on_time, false) as is_in_numerator,
        case when flagged.has_wrong_end_date and dossiers.returned_at >= dossiers.received_at
            then dossiers.returned_at <= dossiers.due_at
                and coalesce(dossiers.supplement_request_count, 0) <= 1
        end as is_implied_in_numerator
    from flagged_components as flagged
    inner join {{ ref('int_dossier_periods_judged') }} as judged
        on flagged.province_code = judged.province_code
        and flagged.dossier_code = judged.dossier_code
    left join {{ ref('fct_dossiers') }} as dossiers
        on flagged.province_code = dossiers.province_code
        and flagged.dossier_code = dossiers.dossier_code
    where flagged.component_code = 'DOSSIER_HANDLING_ON_TIME'

    union all

    select
        dossiers.province_code,
        coalesce(flagged.joins_agency, dossiers.agency_code) as agency_code,
        grains.period_grain,
        date_trunc(grains.period_grain, dossiers.received_date)::date as period_start,
        flagged.component_code,
        flagged.effect,
        -- null: the dossier alone does not say (the bounds take the widest move)
        case flagged.component_code
            {%- for code, numerator, _ in per_dossier %}
            when '{{ code }}' then {{ 'coalesce(dossiers.' ~ numerator ~ ', false)'
                                      if numerator != 'null::boolean' else numerator }}
            {%- endfor %}
        end as is_in_numerator,
        null::boolean as is_implied_in_numerator
    from flagged_components as flagged
    inner join {{ ref('fct_dossiers') }} as dossiers
        on flagged.province_code = dossiers.province_code
        and flagged.dossier_code = dossiers.dossier_code
    cross join grains
    where flagged.component_code <> 'DOSSIER_HANDLING_ON_TIME'
        and dossiers.received_date is not null
        -- only where the component counts the dossier at all (a payment: a dossier with fees)
        and case flagged.component_code
            {%- for code, _, denominator in per_dossier %}
            when '{{ code }}' then coalesce({{ 'dossiers.' ~ denominator if denominator != 'true' else 'true' }}, false)
            {%- endfor %}
            else false
        end

),

flagged_counts as (

    select
        province_code,
        {{ qd766_scope_columns('agency_code', 'province_code') }},
        period_grain,
        period_start,
        component_code,
        count(*) filter (where effect <> 'join') as own_records,
        count(*) filter (where effect = 'either' and is_in_numerator) as either_in,
        count(*) filter (where effect = 'either' and not is_in_numerator) as either_out,
        count(*) filter (where effect = 'copy' and is_in_numerator) as copy_in,
        count(*) filter (where effect = 'copy' and not is_in_numerator) as copy_out,
        count(*) filter (where effect = 'either' and is_in_numerator is null) as either_unknown,
        count(*) filter (where effect = 'copy' and is_in_numerator is null) as copy_unknown,
        count(*) filter (where effect = 'join' and is_in_numerator) as join_in,
        count(*) filter (where effect = 'join' and not is_in_numerator) as join_out,
        count(*) filter (where effect = 'join' and is_in_numerator is null) as join_unknown,
        count(*) filter (
            where effect = 'either' and is_implied_in_numerator and not is_in_numerator
        ) as implied_in,
        count(*) filter (
            where effect = 'either' and not is_implied_in_numerator and is_in_numerator
        ) as implied_out
    from flagged_states
    group by province_code, period_grain, period_start, component_code,
        grouping sets ((agency_code), ())

),

scoped_counts as (

    -- a dossier under an unknown code is already in its province's figures: it joins units only
    select
        counts.*,
        case when counts.scope_kind = 'agency' then counts.join_in else 0 end as joins_in,
        case when counts.scope_kind = 'agency' then counts.join_out else 0 end as joins_out,
        case when counts.scope_kind = 'agency' then counts.join_unknown else 0 end
            as joins_unknown
    from flagged_counts as counts

),

adjusted as (

    select
        scores.*,
        reached.component_code is not null as is_reached,
        coalesce(counts.own_records + counts.joins_in + counts.joins_out + counts.joins_unknown, 0)
            as flagged_records,
        -- a dossier whose place is unknown may leave the numerator (low) or join it (high);
        -- a copy of unknown place keeps the denominator low and leaves it high
        scores.numerator - coalesce(counts.either_in, 0) - coalesce(counts.copy_in, 0)
            - coalesce(counts.either_unknown, 0) - coalesce(counts.copy_unknown, 0)
            as low_numerator,
        scores.denominator - coalesce(counts.copy_in, 0) + coalesce(counts.joins_out, 0)
            + coalesce(counts.joins_unknown, 0)
            as low_denominator,
        scores.numerator + coalesce(counts.either_out, 0) + coalesce(counts.joins_in, 0)
            + coalesce(counts.either_unknown, 0) + coalesce(counts.copy_unknown, 0)
            + coalesce(counts.joins_unknown, 0)
            as high_numerator,
        scores.denominator - coalesce(counts.copy_out, 0) + coalesce(counts.joins_in, 0)
            - coalesce(counts.copy_unknown, 0) + coalesce(counts.joins_unknown, 0)
            as high_denominator,
        scores.numerator - coalesce(counts.copy_in, 0) + coalesce(counts.implied_in, 0)
            - coalesce(counts.implied_out, 0) + coalesce(counts.joins_in, 0)
            as estimate_numerator,
        scores.denominator - coalesce(counts.copy_in, 0) - coalesce(counts.copy_out, 0)
            + coalesce(counts.joins_in, 0) + coalesce(counts.joins_out, 0)
            + coalesce(counts.joins_unknown, 0)
            as estimate_denominator
    from scores
    left join reached on scores.component_code = reached.component_code
    left join scoped_counts as counts
        on {{ qd766_same_cell('scores', 'counts') }}
        and (case when scores.scope_kind = 'province' then 'province' else 'agency' end)
            = counts.scope_kind

),

bounded as (

    select
        adjusted.*,
        case when adjusted.points is null then 'not_scored'
            when not adjusted.is_reached then 'not_reached'
            when adjusted.flagged_records = 0 then 'no_flags'
            else 'bounded'
        end as bounds_status,
        least(adjusted.points,
            {{ qd766_points('adjusted.low_numerator', 'adjusted.low_denominator', 'rule') }})
            as low_points,
        greatest(adjusted.points,
            {{ qd766_points('adjusted.high_numerator', 'adjusted.high_denominator', 'rule') }})
            as high_points,
        {{ qd766_points('adjusted.estimate_numerator', 'adjusted.estimate_denominator', 'rule') }}
            as estimated_points
    from adjusted
    inner join rules as rule on adjusted.component_code = rule.component_code

),

final as (

    select
        province_code,
        scope_kind,
        scope_code,
        scope_name,
        unit_level,
        period_grain,
        period_start,
        period_end,
        period_label,
        group_code,
        component_code,
        component_name,
        numerator,
        denominator,
        points,
        max_points,
        flagged_records::int as flagged_records,
        bounds_status,
        -- no data-entry rule reaches the component: nothing flagged can move it, the
        -- bounds are the points (width 0 by construction)
        case when bounds_status = 'not_reached' then points
            when bounds_status <> 'not_scored' then low_points end as points_low,
        case when bounds_status = 'not_reached' then points
            when bounds_status <> 'not_scored' then high_points end as points_high,
        case when bounds_status = 'not_reached' then 0
            when bounds_status <> 'not_scored' then high_points - low_points end
            as points_at_stake,
        case when bounds_status = 'not_reached' then points
            when bounds_status <> 'not_scored' then estimated_points end as points_estimate,
        case bounds_status
            when 'not_scored' then 'Không chấm điểm (không có hồ sơ, không có công thức)'
            when 'not_reached' then 'Không có quy tắc kiểm tra nhập liệu nào ảnh hưởng thành'
                || ' phần này: điểm không thể sai lệch do lỗi nhập liệu đã kiểm tra (độ rộng 0)'
            when 'no_flags' then 'Không có hồ sơ bị gắn cờ'
            else flagged_records || ' hồ sơ bị gắn cờ lỗi nhập liệu'
        end as bounds_note
    from bounded

)

select * from final
