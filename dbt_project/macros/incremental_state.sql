{#- Incremental models remember what they have read.

    Which records changed is decided on our own load clock, raw's extracted_at (stamped by
    the loader when it publishes a window, indexed on (province_code, extracted_at)), never
    on the sources' update times: a version written late at the source is loaded late, so
    it is read by the next run whatever its record_updated_at, and a night that loaded
    nothing reads nothing again. Each dbt invocation takes one load mark before any model
    reads (take_load_mark, on-run-start); an incremental model that succeeds saves that mark
    (save_load_mark, a post-hook of every model) and its next run reads what was loaded
    after it (load_mark_since). The mark is exact without a safety margin: the loader stamps
    rows while holding the load-clock lock shared, and take_load_mark takes it exclusively
    for an instant, so a load that began before the mark commits before the mark is taken
    (its rows are read by this invocation) and a load that commits after it is stamped
    after it (read by the next). A margin of hours or days (the former 48-hour look-back)
    would make every night read again the nights before it; a margin of minutes would
    still make a quiet night read again the night before when dbt runs minutes after the
    load, as it does in the nightly DAG. Both stamps come from the server's clock.

    Besides the load clock, per province and per input stream,
    intermediate.incremental_watermarks (model, province_code, stream, watermark) keeps the
    data's time: the latest update of each stream the model read (save_watermarks), which
    the models judged at the data's "as of" compare with (open_until in rebuild_keys, the
    as-of of partition_changes); a stream a model has no saved row for is read whole (a new
    stream, a new province, state lost). The tables are created by the on-run-start hook. -#}

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
    alter table {{ incremental_state_relation() }} add column if not exists fingerprint text;
    -- the load mark each dbt invocation took (take_load_mark), kept a month for inquiry
    create table if not exists {{ load_runs_relation() }} (
        invocation_id text primary key,
        load_mark timestamptz not null,
        taken_at timestamptz not null default now()
    );
    -- per model, the load mark of the invocation that last built it, and the one before (what
    -- that invocation's own hooks read after the model saved its new mark)
    create table if not exists {{ load_marks_relation() }} (
        model text primary key,
        invocation_id text not null,
        loaded_through timestamptz not null,
        previous_loaded_through timestamptz,
        saved_at timestamptz not null default now()
    )
{%- endmacro %}


{% macro load_runs_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='intermediate', identifier='incremental_load_runs')) }}
{%- endmacro %}


{% macro load_marks_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='intermediate', identifier='incremental_load_marks')) }}
{%- endmacro %}


{#- On-run-start: this invocation's load mark, the load clock's time before which every
    loaded row is committed. The exclusive lock waits for the loads publishing now (they
    hold it shared until they commit); it is released when the hook's transaction commits,
    an instant later (also if it fails): loads wait for an instant, never for the build.
    Same key as cchc.extract.loader.LOAD_CLOCK_LOCK. -#}
{% macro take_load_mark() -%}
    do $$ begin
        perform pg_advisory_xact_lock(hashtext('cchc:raw-load-clock'));
        insert into {{ load_runs_relation() }} (invocation_id, load_mark)
        values ('{{ invocation_id }}', clock_timestamp())
        on conflict (invocation_id) do nothing;
        delete from {{ load_runs_relation() }} where taken_at < now() - interval '31 days';
    end $$
{%- endmacro %}


{#- Post-hook of every model: an incremental model built by this invocation has read
    everything loaded up to the invocation's mark, or up to the mark of an incremental model
    it reads if that one is behind (not built by this invocation: `dbt build --select`), so
    the rows that model writes later, stamped before this mark, are still read. -#}
{% macro save_load_mark() -%}
    {%- if config.get('materialized') == 'incremental' -%}
    {%- set upstream = [] -%}
    {%- for node in model.depends_on.nodes if node.startswith('model.') -%}
        {%- do upstream.append("'" ~ node.split('.')[-1] ~ "'") -%}
    {%- endfor %}
    insert into {{ load_marks_relation() }} as marks (model, invocation_id, loaded_through)
    select '{{ this.identifier }}', runs.invocation_id, least(runs.load_mark
        {%- if upstream %}, (
            select min(read.loaded_through) from {{ load_marks_relation() }} as read
            where read.model in ({{ upstream | join(', ') }}))
        {%- endif %})
    from {{ load_runs_relation() }} as runs
    where runs.invocation_id = '{{ invocation_id }}'
    on conflict (model) do update
        set previous_loaded_through = marks.loaded_through,
            loaded_through = excluded.loaded_through,
            invocation_id = excluded.invocation_id, saved_at = now()
        where marks.invocation_id <> excluded.invocation_id
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}


{#- The load-clock time after which an incremental run of `this` reads what was loaded: the
    mark saved by the previous invocation that built it ('-infinity' if none). The same
    value before and after this invocation saves its own mark (its post-hooks may ask). -#}
{% macro load_mark_since() -%}
    coalesce(
        (
            select case when marks.invocation_id = '{{ invocation_id }}'
                then marks.previous_loaded_through else marks.loaded_through end
            from {{ load_marks_relation() }} as marks
            where marks.model = '{{ this.identifier }}'
        ),
        '-infinity'::timestamptz
    )
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
          the rows of r (province_code, extracted_at: raw_changes or a staging table) loaded
          after the model's previous load mark give their key k (or 'key_expr': an
          expression of the row `changed`); a stream without a saved row: all of r;
      {'stream': s, 'relation': r, 'key': k, 'open_until': e}
          the rows of r whose e (when the record stopped changing with "as of": its end, or
          'infinity' while open) is at or after the data's time saved for s (watermark):
          records judged at the data's as-of, which moves every night;
      {'stream': s, 'relation': r, 'key': k, 'event': c}
          the rows of r whose moment c (an event of a record judged at the data's as-of, at or
          before today's as-of: open_dossier_events) is after the data's time saved for s,
          the as-of the previous run judged at: the records whose judgement the as-of's move
          can change ('provinces': a relation to find its provinces in instead of r, which
          would be computed whole for that);
      {'stream': s, 'relation': r, 'key': k, 'via': {'relation': v, 'from': f, 'key': kv}}
          the keys k of r loaded after the mark, mapped to the keys kv of the rows of v
          whose f is one of them (e.g. the payments of a changed dossier; v is read through
          its index on (province_code, f));
      {'stream': s, 'fingerprint': q, 'whole_province': true}
          q (a query of (province_code, fingerprint)) differing from the fingerprint saved
          by the run before rebuilds the whole province (a change of the procedure catalogue
          re-judges every dossier). A state, not a date.
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
    {%- set streams = [] -%}
    {%- for source in sources if source['stream'] not in streams and not source.get('fingerprint') -%}
        {%- do streams.append(source['stream']) -%}
    {%- endfor -%}
    {%- set since_query -%}
        with

        provinces as (
            {%- for source in sources if source.get('relation') %}
            select province_code
            from {{ provinces_in(source.get('provinces', source['relation'])) }} as found_{{ loop.index }}
            {{ "union" if not loop.last }}
            {%- endfor %}
        ),

        since as (
            select
                provinces.province_code
                {%- for stream in streams %},
                {%- if state is none %}
                '-infinity'::timestamptz as since_{{ loop.index }},
                '-infinity'::timestamptz as asof_{{ loop.index }}
                {%- else %}
                -- the load clock: what was loaded after the previous run, for a stream it read
                case when saved_{{ loop.index }}.stream is null then '-infinity'::timestamptz
                    else {{ load_mark_since() }} end as since_{{ loop.index }},
                -- the data's time the previous run reached (records open then are judged again)
                coalesce(saved_{{ loop.index }}.watermark, '-infinity'::timestamptz)
                    as asof_{{ loop.index }}
                {%- endif %}
                {%- endfor %}
            from provinces
            {%- if state is not none %}
            {%- for stream in streams %}
            left join {{ state }} as saved_{{ loop.index }}
                on saved_{{ loop.index }}.model = '{{ this.identifier }}'
                and saved_{{ loop.index }}.stream = '{{ stream }}'
                and saved_{{ loop.index }}.province_code = provinces.province_code
            {%- endfor %}
            {%- endif %}
        )

        -- as JSON text: ISO times whatever the session's DateStyle, that agate leaves as text
        select
            since.province_code,
            json_build_array(
                {%- for stream in streams %}
                since.since_{{ loop.index }}, since.asof_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            )::text as times
        from since
        order by since.province_code
    {%- endset -%}
    {#- The times are then written into the query as literals: compared with a parameter, the
        planner guesses a third of raw's versions and reads the whole table, where a literal
        lets it read the night's few through the index on (province_code, extracted_at). -#}
    {%- set query -%}
        {%- for row in run_query(since_query).rows %}
        {%- set province = "'" ~ (row[0] | replace("'", "''")) ~ "'::text" %}
        {%- set row_times = fromjson(row[1]) %}
        {%- set times = {} %}
        {%- for stream in streams %}
        {%- do times.update({
            'since_' ~ loop.index: "'" ~ row_times[2 * loop.index - 2] ~ "'::timestamptz",
            'asof_' ~ loop.index: "'" ~ row_times[2 * loop.index - 1] ~ "'::timestamptz"}) %}
        {%- endfor %}
        select
            {{ province }} as province_code,
            false
            {%- for source in sources if source.get('whole_province') %}
            or (
                select current_state.fingerprint from {{ source['fingerprint'] }} as current_state
                where current_state.province_code = {{ province }}
            ) is distinct from (
                {%- if state is none %}
                null::text
                {%- else %}
                select saved.fingerprint from {{ state }} as saved
                where saved.model = '{{ this.identifier }}'
                    and saved.stream = '{{ source['stream'] }}'
                    and saved.province_code = {{ province }}
                {%- endif %}
            )
            {%- endfor %} as whole,
            coalesce(
                (
                    select array_agg(distinct rebuilt.record_key)
                    from (
                        select null::text as record_key where false
                        {%- for source in sources if not source.get('whole_province') %}
                        {%- set since = times['since_' ~ (streams.index(source['stream']) + 1)] %}
                        {%- set asof = times['asof_' ~ (streams.index(source['stream']) + 1)] %}
                        union all
                        {%- if source.get('via') %}
                        select mapped.{{ source['via']['key'] }}
                        from {{ source['via']['relation'] }} as mapped
                        where mapped.province_code = {{ province }}
                            and mapped.{{ source['via']['from'] }} in (
                                select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                                from {{ source['relation'] }} as changed
                                where changed.province_code = {{ province }}
                                    and changed.extracted_at > {{ since }}
                            )
                        {%- elif source.get('event') %}
                        select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                        from {{ source['relation'] }} as changed
                        where changed.province_code = {{ province }}
                            and changed.{{ source['event'] }} > {{ asof }}
                        {%- elif source.get('open_until') %}
                        select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                        from {{ source['relation'] }} as changed
                        where changed.province_code = {{ province }}
                            and {{ source['open_until'] }} >= {{ asof }}
                        {%- else %}
                        select {{ source.get('key_expr', 'changed.' ~ source.get('key')) }}
                        from {{ source['relation'] }} as changed
                        where changed.province_code = {{ province }}
                            and changed.extracted_at > {{ since }}
                        {%- endif %}
                        {%- endfor %}
                    ) as rebuilt
                    where rebuilt.record_key is not null
                ),
                '{}'
            )::text as record_keys
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- set result = [] -%}
    {%- if query | trim -%}
    {%- for row in run_query(query).rows | sort(attribute=0) -%}
        {%- do result.append({'province': row[0], 'whole': row[1], 'keys': row[2]}) -%}
    {%- endfor -%}
    {%- endif -%}
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


{#- Post-hook of the staging models: the index on the load clock of an incremental table
    holding extracted_at, through which the models downstream find the records it rewrote
    since their previous run (rebuild_keys). `if not exists`: warehouses built before it get
    it at their next run. -#}
{% macro load_clock_index() -%}
    {%- if execute and config.get('materialized') == 'incremental'
            and 'extracted_at' in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    create index if not exists {{ this.identifier }}__extracted_ix
        on {{ this }} (province_code, extracted_at)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
