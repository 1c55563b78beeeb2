{#- Incremental models remember, per province and per input stream, how far the data they
    were built from reached: intermediate.incremental_watermarks (model, province_code,
    stream, watermark). A model's post-hook saves the latest update of each stream it read
    (save_watermarks); its next incremental run rebuilds what changed after that, minus the
    look-back (rebuild_keys). A stream is its own clock: a source that loads late (its
    extraction failed for a few nights) is caught up on its own watermark, not behind the
    others'. A model without saved watermarks (first run, new province, state lost)
    rebuilds everything: safe. The table is created by the on-run-start hook. -#}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='intermediate', identifier='incremental_watermarks')) }}
{%- endmacro %}


{% macro ensure_incremental_state() -%}
    {#- only when missing: `create schema if not exists` needs CREATE on the database, which
        the transformer login does not have -#}
    do $$ begin
        if not exists (select from pg_namespace where nspname = '{{ incremental_state_relation().schema }}') then
            create schema {{ incremental_state_relation().schema }};
        end if;
    end $$;
    create table if not exists {{ incremental_state_relation() }} (
        model text not null,
        province_code text not null,
        stream text not null,
        watermark timestamptz,
        fingerprint text,
        saved_at timestamptz not null default now(),
        primary key (model, province_code, stream)
    );
    alter table {{ incremental_state_relation() }} add column if not exists fingerprint text
{%- endmacro %}


{#- The provinces present in `relation` (with province_code leading an index): a loose index
    scan, one probe per province, rather than reading the table. -#}
{% macro provinces_in(relation) -%}
    (
        with recursive found as (
            select min(province_code) as province_code from {{ relation }} as scanned
            union all
            select (
                select min(scanned.province_code) from {{ relation }} as scanned
                where scanned.province_code > found.province_code
            )
            from found
            where found.province_code is not null
        )
        select province_code from found where province_code is not null
    )
{%- endmacro %}


{#- Per province, the latest `column` of `relation`: how far each province's data reaches. One
    backward probe of an index on (province_code, column) per province; OFFSET 0 keeps the
    planner from pulling the probes up into the query that joins this, where they would run
    once per joined row. -#}
{% macro latest_per_province(relation, column='updated_at') -%}
    (
        select
            provinces.province_code,
            (
                select latest.{{ column }} from {{ relation }} as latest
                where latest.province_code = provinces.province_code
                    and latest.{{ column }} is not null
                order by latest.{{ column }} desc
                limit 1
            ) as latest
        from {{ provinces_in(relation) }} as provinces
        offset 0
    )
{%- endmacro %}


{#- Post-hook: save, per province, the latest update of every stream the model read.
    streams: {name: relation with province_code and updated_at}; fingerprints: {name: query
    of (province_code, fingerprint)}, the state of a small input whose any change rebuilds
    the whole province (compared, not dated: see rebuild_keys). -#}
{% macro save_watermarks(streams, fingerprints={}) -%}
    {%- for name, relation in streams.items() %}
    insert into {{ incremental_state_relation() }} (model, province_code, stream, watermark)
    select '{{ this.identifier }}', province_code, '{{ name }}', latest
    from {{ latest_per_province(relation) }} as latest
    on conflict (model, province_code, stream)
        do update set watermark = excluded.watermark, saved_at = now();
    {%- endfor %}
    {%- for name, query in fingerprints.items() %}
    insert into {{ incremental_state_relation() }} (model, province_code, stream, fingerprint)
    select '{{ this.identifier }}', province_code, '{{ name }}', fingerprint
    from {{ query }} as current_state
    on conflict (model, province_code, stream)
        do update set fingerprint = excluded.fingerprint, saved_at = now();
    {%- endfor %}
{%- endmacro %}


{#- The records an incremental run rebuilds, per province, from `sources` (a list of dicts):
      {'stream': s, 'relation': r, 'key': k}
          the rows of r (province_code, updated_at) updated after the watermark of stream s
          give their key k (or 'key_expr': an expression of the row `changed`);
      {'stream': s, 'relation': r, 'key': k, 'open_until': e}
          the rows of r whose e (when the record stopped changing with "as of": its end, or
          'infinity' while open) is after the watermark of s: records judged at the data's
          as-of, which moves every night;
      {'stream': s, 'relation': r, 'key': k, 'via': {'relation': v, 'from': f, 'key': kv}}
          the keys k of r changed after s's watermark, mapped to the keys kv of the rows of v
          whose f is one of them (e.g. the payments of a changed dossier; v is read through
          its index on (province_code, f));
      {'stream': s, 'fingerprint': q, 'whole_province': true}
          q (a query of (province_code, fingerprint)) differing from the fingerprint saved
          by the run before rebuilds the whole province (a change of the procedure catalogue
          re-judges every dossier). A state, not a date: no look-back makes it fire twice.
    Returns a list of {'province': p, 'whole': bool, 'keys': '{…}' (a text[] literal)},
    rendered as a filter by rebuild_filter. Outside an incremental run: none (no filter). -#}
{% macro rebuild_keys(sources) -%}
    {#- unit tests (no `this`) and full builds rebuild everything -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = adapter.get_relation(
        database=target.database, schema=incremental_state_relation().schema,
        identifier=incremental_state_relation().identifier) -%}
    {%- set lookback = "interval '" ~ var('incremental_lookback_hours') ~ " hours'" -%}
    {%- set streams = [] -%}
    {%- for source in sources if source['stream'] not in streams and not source.get('fingerprint') -%}
        {%- do streams.append(source['stream']) -%}
    {%- endfor -%}
    {%- set query -%}
        with

        provinces as (
            {%- for source in sources if source.get('relation') %}
            select province_code from {{ provinces_in(source['relation']) }} as found_{{ loop.index }}
            {{ "union" if not loop.last }}
            {%- endfor %}
        ),

        since as (
            select
                provinces.province_code
                {%- for stream in streams %},
                {%- if state is none %}
                '-infinity'::timestamptz as since_{{ loop.index }}
                {%- else %}
                coalesce(
                    (
                        select saved.watermark from {{ state }} as saved
                        where saved.model = '{{ this.identifier }}'
                            and saved.stream = '{{ stream }}'
                            and saved.province_code = provinces.province_code
                    ) - {{ lookback }},
                    '-infinity'::timestamptz
                ) as since_{{ loop.index }}
                {%- endif %}
                {%- endfor %}
            from provinces
        )

        select
            since.province_code,
            false
            {%- for source in sources if source.get('whole_province') %}
            or (
                select current_state.fingerprint from {{ source['fingerprint'] }} as current_state
                where current_state.province_code = since.province_code
            ) is distinct from (
                {%- if state is none %}
                null::text
                {%- else %}
                select saved.fingerprint from {{ state }} as saved
                where saved.model = '{{ this.identifier }}'
                    and saved.stream = '{{ source['stream'] }}'
                    and saved.province_code = since.province_code
                {%- endif %}
            )
            {%- endfor %} as whole,
            coalesce(
                (
                    select array_agg(distinct rebuilt.record_key)
                    from (
                        select null::text as record_key where false
                        {%- for source in sources if not source.get('whole_province') %}
                        {%- set since = 'since.since_' ~ (streams.index(source['stream']) + 1) %}
                        union all
                        {%- if source.get('via') %}
                        select mapped.{{ source['via']['key'] }}
                        from {{ source['via']['relation'] }} as mapped
                        where mapped.province_code = since.province_code
                            and mapped.{{ source['via']['from'] }} in (
                                select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                                from {{ source['relation'] }} as changed
                                where changed.province_code = since.province_code
                                    and changed.updated_at > {{ since }}
                            )
                        {%- elif source.get('open_until') %}
                        select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                        from {{ source['relation'] }} as changed
                        where changed.province_code = since.province_code
                            and {{ source['open_until'] }} >= {{ since }}
                        {%- else %}
                        select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                        from {{ source['relation'] }} as changed
                        where changed.province_code = since.province_code
                            and changed.updated_at > {{ since }}
                        {%- endif %}
                        {%- endfor %}
                    ) as rebuilt
                    where rebuilt.record_key is not null
                ),
                '{}'
            )::text as record_keys
        from since
        order by since.province_code
    {%- endset -%}
    {%- set result = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do result.append({'province': row[0], 'whole': row[1], 'keys': row[2]}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{#- The filter of an incremental run's input: the rows of the provinces and keys rebuild_keys
    returned, `key_expr` being the key's column in that input; `true` outside an incremental
    run, `false` when nothing is to be rebuilt. Key lists are literals so the filter is
    pushed down to the inputs' indexes on (province_code, key). -#}
{% macro rebuild_filter(rebuild, key_expr, province_expr='province_code') -%}
    {%- if rebuild is none -%}
        true
    {%- else -%}
        {%- set parts = [] -%}
        {%- for part in rebuild -%}
            {%- set province = "'" ~ (part['province'] | replace("'", "''")) ~ "'" -%}
            {%- if part['whole'] -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ')') -%}
            {%- elif part['keys'] != '{}' -%}
                {%- do parts.append(
                    '(' ~ province_expr ~ ' = ' ~ province ~ ' and ' ~ key_expr ~ " = any('"
                    ~ (part['keys'] | replace("'", "''")) ~ "'::text[]))") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if parts -%}({{ parts | join(' or ') }}){%- else -%}false{%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of an incremental model with several rows per rebuilt key (or a key that may now
    yield none): delete the rows the run rebuilds, so the `append` strategy leaves nothing
    stale. Computed again at run time from the same state and data as the model's SQL. -#}
{% macro delete_rebuilt_rows(sources, key_column) -%}
    {%- set rebuild = rebuild_keys(sources) -%}
    {%- if rebuild is none -%}
        select 1
    {%- else -%}
        delete from {{ this }} where {{ rebuild_filter(rebuild, key_column) }}
    {%- endif -%}
{%- endmacro %}
