{#- Row changes handed from a per-record incremental model (a producer) to the aggregates
    built on it (its consumers), so a consumer updates its totals from the night's changes
    (subtract each changed record's previous rows, add its new ones) instead of reading every
    record of the groups they touch again.

    The producer's pre-hook keeps the rows it is about to rebuild (keep_rows_before_rebuild);
    its post-hook compares them with the rows it wrote and appends the rows that differ to
    `<producer>__changes`, once per consumer, with sign -1 (a row gone or replaced) or +1 (a
    row new or replacing), identical rows cancelling out (log_row_changes). A full build of
    the producer logs one row per province with sign 0: its consumers rebuild that province
    from the producer's table. Each consumer reads its own rows (row_changes) and deletes
    them once it has applied them (consume_row_changes, a post-hook in the same transaction as
    its update), so the log holds only what its consumers have not applied yet: empty after a
    build of everything, as after a full refresh. -#}

{#- The log of `producer` (its relation): beside it, in its schema. -#}
{% macro row_changes_relation(producer) -%}
    {{ return(api.Relation.create(
        database=producer.database, schema=producer.schema,
        identifier=producer.identifier ~ '__changes')) }}
{%- endmacro %}


{#- Pre-hook of a producer: its rows the run rebuilds (`rebuilt`: the run's filter). -#}
{% macro keep_rows_before_rebuild(rebuilt) -%}
    drop table if exists pg_temp.rows_before_rebuild;
    {%- if is_incremental() %}
    create temporary table rows_before_rebuild as
    select * from {{ this }} where {{ rebuilt }}
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}


{#- Post-hook of a producer: append the rows that changed to its log, once per consumer. -#}
{% macro log_row_changes(rebuilt, consumers) -%}
    {%- set log = row_changes_relation(this) -%}
    {%- set names = "'" ~ consumers | join("', '") ~ "'" -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
    {%- endif %}
    create table if not exists {{ log }} as
    select t.*, null::text as consumer, null::smallint as sign from {{ this }} as t where false;
    {%- if is_incremental() %}
    insert into {{ log }} ({{ columns | join(', ') }}, consumer, sign)
    with both_sides as materialized (
        select t.*, md5(t::text) as row_hash, -1 as sign from pg_temp.rows_before_rebuild as t
        union all
        select t.*, md5(t::text), 1 from {{ this }} as t where {{ rebuilt }}
    ),

    -- a row found on both sides did not change
    changed as (
        select row_hash from both_sides group by row_hash having min(sign) = max(sign)
    )

    select {% for column in columns %}both_sides.{{ column }}, {% endfor -%}
        consumers.name, both_sides.sign
    from both_sides
    inner join changed on both_sides.row_hash = changed.row_hash
    cross join unnest(array[{{ names }}]) as consumers (name);
    drop table pg_temp.rows_before_rebuild;
    -- its consumers empty it every night: statistics of an empty log would plan their joins
    -- of tens of thousands of rows as nested loops
    analyze {{ log }}
    {%- else %}
    delete from {{ log }} where consumer in ({{ names }});
    insert into {{ log }} (province_code, consumer, sign)
    select provinces.province_code, consumers.name, 0
    from {{ provinces_in(this) }} as provinces
    cross join unnest(array[{{ names }}]) as consumers (name);
    analyze {{ log }}
    {%- endif %}
{%- endmacro %}


{#- Whether a consumer's run applies the log of `producer`: an incremental run once the log
    exists (before, it rebuilds everything, as on a full build). -#}
{% macro applies_row_changes(producer) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set log = row_changes_relation(ref(producer)) -%}
    {{ return(adapter.get_relation(database=log.database, schema=log.schema,
                                   identifier=log.identifier) is not none) }}
{%- endmacro %}


{#- The rows of `producer`'s log for this consumer: sign -1, +1, or 0 (the province whole). -#}
{% macro row_changes(producer) -%}
    (select * from {{ row_changes_relation(ref(producer)) }} where consumer = '{{ this.identifier }}')
{%- endmacro %}


{#- The provinces `producer` logged whole for this consumer (a full build of the producer), as
    a SQL list of literals for `in (…)`, or an empty query when none (`not in (null)` would
    exclude everything), read when the consumer compiles. -#}
{% macro row_changes_whole(producer) -%}
    {%- set provinces = [] -%}
    {%- if applies_row_changes(producer) -%}
        {%- set query -%}
            select distinct province_code from {{ row_changes(producer) }} as changes
            where sign = 0 order by 1
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do provinces.append("'" ~ (row[0] | replace("'", "''")) ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(provinces | join(', ') if provinces else 'select null::text where false') }}
{%- endmacro %}


{#- Post-hook of a consumer: the changes it applied are no longer needed. -#}
{% macro consume_row_changes(producer) -%}
    {%- set log = row_changes_relation(ref(producer)) -%}
    do $$ begin
        if to_regclass('{{ log }}') is not null then
            delete from {{ log }} where consumer = '{{ this.identifier }}';
        end if;
    end $$
{%- endmacro %}
