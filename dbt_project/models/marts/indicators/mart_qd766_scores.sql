{#- Decision 766 scores computed from our own data, long format: one row per province ×
    scope (agency, province) × period (month, quarter, year) × component, scored by the one
    rule of the seed qd766_components through the macro qd766_points. Every measure is the
    province's own (its catalogue, its dossiers, its petitions); scopes rank within their
    province. Rule in _qd766__models.yml. Incremental: only the periods whose inputs changed
    since the run before (logged by mart_cchc_indicators, fct_dossiers, the portal copies,
    int_dossier_periods_judged and fct_petitions; macro touched_partitions) are deleted and
    scored again, with every scope of the province for the ranks; a change of the
    province's procedure catalogue re-scores the province. Logs the periods whose rows
    changed for mart_qd766_reconciliation.
    Units you can trust: an agency code is a unit of a period only when the unit register
    (dim_administrative_units, SCD2) has a version of it valid in the period; any other code
    the dossiers carry is a data-entry error, kept as scope_kind 'unregistered_code' (its
    dossiers stay in the province's figures) and never ranked. Units rank within their
    level (department, district, commune), as the portal publishes them, and only with at
    least var qd766_min_dossiers_ranked dossiers received in the period. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(score_partitions(), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ delete_partitions(score_partitions()) }}",
        ],
        post_hook=[
            "{{ log_changed_periods(score_partitions(), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ save_consumer_state(fingerprints={'catalogue': catalogue_766_fingerprints()}, keyed_fingerprints={'procedures': procedure_fingerprints()}) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'period_grain', 'period_start', 'scope_kind', 'scope_code', 'component_code'], 'unique': true},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set grains = ['month', 'quarter', 'year'] %}
{%- set min_ranked = var('qd766_min_dossiers_ranked') %}
{%- set touched = score_touched() %}

with

indicators as (

    select * from {{ ref('mart_cchc_indicators') }}
    where scope_kind in ('agency', 'province') and {{ partition_filter(touched) }}

),

dossiers as (

    select * from {{ ref('fct_dossiers') }}
    where received_date is not null and {{ partition_date_range(touched, 'received_date') }}

),

syncs as (

    select * from {{ ref('stg_portal__dossier_syncs') }}
    where received_at is not null
        and {{ partition_date_range(touched, "(received_at at time zone '" ~ tz ~ "')::date") }}

),

judged as (

    select * from {{ ref('int_dossier_periods_judged') }}
    where {{ partition_filter(touched) }}

),

procedures as (

    select * from {{ ref('dim_procedures') }}

),

petitions as (

    select * from {{ ref('fct_petitions') }}
    where {{ partition_date_range(touched, 'received_date') }}

),

rules as (

    select * from {{ ref('qd766_components') }}

),

unit_register as (

    select * from {{ ref('dim_administrative_units') }}

),

grains as (

    select unnest(array['{{ grains | join("', '") }}']) as period_grain

),

catalogue as (

    -- the procedure catalogue is published province-wide: the same counts for every scope of
    -- the province
    select * from {{ catalogue_766_counts() }} as counts

),

procedure_use as (

    -- distinct procedures per scope: counted at both levels (a distinct count does not add up)
    select
        dossiers.province_code,
        {{ qd766_scope_columns('dossiers.agency_code', 'dossiers.province_code') }},
        grains.period_grain,
        date_trunc(grains.period_grain, dossiers.received_date)::date as period_start,
        count(distinct dossiers.procedure_code) filter (
            where dossiers.is_online and procedures.is_online_service
        ) as services_with_online_dossiers,
        count(distinct dossiers.procedure_code) filter (
            where dossiers.is_paid_online and procedures.is_fee_bearing
        ) as fee_procedures_paid_online
    from dossiers
    cross join grains
    inner join procedures
        on dossiers.province_code = procedures.province_code
        and dossiers.procedure_code = procedures.procedure_code
    group by dossiers.province_code, grouping sets (
        (grains.period_grain, date_trunc(grains.period_grain, dossiers.received_date)::date,
         dossiers.agency_code),
        (grains.period_grain, date_trunc(grains.period_grain, dossiers.received_date)::date)
    )

),

satisfied_petitions as (

    select
        province_code,
        {{ qd766_scope_columns('agency_code', 'province_code') }},
        grains.period_grain,
        date_trunc(grains.period_grain, received_date)::date as period_start,
        count(*) filter (where satisfaction_code in (1, 2)) as petitions_satisfied
    from petitions
    cross join grains
    where received_date is not null
    group by province_code, grouping sets (
        (grains.period_grain, date_trunc(grains.period_grain, received_date)::date, agency_code),
        (grains.period_grain, date_trunc(grains.period_grain, received_date)::date)
    )

),

portal_by_period as (

    select
        syncs.province_code,
        {{ qd766_scope_columns('syncs.agency_code', 'syncs.province_code') }},
        grains.period_grain,
        date_trunc(grains.period_grain, (syncs.received_at at time zone '{{ tz }}')::date)::date
            as period_start,
        count(*) as portal_received
    from syncs
    cross join grains
    group by syncs.province_code, grouping sets (
        (grains.period_grain,
         date_trunc(grains.period_grain, (syncs.received_at at time zone '{{ tz }}')::date)::date,
         syncs.agency_code),
        (grains.period_grain,
         date_trunc(grains.period_grain, (syncs.received_at at time zone '{{ tz }}')::date)::date)
    )

),

progress_by_period as (

    select
        province_code,
        {{ qd766_scope_columns('agency_code', 'province_code') }},
        period_grain,
        period_start,
        count(*) as in_scope,
        count(*) filter (where is_ended_on_time or is_open_on_time) as on_time
    from judged
    group by province_code, grouping sets (
        (period_grain, period_start, agency_code),
        (period_grain, period_start)
    )

),

{%- set indicator_columns = [
    ('dossiers_received', 'received'), ('online_received', 'online_received'),
    ('digitized_dossiers', 'digitized'), ('reused_dossiers', 'reused'),
    ('e_result_dossiers', 'e_result'), ('fee_dossiers', 'fee_dossiers'),
    ('paid_online_dossiers', 'paid_online'), ('synced_dossiers', 'synced'),
    ('overdue_at_period_end', 'overdue_at_period_end'), ('rated_dissatisfied', 'rated_dissatisfied'),
    ('petitions', 'petitions'), ('petitions_on_time', 'petitions_on_time')] %}
{%- set measures = {
    'satisfied_petitions': ['petitions_satisfied'],
    'portal_by_period': ['portal_received'],
    'progress_by_period': ['in_scope', 'on_time'],
    'procedure_use': ['services_with_online_dossiers', 'fee_procedures_paid_online']} %}
{%- set measure_columns = ['petitions_satisfied', 'portal_received', 'in_scope', 'on_time',
                           'services_with_online_dossiers', 'fee_procedures_paid_online'] %}
{%- set keys = ['province_code', 'scope_kind', 'scope_code', 'period_grain', 'period_start'] %}

measures_stacked as (

    -- the indicators' rows and the measures of the same cells, stacked, then one row per
    -- cell: no joins of the aggregates, whose estimates under the partition filter (tens of
    -- rows) made the planner join them by nested loops over every pair (millions)
    select
        {{ keys | join(', ') }},
        true as is_indicator,
        scope_name,
        {%- for column, name in indicator_columns %}
        {{ column }} as {{ name }},
        {%- endfor %}
        {%- for column in measure_columns %}
        null::bigint as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from indicators
    {%- for relation, columns in measures.items() %}

    union all

    select
        {{ keys | join(', ') }},
        false,
        null,
        {%- for column, name in indicator_columns %}
        null,
        {%- endfor %}
        {%- for column in measure_columns %}
        {{ column if column in columns else 'null' }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- endfor %}

),

cells as (

    -- a measure counts only in a cell of the indicators with the same scope code (a null
    -- code never matched)
    select
        {{ keys | join(', ') }},
        max(scope_name) as scope_name,
        {%- for column, name in indicator_columns %}
        max({{ name }}) as {{ name }},
        {%- endfor %}
        {%- for column in measure_columns %}
        case when scope_code is null then 0 else coalesce(sum({{ column }}), 0) end::bigint
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from measures_stacked
    group by {{ keys | join(', ') }}
    having bool_or(is_indicator)

),

scoped_measures as (

    select
        cells.*,
        {%- for column in ['procedures', 'announced_on_time', 'published_on_time', 'content_complete',
                           'online_services', 'fee_procedures', 'fee_procedures_with_fee_data'] %}
        coalesce(catalogue.{{ column }}, 0) as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from cells
    left join catalogue on cells.province_code = catalogue.province_code

),

scope_units as (

    -- the registered unit each agency scope is in its period: its latest version valid then
    select distinct on (scopes.province_code, scopes.scope_code, scopes.period_grain,
                        scopes.period_start)
        scopes.province_code,
        scopes.scope_code,
        scopes.period_grain,
        scopes.period_start,
        register.unit_level
    from (
        select distinct province_code, scope_code, period_grain, period_start
        from scoped_measures
        where scope_kind = 'agency'
    ) as scopes
    inner join unit_register as register
        on scopes.province_code = register.province_code
        and scopes.scope_code = register.unit_code
        and register.valid_from <= ({{ period_end('scopes.period_grain', 'scopes.period_start') }})
        and register.valid_to >= scopes.period_start
    order by scopes.province_code, scopes.scope_code, scopes.period_grain, scopes.period_start,
        register.valid_from desc

),

components_measured as (
    {%- for code, numerator, denominator, basis, _dossier_numerator, _dossier_denominator in qd766_component_measures() %}

    select
        province_code, scope_kind, scope_code, scope_name, period_grain, period_start,
        '{{ code }}' as component_code,
        received as scope_received,
        {{ numerator }} as numerator,
        {{ denominator }} as denominator,
        '{{ basis }}' as measure_basis
    from scoped_measures
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

scored as (

    select
        measured.province_code,
        case when measured.scope_kind = 'agency' and units.unit_level is null
            then 'unregistered_code' else measured.scope_kind end as scope_kind,
        measured.scope_code,
        case when measured.scope_kind = 'agency' and units.unit_level is null
            then 'Mã đơn vị không hợp lệ' else measured.scope_name end as scope_name,
        units.unit_level,
        measured.scope_received::int as dossiers_received,
        measured.period_grain,
        measured.period_start,
        rule.group_code,
        rule.group_name_vi as group_name,
        measured.component_code,
        rule.component_name_vi as component_name,
        measured.numerator::int as numerator,
        measured.denominator::int as denominator,
        {{ qd766_ratio('measured.numerator', 'measured.denominator') }} as ratio,
        {{ qd766_points('measured.numerator', 'measured.denominator', 'rule') }} as points,
        rule.max_points,
        rule.is_estimate,
        measured.measure_basis,
        rule.group_max_points,
        rule.sort_order
    from components_measured as measured
    inner join rules as rule on measured.component_code = rule.component_code
    left join scope_units as units
        on measured.scope_kind = 'agency'
        and measured.province_code = units.province_code
        and measured.scope_code = units.scope_code
        and measured.period_grain = units.period_grain
        and measured.period_start = units.period_start

),

{#- group points, totals and ranks with window functions, not joins back to aggregates: the
    row estimates of the unioned components are too poor for the planner to join them well -#}
group_scored as (

    select
        *,
        least(
            group_max_points,
            coalesce(sum(points) over (
                partition by province_code, scope_kind, scope_code, period_grain, period_start,
                    group_code
            ), 0)
        ) as group_points,
        row_number() over (
            partition by province_code, scope_kind, scope_code, period_grain, period_start,
                group_code
            order by component_code
        ) as group_row,
        row_number() over (
            partition by province_code, scope_kind, scope_code, period_grain, period_start
            order by component_code
        ) as scope_row
    from scored

),

totalled as (

    select
        *,
        sum(case when group_row = 1 then group_points end) over (
            partition by province_code, scope_kind, scope_code, period_grain, period_start
        ) as total_points,
        sum(case when group_row = 1 then group_max_points end) over (
            partition by province_code, scope_kind, scope_code, period_grain, period_start
        ) as total_max_points
    from group_scored

),

statused as (

    select
        *,
        case
            when scope_kind in ('province', 'unregistered_code') then scope_kind
            when dossiers_received < {{ min_ranked }} then 'below_minimum'
            else 'ranked'
        end as rank_status
    from totalled

),

first_rows_ranked as (

    -- ranked units within their level; the province is its own (rank 1); no other scope ranks
    select
        *,
        case when scope_row = 1 and rank_status in ('ranked', 'province') then
            rank() over (
                partition by province_code, scope_kind, period_grain, period_start, unit_level,
                    scope_row = 1 and rank_status in ('ranked', 'province')
                order by total_points desc
            )
        end as scope_rank
    from statused

),

ranked as (

    select
        *,
        (max(scope_rank) over (
            partition by province_code, scope_kind, scope_code, period_grain, period_start
        ))::int as rank_in_period
    from first_rows_ranked

),

final as (

    select
        province_code,
        scope_kind,
        scope_code,
        scope_name,
        unit_level,
        dossiers_received,
        period_grain,
        period_start,
        ({{ period_end('period_grain', 'period_start') }}) as period_end,
        case period_grain
            when 'month' then to_char(period_start, 'YYYY-MM')
            when 'quarter' then to_char(period_start, 'YYYY"Q"Q')
            else to_char(period_start, 'YYYY')
        end as period_label,
        group_code,
        group_name,
        component_code,
        component_name,
        numerator,
        denominator,
        ratio,
        points,
        max_points,
        is_estimate,
        measure_basis,
        group_points,
        group_max_points,
        total_points,
        total_max_points,
        rank_status,
        rank_in_period
    from ranked

)

select * from final
