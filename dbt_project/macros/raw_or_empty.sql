{#- A raw table, or an empty relation of the raw layer's columns when the table does not exist
    yet (a source that has never loaded: its first extraction failed, or it is not deployed).
    The staging models read the table once it appears (an incremental one then reads it whole:
    it holds nothing of it yet); the other sources' marts build meanwhile. -#}
{% macro raw_or_empty(source_relation) -%}
    {%- set found = none -%}
    {%- if execute and source_relation.identifier is not none
            and source_relation.schema is not none -%}
        {%- set found = adapter.get_relation(
            database=source_relation.database,
            schema=source_relation.schema,
            identifier=source_relation.identifier) -%}
    {%- endif -%}
    {%- if found is none and execute and source_relation.identifier is not none
            and source_relation.schema is not none -%}
        (
            select
                null::text as batch_id, null::text as province_code, null::text as source, null::text as entity,
                null::timestamptz as window_start, null::timestamptz as window_end,
                null::timestamptz as extracted_at, null::text as record_key,
                null::timestamptz as record_updated_at, null::text as payload_hash,
                null::jsonb as payload
            where false
        )
    {%- else -%}
        {{ source_relation }}
    {%- endif -%}
{%- endmacro %}
