{#- The latest version of every record of a raw table, per province and record key (provinces'
    systems may reuse keys): by the record's own update time, then by extraction time (a
    re-extraction of the same version wins), then by hash so the choice is deterministic.
    DISTINCT ON rather than row_number() = 1: the planner then estimates one row per key
    instead of a handful, and does not pick nested loops that rescan the view.

    changed_only (incremental models): on an incremental run, only the records with a version
    loaded since the model's previous build (macro changed_records: raw's extracted_at, our
    load clock), every version of them read through raw's index on (province_code,
    record_key). Which version wins is unchanged: a version loaded late but older at the
    source is read, and loses. -#}
{% macro latest_record_version(source_relation, changed_only=false, watermark_column='updated_at') -%}
    select distinct on (province_code, record_key)
        *,
        1 as version_rank
    from {{ raw_or_empty(source_relation) }} as raw_versions
    {%- if changed_only and is_incremental() %}
    where {{ changed_records(raw_changes(source_relation), 'record_key', watermark_column) }}
    {%- endif %}
    order by province_code, record_key, record_updated_at desc nulls last, extracted_at desc,
        payload_hash desc
{%- endmacro %}


{#- Every version of a raw table as (province_code, record_key, extracted_at, updated_at):
    what changed_records and rebuild_keys read to find the records loaded since a load mark
    (raw's index on (province_code, extracted_at)); updated_at, the source's time, is what
    save_watermarks keeps as the data's time. -#}
{% macro raw_changes(source_relation) -%}
    (
        select province_code, record_key, extracted_at, record_updated_at as updated_at
        from {{ raw_or_empty(source_relation) }} as raw_versions
    )
{%- endmacro %}


{#- On an incremental run of a model holding several rows per record (a dossier's steps or
    supplement requests), a pre-hook deleting the rows of the records the run rebuilds: with
    the `append` strategy, a list that shrank leaves no row behind. -#}
{% macro delete_changed_rows(source_relation, key_column, watermark_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ changed_records(raw_changes(source_relation), 'record_key', watermark_column, key_column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
