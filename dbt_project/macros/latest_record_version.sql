{#- The latest version of every record of a raw table: by the record's own update time,
    then by extraction time (a re-extraction of the same version wins), then by hash so the
    choice is deterministic. -#}
{% macro latest_record_version(source_relation) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by record_key
                order by record_updated_at desc nulls last, extracted_at desc, payload_hash desc
            ) as version_rank
        from {{ source_relation }}
    ) as ranked_versions
    where version_rank = 1
{%- endmacro %}
