{#- The keys of the records of `changes_relation` (a staging view with `key_column` and
    `updated_at`) updated since the latest `watermark_column` of the incremental model `this`
    minus the look-back, as a SQL text[] literal. Inlined as `key = any(<literal>)`, the
    filter is pushed down into the staging views' DISTINCT ON (record_key) and read through
    raw's index, so a nightly run reads the day's records, not the whole history. -#}
{% macro changed_record_keys(changes_relation, key_column, watermark_column) -%}
    {%- if execute -%}
        {%- set query -%}
            select coalesce(array_agg(distinct {{ key_column }})::text, '{}')
            from {{ changes_relation }}
            where updated_at > (
                select coalesce(max({{ watermark_column }}), '-infinity'::timestamptz)
                    - interval '{{ var("incremental_lookback_hours") }} hours'
                from {{ this }}
            )
        {%- endset -%}
        {%- set keys = run_query(query).columns[0].values()[0] -%}
        '{{ keys | replace("'", "''") }}'::text[]
    {%- else -%}
        '{}'::text[]
    {%- endif -%}
{%- endmacro %}
