{#- The latest version of every record of a raw table: by the record's own update time,
    then by extraction time (a re-extraction of the same version wins), then by hash so the
    choice is deterministic. DISTINCT ON rather than row_number() = 1: the planner then
    estimates one row per key instead of a handful, and does not pick nested loops that
    rescan the view. -#}
{% macro latest_record_version(source_relation) -%}
    select distinct on (record_key)
        *,
        1 as version_rank
    from {{ raw_or_empty(source_relation) }} as raw_versions
    order by record_key, record_updated_at desc nulls last, extracted_at desc, payload_hash desc
{%- endmacro %}
