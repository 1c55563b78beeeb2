{#- What a nightly run of the 766 causes counts again. The counting is in two parts:
      int_qd766_cause_contributions: per record (a dossier in both systems with its ratings,
        or a petition), its row in each step of the chain (its unit and month, its flags).
        A record depends only on its own versions, on the portal's snapshot day of the month
        it was first received in, and on the unit register; so a run rebuilds the records
        loaded since the run before (a rating gives the dossiers it rated, the old one too),
        the records first received in a month whose snapshot day moved (a publication earlier
        than the 5th: the month in progress, whose figures the portal publishes again every
        night) that have a version stamped between the old and the new day (the whole month
        if a unit ended between them), and the whole province when the unit register changed. It logs the
        months whose rows changed (log_changed_periods).
      mart_qd766_reconciliation_causes: re-sums those months, and those the score marts
        logged, from the contributions (an index on (province_code, period_start)). -#}

{#- Per province, the unit register as the contributions read it: each unit's latest
    successor and end. -#}
{% macro causes_unit_fingerprints() -%}
    (
        select province_code, md5(string_agg(unit_code || '>' || coalesce(successor, '') || '@'
            || coalesce(ended, ''), ',' order by unit_code)) as fingerprint
        from (
            select distinct on (raw.province_code, raw.payload ->> 'MaDonVi')
                raw.province_code,
                raw.payload ->> 'MaDonVi' as unit_code,
                raw.payload ->> 'MaDonViMoi' as successor,
                raw.payload ->> 'NgayHetHieuLuc' as ended
            from {{ raw_or_empty(source('onestop', 'administrative_units')) }} as raw
            where raw.payload ->> 'MaDonVi' is not null
            order by raw.province_code, raw.payload ->> 'MaDonVi',
                raw.payload ->> 'NgayCapNhat' desc nulls last, raw.record_updated_at desc,
                raw.extracted_at desc, raw.payload_hash desc
        ) as units
        group by province_code
    )
{%- endmacro %}


{#- Per province and month of the portal's figures, when it took them: 00:00 on the 5th of
    the next month, or its publication (local time) if earlier. -#}
{% macro causes_snapshot_days() -%}
    (
        select province_code, period_start,
            least((period_start + interval '1 month 4 days')::timestamp, published_at)
                as snapshot_at
        from (
            select province_code, period_start,
                min((published_at at time zone '{{ var('local_timezone') }}')::timestamp)
                    as published_at
            from {{ ref('mart_qd766_official') }}
            where scope_kind = 'agency' and not is_group_total
            group by province_code, period_start
        ) as published
    )
{%- endmacro %}


{#- Per province, the months whose snapshot day is a publication before the 5th, as
    'yyyy-mm-dd=yyyymmddhh24miss,…' (a month not listed is taken on the 5th). -#}
{% macro causes_snapshot_fingerprints() -%}
    (
        select province_code, string_agg(to_char(period_start, 'YYYY-MM-DD') || '='
            || to_char(snapshot_at, 'YYYYMMDDHH24MISS'), ',' order by period_start) as fingerprint
        from {{ causes_snapshot_days() }} as days
        where snapshot_at < (period_start + interval '1 month 4 days')::timestamp
        group by province_code
    )
{%- endmacro %}


{#- The rebuild_keys sources of one family of records ('dossier': MaHoSo, the record key of
    the one-stop dossiers and of the portal copies; 'petition': MaPAKN). -#}
{% macro causes_rebuild_sources(family) -%}
    {%- set units = {'stream': 'units', 'fingerprint': causes_unit_fingerprints(), 'whole_province': true} -%}
    {%- if family == 'dossier' -%}
        {{ return([
            {'stream': 'dossiers', 'relation': raw_changes(source('onestop', 'dossiers')), 'key': 'record_key'},
            {'stream': 'syncs', 'relation': raw_changes(source('portal', 'dossier_syncs')), 'key': 'record_key'},
            {'stream': 'ratings', 'relation': raw_changes(source('portal', 'ratings')), 'key': 'record_key',
             'via': {'relation': raw_or_empty(source('portal', 'ratings')), 'from': 'record_key',
                     'key': "payload ->> 'MaHoSo'"}},
            units]) }}
    {%- else -%}
        {{ return([
            {'stream': 'petitions', 'relation': raw_changes(source('portal', 'petitions')), 'key': 'record_key'},
            units]) }}
    {%- endif -%}
{%- endmacro %}


{#- The records a run of int_qd766_cause_contributions rebuilds: {'dossier': …, 'petition': …}
    as rebuild_keys returns them (none outside an incremental run), the records loaded since
    the run before plus, read from the contributions themselves, those first received in a
    month whose snapshot day changed since and that have a version stamped between the two
    days (only those versions change sides between "then" and "now"). -#}
{% macro causes_rebuild() -%}
    {%- set dossiers = rebuild_keys(causes_rebuild_sources('dossier')) -%}
    {%- if dossiers is none -%}{{ return(none) }}{%- endif -%}
    {%- set rebuild = {'dossier': dossiers, 'petition': rebuild_keys(causes_rebuild_sources('petition'))} -%}
    {%- set query -%}
        with

        items as (
            select 'now' as side, province_code, item
            from {{ causes_snapshot_fingerprints() }} as current_state
            cross join lateral unnest(string_to_array(current_state.fingerprint, ',')) as item
            union all
            select 'saved', province_code, item
            from {{ incremental_state_relation() }} as saved
            cross join lateral unnest(string_to_array(saved.fingerprint, ',')) as item
            where saved.model = '{{ this.identifier }}' and saved.stream = 'snapshots'
        ),

        stamps as (
            -- a month not listed is taken on the 5th of the next month
            select province_code, snapshot_month,
                coalesce(max(stamp) filter (where side = 'now'), fifth) as now_stamp,
                coalesce(max(stamp) filter (where side = 'saved'), fifth) as saved_stamp
            from (
                select side, province_code, split_part(item, '=', 1)::date as snapshot_month,
                    split_part(item, '=', 2) as stamp
                from items
            ) as listed
            cross join lateral (
                select to_char((snapshot_month + interval '1 month 4 days')::timestamp,
                    'YYYYMMDDHH24MISS') as fifth
            ) as default_day
            group by province_code, snapshot_month, fifth
        ),

        moved as (
            select province_code, snapshot_month,
                least(now_stamp, saved_stamp) as low_stamp,
                greatest(now_stamp, saved_stamp) as high_stamp
            from stamps
            where now_stamp <> saved_stamp
        ),

        {#- a version counts "then" when its stamp is before the snapshot's: only the versions
            stamped between the old and the new snapshot day change sides (record_updated_at
            is NgayCapNhat read as local time: a margin of two days for the time zone). Read
            per moved month through raw's index on (province_code, record_updated_at): the
            lateral subquery (OFFSET 0 keeps it from being flattened) is probed once per
            moved month, where a join would read every version of the province. -#}
        shifted as (
            {%- for relation, family, key in [
                (source('onestop', 'dossiers'), 'dossier', 'raw.record_key'),
                (source('portal', 'dossier_syncs'), 'dossier', 'raw.record_key'),
                (source('portal', 'ratings'), 'dossier', "raw.payload ->> 'MaHoSo'"),
                (source('portal', 'petitions'), 'petition', 'raw.record_key')] %}
            select moved.province_code, '{{ family }}' as family, raw.record_code
            from moved
            cross join lateral (
                select {{ key }} as record_code
                from {{ raw_or_empty(relation) }} as raw
                where raw.province_code = moved.province_code
                    and raw.record_updated_at
                        >= to_timestamp(moved.low_stamp, 'YYYYMMDDHH24MISS') - interval '2 days'
                    and raw.record_updated_at
                        < to_timestamp(moved.high_stamp, 'YYYYMMDDHH24MISS') + interval '2 days'
                    and raw.payload ->> 'NgayCapNhat' >= moved.low_stamp
                    and raw.payload ->> 'NgayCapNhat' < moved.high_stamp
                offset 0
            ) as raw
            {{ 'union' if not loop.last }}
            {%- endfor %}
        ),

        {#- a unit that ended between the two days maps differently on portal_units: the
            whole month -#}
        whole_months as (
            select moved.province_code, moved.snapshot_month
            from moved
            where exists (
                select 1
                from {{ raw_or_empty(source('onestop', 'administrative_units')) }} as raw
                where raw.province_code = moved.province_code
                    and to_date(left(nullif(raw.payload ->> 'NgayHetHieuLuc', ''), 8), 'YYYYMMDD')
                        >= to_date(left(moved.low_stamp, 8), 'YYYYMMDD')
                    and to_date(left(nullif(raw.payload ->> 'NgayHetHieuLuc', ''), 8), 'YYYYMMDD')
                        <= to_date(left(moved.high_stamp, 8), 'YYYYMMDD')
            )
        ),

        {#- the shifted records the contributions hold in a moved month, each looked up
            through their unique index (province_code, family, record_code, step) rather than
            by reading the whole table; the whole moved months only when a unit ended -#}
        rebuilt as (
            select shifted.province_code, shifted.family, shifted.record_code
            from (select distinct province_code, family, record_code from shifted) as shifted
            cross join lateral (
                select 1
                from {{ this }} as contributions
                where contributions.province_code = shifted.province_code
                    and contributions.family = shifted.family
                    and contributions.record_code = shifted.record_code
                    and contributions.snapshot_month in (
                        select moved.snapshot_month from moved
                        where moved.province_code = shifted.province_code
                    )
                limit 1
            ) as held
            union all
            select contributions.province_code, contributions.family, contributions.record_code
            from {{ this }} as contributions
            where exists (select from whole_months)
                and (contributions.province_code, contributions.snapshot_month)
                    in (select province_code, snapshot_month from whole_months)
        )

        select province_code, family, array_agg(distinct record_code)::text
        from rebuilt
        group by 1, 2
    {%- endset -%}
    {%- for row in run_query(query).rows -%}
        {%- set parts = rebuild[row[1]] -%}
        {%- set found = [] -%}
        {%- for part in parts if part['province'] == row[0] -%}
            {%- do found.append(part) -%}
            {%- if not part['whole'] -%}
                {%- set keys = (part['keys'].strip('{}') ~ ',' ~ row[2].strip('{}')).strip(',') -%}
                {%- do part.update({'keys': '{' ~ keys ~ '}'}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not found -%}
            {%- do parts.append({'province': row[0], 'whole': false, 'keys': row[2]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(rebuild) }}
{%- endmacro %}


{#- The filter of the contributions' rows (family, record_code) a run rebuilds. -#}
{% macro causes_rebuilt_rows(rebuild=none) -%}
    {%- set rebuild = rebuild if rebuild is not none else causes_rebuild() -%}
    {%- if rebuild is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return("((family = 'dossier' and " ~ rebuild_filter(rebuild['dossier'], 'record_code')
        ~ ") or (family = 'petition' and " ~ rebuild_filter(rebuild['petition'], 'record_code')
        ~ '))') }}
{%- endmacro %}


{#- Pre-hook of the contributions: the filter of the rows the run rebuilds, counted once
    (causes_rebuilt_rows runs the queries of rebuild_keys and causes_rebuild, seconds on a
    large province) and kept in a temporary table for the post-hook, whose rows must be the
    same ones; then the rows are snapshotted for log_changed_periods and deleted. -#}
{% macro causes_prepare_rebuild() -%}
    {%- set rebuilt = causes_rebuilt_rows() -%}
    drop table if exists pg_temp.causes_rebuilt_filter;
    create temporary table causes_rebuilt_filter as
    select '{{ rebuilt | replace("'", "''") }}'::text as rebuilt;
    {{ snapshot_rebuilt_rows(rebuilt, periods_by_month('period_start')) }};
    {{ delete_partitions(rebuilt) }}
{%- endmacro %}


{#- The filter causes_prepare_rebuild kept (in a post-hook of the same run). -#}
{% macro causes_saved_rebuilt_rows() -%}
    {%- if not execute -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return(run_query('select rebuilt from pg_temp.causes_rebuilt_filter').rows[0][0]) }}
{%- endmacro %}


{#- Post-hook of the contributions: the load clock of the streams they read, the unit
    register and the snapshot days. -#}
{% macro save_causes_watermarks() -%}
    {{ return(save_watermarks({
        'dossiers': raw_changes(source('onestop', 'dossiers')),
        'syncs': raw_changes(source('portal', 'dossier_syncs')),
        'ratings': raw_changes(source('portal', 'ratings')),
        'petitions': raw_changes(source('portal', 'petitions'))},
        {'units': causes_unit_fingerprints(), 'snapshots': causes_snapshot_fingerprints()})) }}
{%- endmacro %}


{#- The months a run of the mart re-sums: those its producers logged, as touched_partitions
    returns them (none outside an incremental run). -#}
{% macro causes_touched() -%}
    {{ return(touched_partitions(
        ['mart_qd766_scores', 'mart_qd766_official', 'int_qd766_cause_contributions'], ['month'])) }}
{%- endmacro %}


{#- The filter on a month column (a date) of the partitions a run of the mart counts again. -#}
{% macro causes_partitions(start_column='period_start') -%}
    {{ return(partition_filter(causes_touched(), none, start_column)) }}
{%- endmacro %}
