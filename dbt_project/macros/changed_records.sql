{#- A predicate selecting the records changed since the incremental model `this` last ran,
    per province: the records of `changes_relation` (raw_changes: province_code, `key_column`
    and extracted_at) loaded after the load mark the previous build of `this` saved
    (load_mark_since, macros/incremental_state.sql): a version written late at the source is
    loaded late, so it is read whatever its update time. A province `this` does not hold yet
    is read whole. (`watermark_column` is no longer read: the load clock is raw's.)

    Rendered as literal key lists, one per province:
      ((province_code = 'H40' and <key> = any('{…}'::text[])) or (province_code = 'H45' and …))
    so the filter is pushed down into the staging views' DISTINCT ON (province_code,
    record_key) and read through raw's index on (province_code, record_key): a nightly run
    reads the day's records, not the whole history. `false` when nothing changed.

    The provinces present in the changes are found with a loose index scan (one index probe
    per province), the night's loads through raw's index on (province_code, extracted_at). -#}
{% macro changed_records(changes_relation, key_column, watermark_column, key_expr=none) -%}
    {%- set key_expr = key_expr or key_column -%}
    {%- if execute and this is not none and is_incremental() -%}
        {%- set since_query -%}
            with recursive provinces as (
                select min(province_code) as province_code from {{ changes_relation }} as changes
                union all
                select (
                    select min(changes.province_code) from {{ changes_relation }} as changes
                    where changes.province_code > provinces.province_code
                )
                from provinces
                where provinces.province_code is not null
            ),

            since as (
                select
                    provinces.province_code,
                    case
                        when exists (
                            select from {{ this }} as done
                            where done.province_code = provinces.province_code
                        ) then {{ load_mark_since() }}
                        else '-infinity'::timestamptz
                    end as since
                from provinces
                where provinces.province_code is not null
            )

            -- as JSON text: an ISO time whatever the session's DateStyle, left as text by agate
            select since.province_code, json_build_array(since.since)::text as since
            from since
            order by since.province_code
        {%- endset -%}
        {#- the load mark then written as a literal: compared with a parameter, the planner
            guesses a third of raw's versions and reads the whole table -#}
        {%- set query -%}
            {%- for row in run_query(since_query).rows %}
            {%- set province = "'" ~ (row[0] | replace("'", "''")) ~ "'::text" %}
            select
                {{ province }} as province_code,
                coalesce(
                    (
                        select array_agg(distinct changes.{{ key_column }})
                        from {{ changes_relation }} as changes
                        where changes.province_code = {{ province }}
                            and changes.extracted_at > '{{ fromjson(row[1])[0] }}'::timestamptz
                            and changes.{{ key_column }} is not null
                    ),
                    '{}'
                )::text as record_keys
            {{ 'union all' if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- set rows = (run_query(query).rows | sort(attribute=0)) if query | trim else [] -%}
        {%- set parts = [] -%}
        {%- for row in rows if row[1] != '{}' -%}
            {%- do parts.append(
                "(province_code = '" ~ (row[0] | replace("'", "''")) ~ "' and " ~ key_expr
                ~ " = any('" ~ (row[1] | replace("'", "''")) ~ "'::text[]))") -%}
        {%- endfor -%}
        {%- if parts -%}({{ parts | join(' or ') }}){%- else -%}false{%- endif -%}
    {%- else -%}
        {#- not an incremental run: everything (rendered for hooks of a full build) -#}
        true
    {%- endif -%}
{%- endmacro %}
