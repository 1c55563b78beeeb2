{#- Fails on every combination of the columns that occurs more than once. When a unique index
    (or primary key) of the table is on exactly these columns, the database already refuses
    duplicates of non-null values: only combinations with a null can repeat, and only those
    rows are checked (none when every column is NOT NULL). The large incremental tables then
    cost a filter, not a sort of every row, each night. -#}
{% test unique_combination(model, columns) %}

{%- set found = namespace(indexed=false, not_null=false) -%}
{%- if execute -%}
    {%- set check -%}
        select
            coalesce(bool_or(true), false) as indexed,
            coalesce(bool_or(all_not_null), false) as not_null
        from (
            select (
                select bool_and(att.attnotnull)
                from pg_attribute as att
                where att.attrelid = idx.indrelid and att.attnum = any(idx.indkey)
            ) as all_not_null
            from pg_index as idx
            where idx.indrelid = to_regclass('{{ model.include(database=false) }}')
                and idx.indisunique
                and idx.indpred is null
                and idx.indexprs is null
                and (
                    select array_agg(att.attname::text order by att.attname)
                    from pg_attribute as att
                    where att.attrelid = idx.indrelid and att.attnum = any(idx.indkey)
                ) = (
                    select array_agg(name order by name)
                    from unnest(array['{{ columns | join("', '") }}']) as name
                )
        ) as unique_indexes
    {%- endset -%}
    {%- set row = run_query(check).rows[0] -%}
    {%- set found.indexed = row[0] -%}
    {%- set found.not_null = row[1] -%}
{%- endif %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if found.indexed and found.not_null %}
-- enforced by a unique index on NOT NULL columns
where false
{%- elif found.indexed %}
-- a unique index refuses duplicates of non-null values: only those with a null can repeat
where {{ columns | join(' is null or ') }} is null
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
