{#
  Data quality per agency × month × rule, from the latest run of each checked entity.
  The dq tables are written by the quality checks; on a first night they may not exist yet,
  so the model then builds empty with the same columns.
  Every flag and count carries the province of the record it is about: the rows are per
  province, so two provinces' agencies never add up.
#}
{#- PostgreSQL cannot estimate the CTEs' sizes (one row each, it guesses) and picks nested
    loops that take minutes on a few thousand flags, or merge joins on the first keys only,
    filtering the others row by row (the flags per rule joined on province, agency and month:
    155 million rows discarded at a large province's six weeks). Hash joins use every key.
    `set local` lasts only for the transaction that builds this table. -#}
{{ config(pre_hook=["set local enable_nestloop = off", "set local enable_mergejoin = off"]) }}
{%- set threshold = var('dq_unreliable_flag_rate', 0.05) -%}
{%- set dq = namespace(tables_exist=true) -%}
{%- if execute -%}
  {%- for t in ['validation_runs', 'record_flags', 'record_counts'] -%}
    {%- if load_relation(source('dq', t)) is none -%}{%- set dq.tables_exist = false -%}{%- endif -%}
  {%- endfor -%}
{%- endif -%}

{%- if dq.tables_exist %}
with latest_runs as (
    -- Each run checks the whole table (latest version of every record): the newest run of an
    -- entity is its current state.
    select distinct on (source, entity) source, entity, run_id, validated_at
    from {{ source('dq', 'validation_runs') }}
    where source is not null and entity is not null
    order by source, entity, validated_at desc, run_id desc
),

rules as (
    select distinct v.source, v.entity, v.run_id, v.rule_id, v.severity, r.validated_at
    from {{ source('dq', 'validation_runs') }} v
    join latest_runs r using (source, entity, run_id)
),

counts as (
    -- agency_key / month_key: the same values with nulls made comparable, so joins can hash
    -- (`is not distinct from` forces nested loops)
    select c.source, c.entity, c.run_id, c.province_code, c.agency_code, c.period_month,
        coalesce(c.agency_code, '') as agency_key,
        coalesce(c.period_month, date '0001-01-01') as month_key,
        sum(c.record_count) as records_checked
    from {{ source('dq', 'record_counts') }} c
    join latest_runs r using (source, entity, run_id)
    group by 1, 2, 3, 4, 5, 6
),

flags as (
    select f.source, f.entity, f.run_id, f.rule_id, f.province_code, f.record_key,
        coalesce(f.agency_code, '') as agency_key,
        coalesce(f.period_month, date '0001-01-01') as month_key
    from {{ source('dq', 'record_flags') }} f
    join latest_runs r using (source, entity, run_id)
),

flags_by_rule as (
    select source, entity, run_id, rule_id, province_code, agency_key, month_key,
        count(distinct record_key) as records_flagged
    from flags
    group by 1, 2, 3, 4, 5, 6, 7
),

by_rule as (
    select
        c.province_code, c.agency_code, c.period_month, c.agency_key, c.month_key,
        c.source, c.entity, r.rule_id, r.severity,
        c.records_checked, coalesce(f.records_flagged, 0) as records_flagged,
        r.run_id, r.validated_at
    from counts c
    join rules r using (source, entity, run_id)
    left join flags_by_rule f
        on f.source = c.source and f.entity = c.entity and f.run_id = c.run_id
        and f.rule_id = r.rule_id
        and f.province_code = c.province_code
        and f.agency_key = c.agency_key
        and f.month_key = c.month_key
),

agency_checked as (
    select province_code, agency_key, month_key, sum(records_checked) as agency_records_checked
    from counts
    group by 1, 2, 3
),

agency_flagged as (
    select f.province_code, f.agency_key, f.month_key,
        count(distinct (f.source, f.entity, f.record_key))
            filter (where r.severity = 'data_entry') as agency_records_flagged,
        count(distinct (f.source, f.entity, f.record_key))
            filter (where r.severity = 'structural') as agency_structural_flagged
    from flags f
    join rules r using (source, entity, run_id, rule_id)
    group by 1, 2, 3
)

select
    b.province_code::text as province_code,
    b.agency_code::text as agency_code,
    b.period_month::date as period_month,
    b.source::text as source,
    b.entity::text as entity,
    b.rule_id::text as rule_id,
    b.severity::text as severity,
    b.records_checked::bigint as records_checked,
    b.records_flagged::bigint as records_flagged,
    round(b.records_flagged::numeric / nullif(b.records_checked, 0), 4)::numeric(9, 4) as flag_rate,
    a.agency_records_checked::bigint as agency_records_checked,
    coalesce(g.agency_records_flagged, 0)::bigint as agency_records_flagged,
    round(coalesce(g.agency_records_flagged, 0)::numeric
        / nullif(a.agency_records_checked, 0), 4)::numeric(9, 4) as agency_flag_rate,
    (coalesce(g.agency_structural_flagged, 0) > 0
        or coalesce(g.agency_records_flagged, 0)::numeric
            / nullif(a.agency_records_checked, 0) >= {{ threshold }})::boolean as agency_unreliable,
    b.run_id::text as run_id,
    b.validated_at::timestamptz as validated_at
from by_rule b
join agency_checked a
    on a.province_code = b.province_code and a.agency_key = b.agency_key
    and a.month_key = b.month_key
left join agency_flagged g
    on g.province_code = b.province_code and g.agency_key = b.agency_key
    and g.month_key = b.month_key
{%- else %}
select
    null::text as province_code,
    null::text as agency_code,
    null::date as period_month,
    null::text as source,
    null::text as entity,
    null::text as rule_id,
    null::text as severity,
    null::bigint as records_checked,
    null::bigint as records_flagged,
    null::numeric(9, 4) as flag_rate,
    null::bigint as agency_records_checked,
    null::bigint as agency_records_flagged,
    null::numeric(9, 4) as agency_flag_rate,
    null::boolean as agency_unreliable,
    null::text as run_id,
    null::timestamptz as validated_at
where false
{%- endif %}
