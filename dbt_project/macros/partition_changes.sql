{#- Which periods changed: intermediate.incremental_changes (model, province_code,
    period_grain, period_start, seq). A producer (an incremental model whose rows belong to
    periods) logs, after each run, the periods whose rows it actually changed: its pre-hook
    keeps a hash of every row it is about to rebuild (snapshot_rebuilt_rows), its post-hook
    compares them with the rows it wrote (log_changed_periods) and logs the periods of the
    rows that differ, each with a new sequence number. period_grain is 'day' (any period
    containing that day), 'month', 'quarter', 'year', 'legal_quarter', or '*' (everything of
    the province: the producer was rebuilt in full). A consumer (a period mart) rebuilds the
    periods logged since the position it saved after its last run (touched_partitions). The
    log keeps one row per model, province and period: it grows with time, not volume. -#}

{% macro changes_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='intermediate', identifier='incremental_changes')) }}
{%- endmacro %}


{% macro changes_sequence() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='intermediate', identifier='incremental_changes_seq'
    ).include(database=false)) }}
{%- endmacro %}


{% macro ensure_partition_changes() -%}
    create sequence if not exists {{ changes_sequence() }};
    create table if not exists {{ changes_relation() }} (
        model text not null,
        province_code text not null,
        period_grain text not null,
        period_start date not null,
        seq bigint not null,
        primary key (model, province_code, period_grain, period_start)
    );
    create index if not exists incremental_changes_seq_ix on {{ changes_relation() }} (model, seq)
{%- endmacro %}


{#- Pre-hook of a producer: keep (province, row hash, periods) of the rows the run is about to
    rebuild. `rebuilt`: the run's filter (rebuild_filter), `periods`: the SQL of a row `t`'s
    periods as a list of (grain, start) pairs, e.g. "('day', t.received_date)". -#}
{% macro snapshot_rebuilt_rows(rebuilt, periods) -%}
    drop table if exists pg_temp.rows_before_rebuild;
    {%- if is_incremental() %}
    create temporary table rows_before_rebuild as
    select t.province_code, md5(t::text) as row_hash, changed.changed_grain as period_grain,
        changed.changed_start as period_start
    from {{ this }} as t
    cross join lateral (values {{ periods | join(', ') }}) as changed (changed_grain, changed_start)
    where {{ rebuilt }}
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}


{#- Post-hook of a producer: log the periods of the rows that changed (rows found on one side
    only, before or after; the rows after hashed in one pass, not once per side of two
    EXCEPTs); after a full build, '*' for every province. -#}
{% macro log_changed_periods(rebuilt, periods) -%}
    {%- if is_incremental() %}
    insert into {{ changes_relation() }} (model, province_code, period_grain, period_start, seq)
    select '{{ this.identifier }}', province_code, period_grain, period_start,
        nextval('{{ changes_sequence() }}')
    from (
        select distinct province_code, period_grain, period_start
        from (
            select province_code, row_hash, period_grain, period_start, 1 as side
            from pg_temp.rows_before_rebuild
            union all
            select t.province_code, md5(t::text), changed.changed_grain, changed.changed_start, 2
            from {{ this }} as t
            cross join lateral (values {{ periods | join(', ') }})
                as changed (changed_grain, changed_start)
            where {{ rebuilt }}
        ) as both_sides
        where period_start is not null
        group by province_code, row_hash, period_grain, period_start
        having min(side) = max(side)
    ) as changed_periods
    on conflict (model, province_code, period_grain, period_start)
        do update set seq = excluded.seq;
    drop table pg_temp.rows_before_rebuild
    {%- else %}
    insert into {{ changes_relation() }} (model, province_code, period_grain, period_start, seq)
    select '{{ this.identifier }}', province_code, '*', date '0001-01-01',
        nextval('{{ changes_sequence() }}')
    from {{ provinces_in(this) }} as provinces
    on conflict (model, province_code, period_grain, period_start)
        do update set seq = excluded.seq
    {%- endif %}
{%- endmacro %}


{#- Post-hook of a consumer: the position in the log it has read up to. -#}
{% macro save_changes_position() -%}
    insert into {{ incremental_state_relation() }} (model, province_code, stream, fingerprint)
    select '{{ this.identifier }}', '*', 'changes', coalesce(max(seq), 0)::text
    from {{ changes_relation() }}
    on conflict (model, province_code, stream)
        do update set fingerprint = excluded.fingerprint, saved_at = now()
{%- endmacro %}


{#- The start of the period of `grain` containing the day `day_expr` (a date). A legal
    reporting quarter runs from the 15th of the month before the quarter to the 14th of its
    last month (Decree 09/2019). -#}
{% macro period_containing(grain, day_expr) -%}
    {%- if grain == 'legal_quarter' -%}
        (date_trunc('quarter', {{ day_expr }} + interval '1 month' - interval '14 days')
            - interval '1 month' + interval '14 days')::date
    {%- else -%}
        date_trunc('{{ grain }}', {{ day_expr }})::date
    {%- endif -%}
{%- endmacro %}


{#- The periods an incremental run of a period mart rebuilds, per province:
      producers: the models whose logged changes (partition_changes) feed it;
      grains: the period grains the mart holds;
      asof: {'relation': r} whose latest updated_at per province is the data's as-of the mart
        judges open records at: the periods containing the days between the as-of of the run
        before and today's are rebuilt;
      fingerprints: {name: query of (province_code, fingerprint)}: a small input (the
        procedure catalogue) whose any change rebuilds the whole province;
      keyed_fingerprints: likewise, the fingerprint a list 'key=hash,…' (macro
        keyed_fingerprint): only a changed item that existed before rebuilds the province
        (a new agency only has rows in periods its changes logged).
    A logged day maps to every grain's period containing it; a logged period of a grain the
    mart does not hold is not its concern (the month rows of a producer with quarters too). Returns a list of {'province', 'whole', 'periods': [(grain,
    'yyyy-mm-dd')]}, or none outside an incremental run (everything is built). -#}
{% macro touched_partitions(producers, grains, asof=none, fingerprints={}, keyed_fingerprints={}) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = incremental_state_relation() -%}
    {%- set tz = var('local_timezone') -%}
    {%- set query -%}
        with

        position as (
            select (
                select saved.fingerprint::bigint from {{ state }} as saved
                where saved.model = '{{ this.identifier }}' and saved.stream = 'changes'
                    and saved.province_code = '*'
            ) as seq
        ),

        logged as (
            select changes.province_code, changes.period_grain, changes.period_start
            from {{ changes_relation() }} as changes
            cross join position
            where changes.model in ('{{ producers | join("', '") }}')
                and changes.seq > coalesce(position.seq, -1)
        ),

        provinces as (
            select province_code from logged
            {%- if asof is not none %}
            union
            select province_code from {{ provinces_in(asof['relation']) }} as found
            {%- endif %}
            {%- for name, query in (fingerprints.items() | list) + (keyed_fingerprints.items() | list) %}
            union
            select province_code from {{ query }} as current_state
            {%- endfor %}
        ),
        {%- for name, query in keyed_fingerprints.items() %}

        saved_{{ name }} as materialized (
            select saved.province_code, saved_item.item
            from {{ state }} as saved
            cross join lateral unnest(string_to_array(saved.fingerprint, ',')) as saved_item (item)
            where saved.model = '{{ this.identifier }}' and saved.stream = '{{ name }}'
        ),

        changed_{{ name }} as (
            -- the items that differ from the saved ones, of a key saved before: set operations
            -- (hashed), not a join of the two lists on the key, which the planner ran as a
            -- nested loop over every pair of items (a province's procedures squared: 1.4 s)
            select province_code, split_part(item, '=', 1) as item_key
            from (
                select current_state.province_code, current_item.item
                from {{ query }} as current_state
                cross join lateral unnest(string_to_array(current_state.fingerprint, ','))
                    as current_item (item)
                except
                select province_code, item from saved_{{ name }}
            ) as differing
            intersect
            select province_code, split_part(item, '=', 1) from saved_{{ name }}
        ),
        {%- endfor %}

        whole as (
            -- no position saved (state lost), a producer rebuilt in full, or a changed input
            select provinces.province_code
            from provinces cross join position
            where position.seq is null
                or exists (
                    select 1 from logged
                    where logged.province_code = provinces.province_code
                        and logged.period_grain = '*'
                )
            {%- for name, query in fingerprints.items() %}
                or (
                    select current_state.fingerprint from {{ query }} as current_state
                    where current_state.province_code = provinces.province_code
                ) is distinct from (
                    select saved.fingerprint from {{ state }} as saved
                    where saved.model = '{{ this.identifier }}' and saved.stream = '{{ name }}'
                        and saved.province_code = provinces.province_code
                )
            {%- endfor %}
            {%- for name, query in keyed_fingerprints.items() %}
                or provinces.province_code in (select province_code from changed_{{ name }})
            {%- endfor %}
        ),

        days as (
            select province_code, period_start as day from logged
            where period_grain = 'day'
            {%- if asof is not none %}
            union
            -- the days the as-of moved over
            select current_asof.province_code, day::date
            from {{ latest_per_province(asof['relation']) }} as current_asof
            cross join lateral (
                select saved.watermark from {{ state }} as saved
                where saved.model = '{{ this.identifier }}' and saved.stream = 'asof'
                    and saved.province_code = current_asof.province_code
            ) as saved_asof
            cross join lateral generate_series(
                least(saved_asof.watermark, current_asof.latest) at time zone '{{ tz }}',
                greatest(saved_asof.watermark, current_asof.latest) at time zone '{{ tz }}',
                interval '1 day'
            ) as day
            {%- endif %}
        ),

        periods as (
            select province_code, period_grain, period_start from logged
            where period_grain in ('{{ grains | join("', '") }}')
            {%- for grain in grains %}
            union
            select province_code, '{{ grain }}', {{ period_containing(grain, 'day') }} from days
            {%- endfor %}
        )

        select
            provinces.province_code,
            provinces.province_code in (select province_code from whole) as whole,
            coalesce((
                select string_agg(periods.period_grain || '@' || periods.period_start, ','
                    order by periods.period_grain, periods.period_start)
                from periods where periods.province_code = provinces.province_code
            ), '') as periods
        from (select distinct province_code from provinces) as provinces
        {%- if asof is not none %}
        union
        -- a province whose as-of was never saved: everything
        select found.province_code, true, ''
        from {{ provinces_in(asof['relation']) }} as found
        where not exists (
            select 1 from {{ state }} as saved
            where saved.model = '{{ this.identifier }}' and saved.stream = 'asof'
                and saved.province_code = found.province_code
        )
        {%- endif %}
        order by 1, 2 desc
    {%- endset -%}
    {%- set result = [] -%}
    {%- set seen = [] -%}
    {%- for row in run_query(query).rows if row[0] not in seen -%}
        {%- do seen.append(row[0]) -%}
        {%- set periods = [] -%}
        {%- for item in (row[2].split(',') if row[2] else []) -%}
            {%- do periods.append(item.split('@')) -%}
        {%- endfor -%}
        {%- do result.append({'province': row[0], 'whole': row[1], 'periods': periods}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{#- The filter of a period mart's rows (or its inputs') to the partitions touched_partitions
    returned: `true` outside an incremental run, `false` when nothing is to be rebuilt. -#}
{% macro partition_filter(touched, grain_expr='period_grain', start_expr='period_start',
                          province_expr='province_code', grain_values={}) -%}
    {%- if touched is none -%}
        true
    {%- else -%}
        {%- set parts = [] -%}
        {%- for part in touched -%}
            {%- set province = "'" ~ (part['province'] | replace("'", "''")) ~ "'" -%}
            {%- if part['whole'] -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ')') -%}
            {%- elif part['periods'] and grain_expr is none -%}
                {#- a mart of one grain: its period starts only -#}
                {%- set starts = [] -%}
                {%- for grain, start in part['periods'] -%}
                    {%- do starts.append("date '" ~ start ~ "'") -%}
                {%- endfor -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ' and '
                    ~ start_expr ~ ' in (' ~ starts | join(', ') ~ '))') -%}
            {%- elif part['periods'] -%}
                {%- set pairs = [] -%}
                {%- for grain, start in part['periods'] -%}
                    {%- do pairs.append("('" ~ grain_values.get(grain, grain) ~ "', date '" ~ start ~ "')") -%}
                {%- endfor -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ' and ('
                    ~ grain_expr ~ ', ' ~ start_expr ~ ') in (' ~ pairs | join(', ') ~ '))') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if parts -%}({{ parts | join(' or ') }}){%- else -%}false{%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- A date range covering the touched periods of each province, for reading an input by its
    date (through an index on (province_code, date)): `date_expr` in [first start, last end). -#}
{% macro partition_date_range(touched, date_expr, province_expr='province_code') -%}
    {%- if touched is none -%}
        true
    {%- else -%}
        {%- set lengths = {'month': '1 month', 'quarter': '3 months', 'legal_quarter': '3 months',
                           'year': '1 year'} -%}
        {%- set parts = [] -%}
        {%- for part in touched -%}
            {%- set province = "'" ~ (part['province'] | replace("'", "''")) ~ "'" -%}
            {%- if part['whole'] -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ')') -%}
            {%- elif part['periods'] -%}
                {%- set bounds = [] -%}
                {%- for grain, start in part['periods'] -%}
                    {%- do bounds.append("(date '" ~ start ~ "' + interval '" ~ lengths[grain] ~ "')::date") -%}
                {%- endfor -%}
                {%- set starts = [] -%}
                {%- for grain, start in part['periods'] -%}{%- do starts.append(start) -%}{%- endfor -%}
                {%- set starts = starts | sort -%}
                {%- do parts.append('(' ~ province_expr ~ ' = ' ~ province ~ ' and ' ~ date_expr
                    ~ " >= date '" ~ starts[0] ~ "' and " ~ date_expr ~ ' < greatest('
                    ~ bounds | join(', ') ~ '))') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if parts -%}({{ parts | join(' or ') }}){%- else -%}false{%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Post-hook of a consumer: its position in the log, its as-of and its fingerprints. -#}
{% macro save_consumer_state(asof=none, fingerprints={}, keyed_fingerprints={}) -%}
    {%- set all_fingerprints = {} -%}
    {%- do all_fingerprints.update(fingerprints) -%}
    {%- do all_fingerprints.update(keyed_fingerprints) -%}
    {{ save_changes_position() }};
    {{ save_watermarks({'asof': asof['relation']} if asof is not none else {}, all_fingerprints) }}
{%- endmacro %}


{#- A fingerprint listing items: 'md5(key)=md5(attributes),…' per province, from `relation`. -#}
{% macro keyed_fingerprint(relation, key_expr, attributes) -%}
    (
        select
            province_code,
            string_agg(md5({{ key_expr }}) || '=' || md5(concat_ws('|', {{ attributes | join(', ') }})),
                ',' order by {{ key_expr }}) as fingerprint
        from {{ relation }} as items
        group by province_code
    )
{%- endmacro %}


{#- The periods of a producer's row `t` for the log: the day of one of its dates, or its own
    (grain, start) columns. -#}
{% macro periods_by_day(date_column) -%}
    {{ return(["('day', t." ~ date_column ~ ")"]) }}
{%- endmacro %}

{% macro periods_by_grain(grain_expr, start_column) -%}
    {{ return(["(" ~ grain_expr ~ ", t." ~ start_column ~ ")"]) }}
{%- endmacro %}


{#- A portal copy's period: its local receipt day. -#}
{% macro sync_receipt_periods() -%}
    {{ return(["('day', (t.received_at at time zone '" ~ var('local_timezone') ~ "')::date)"]) }}
{%- endmacro %}

{% macro periods_by_month(start_column) -%}
    {{ return(["('month', t." ~ start_column ~ ")"]) }}
{%- endmacro %}

{#- A form 06 row's period: a calendar quarter, or a legal reporting quarter. -#}
{% macro form06_periods() -%}
    {{ return(["(case t.period_kind when 'calendar' then 'quarter' else 'legal_quarter' end, t.period_start)"]) }}
{%- endmacro %}

{#- Pre-hook of a period mart: delete the partitions the run rebuilds (nothing on a full build). -#}
{% macro delete_partitions(filter) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ filter }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
