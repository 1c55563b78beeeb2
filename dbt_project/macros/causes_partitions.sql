{#- Which (province, month) partitions a run of mart_qd766_reconciliation_causes counts again.
    A cell of month M depends on our scores and the official ones of M, on every version of
    the records (dossiers in both systems, their ratings, petitions) that has a version
    received in M, on the portal's publication moment of the month each such record was first
    received in, and on the unit register. So a run rebuilds:
      - the months mart_qd766_scores or mart_qd766_official logged as changed;
      - for a record changed since the run before (a new version, a new rating), the months
        of receipt of all its versions: a record changed in April may belong to January, and
        one whose receipt date was edited leaves its old month too;
      - for a month whose official figures changed (its publication moment with them), the
        months of every version of the records having a version received in that month;
      - the whole province when its unit register changed (a merger maps the units of any
        snapshot day). -#}

{#- Per version, the month (yyyy-mm-dd) of receipt it states. -#}
{% macro causes_version_months(relation, code_field) -%}
    (
        select raw_versions.province_code, raw_versions.record_key,
            raw_versions.payload ->> '{{ code_field }}' as record_code,
            to_char(date_trunc('month', to_date(left(nullif(
                raw_versions.payload ->> 'NgayTiepNhan', ''), 8), 'YYYYMMDD')), 'YYYY-MM-DD')
                as period_key
        from {{ raw_or_empty(relation) }} as raw_versions
    )
{%- endmacro %}


{% macro causes_dossier_months() -%}
    (
        select * from {{ causes_version_months(source('onestop', 'dossiers'), 'MaHoSo') }} as onestop
        union all
        select * from {{ causes_version_months(source('portal', 'dossier_syncs'), 'MaHoSo') }} as copies
    )
{%- endmacro %}


{#- The months of receipt of every version of the records loaded since the run before (a
    record changed in April may belong to January, and one whose receipt date was edited
    leaves its old month too), as rebuild_keys returns them ({'province', 'whole', 'keys':
    a text[] literal of months}), or none outside an incremental run. Proportionate to the
    night: the changed keys come from raw's index on (province_code, extracted_at)
    (rebuild_keys), and only their versions are read, through raw's index on
    (province_code, record_key), never every version's receipt date. A rating's versions
    give the dossiers they rate (a rating that now rates another dossier counts the old one
    again too), whose versions give the months. -#}
{% macro causes_changed_months() -%}
    {%- set changed = {
        'dossiers': rebuild_keys([
            {'stream': 'dossiers', 'relation': raw_changes(source('onestop', 'dossiers')), 'key': 'record_key'},
            {'stream': 'syncs', 'relation': raw_changes(source('portal', 'dossier_syncs')), 'key': 'record_key'}]),
        'ratings': rebuild_keys([
            {'stream': 'ratings', 'relation': raw_changes(source('portal', 'ratings')), 'key': 'record_key'}]),
        'petitions': rebuild_keys([
            {'stream': 'petitions', 'relation': raw_changes(source('portal', 'petitions')), 'key': 'record_key'}]),
    } -%}
    {%- if changed['dossiers'] is none -%}{{ return(none) }}{%- endif -%}
    {%- set keys = {} -%}
    {%- for family, parts in changed.items() -%}
        {%- for part in parts if part['keys'] != '{}' -%}
            {%- do keys.setdefault(part['province'], {}).update({family: part['keys']}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not keys -%}{{ return([]) }}{%- endif -%}
    {%- set rows = [] -%}
    {%- for province, families in keys.items() -%}
        {%- do rows.append("('" ~ (province | replace("'", "''")) ~ "', '"
            ~ (families.get('dossiers', '{}') | replace("'", "''")) ~ "'::text[], '"
            ~ (families.get('ratings', '{}') | replace("'", "''")) ~ "'::text[], '"
            ~ (families.get('petitions', '{}') | replace("'", "''")) ~ "'::text[])") -%}
    {%- endfor -%}
    {%- set query -%}
        with changed (province_code, dossier_keys, rating_keys, petition_keys) as (
            values {{ rows | join(', ') }}
        ),

        dossier_keys as (
            select changed.province_code, dossier.record_key
            from changed
            cross join unnest(changed.dossier_keys) as dossier (record_key)
            union
            select changed.province_code, rated.dossier_code
            from changed
            cross join unnest(changed.rating_keys) as rating (record_key)
            cross join lateral (
                select ratings.payload ->> 'MaHoSo' as dossier_code
                from {{ raw_or_empty(source('portal', 'ratings')) }} as ratings
                where ratings.province_code = changed.province_code
                    and ratings.record_key = rating.record_key
            ) as rated
        ),

        months as (
            select dossier_keys.province_code, versions.period_key
            from dossier_keys
            cross join lateral (
                select onestop.period_key
                from {{ causes_version_months(source('onestop', 'dossiers'), 'MaHoSo') }} as onestop
                where onestop.province_code = dossier_keys.province_code
                    and onestop.record_key = dossier_keys.record_key
                union all
                select copies.period_key
                from {{ causes_version_months(source('portal', 'dossier_syncs'), 'MaHoSo') }} as copies
                where copies.province_code = dossier_keys.province_code
                    and copies.record_key = dossier_keys.record_key
            ) as versions
            union all
            select changed.province_code, petitions.period_key
            from changed
            cross join unnest(changed.petition_keys) as petition (record_key)
            cross join lateral (
                select petitions.period_key
                from {{ causes_version_months(source('portal', 'petitions'), 'MaPAKN') }} as petitions
                where petitions.province_code = changed.province_code
                    and petitions.record_key = petition.record_key
            ) as petitions
        )

        select province_code, coalesce(array_agg(distinct period_key)
            filter (where period_key is not null), '{}')::text
        from months
        group by province_code
        order by province_code
    {%- endset -%}
    {%- set result = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do result.append({'province': row[0], 'whole': false, 'keys': row[1]}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{% macro save_causes_watermarks() -%}
    {{ return(save_watermarks({
        'dossiers': raw_changes(source('onestop', 'dossiers')),
        'syncs': raw_changes(source('portal', 'dossier_syncs')),
        'ratings': raw_changes(source('portal', 'ratings')),
        'petitions': raw_changes(source('portal', 'petitions'))})) }}
{%- endmacro %}


{#- Per province, the unit register as the mart reads it: each unit's latest successor and
    end. -#}
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


{#- The months of every version of the records having a version received in one of
    `periods` (a list of (province, 'yyyy-mm-dd')), as a list of (province, 'yyyy-mm-dd'). -#}
{% macro causes_linked_months(periods) -%}
    {%- if not periods -%}{{ return([]) }}{%- endif -%}
    {%- set pairs = [] -%}
    {%- for province, start in periods -%}
        {%- do pairs.append("('" ~ (province | replace("'", "''")) ~ "', '" ~ start ~ "')") -%}
    {%- endfor -%}
    {%- set query -%}
        with touched (province_code, period_key) as (values {{ pairs | join(', ') }}),
        versions as (
            select province_code, 'dossier' as family, record_code, period_key
            from {{ causes_dossier_months() }} as dossiers
            union all
            select province_code, 'petition', record_code, period_key
            from {{ causes_version_months(source('portal', 'petitions'), 'MaPAKN') }} as petitions
        ),
        linked as (
            select distinct versions.province_code, versions.family, versions.record_code
            from versions
            inner join touched using (province_code, period_key)
        )
        select distinct versions.province_code, versions.period_key
        from versions
        inner join linked using (province_code, family, record_code)
        where versions.period_key is not null
    {%- endset -%}
    {%- set result = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do result.append((row[0], row[1])) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{#- The partitions as touched_partitions returns them (list of {'province', 'whole',
    'periods'}), or none outside an incremental run. -#}
{% macro causes_touched() -%}
    {%- set marts = touched_partitions(['mart_qd766_scores', 'mart_qd766_official'], ['month'],
        fingerprints={'units': causes_unit_fingerprints()}) -%}
    {%- if marts is none -%}{{ return(none) }}{%- endif -%}
    {%- set official = touched_partitions(['mart_qd766_official'], ['month']) -%}
    {%- set records = causes_changed_months() or [] -%}
    {%- set whole = [] -%}
    {%- set months = {} -%}
    {%- for part in marts + records -%}
        {%- if part['whole'] and part['province'] not in whole -%}
            {%- do whole.append(part['province']) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for part in marts if part['province'] not in whole -%}
        {%- for grain, start in part['periods'] -%}
            {%- do months.setdefault(part['province'], []).append(start) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for part in records if part['province'] not in whole -%}
        {%- for start in part['keys'].strip('{}').split(',') if start and start != 'NULL' -%}
            {%- do months.setdefault(part['province'], []).append(start.strip('"')) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set published = [] -%}
    {%- for part in official if part['province'] not in whole -%}
        {%- for grain, start in part['periods'] -%}
            {%- do published.append((part['province'], start)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for province, start in causes_linked_months(published) -%}
        {%- do months.setdefault(province, []).append(start) -%}
    {%- endfor -%}
    {%- set result = [] -%}
    {%- for province in whole -%}
        {%- do result.append({'province': province, 'whole': true, 'periods': []}) -%}
    {%- endfor -%}
    {%- for province, starts in months.items() -%}
        {%- set periods = [] -%}
        {%- for start in starts | unique | sort -%}
            {%- do periods.append(['month', start]) -%}
        {%- endfor -%}
        {%- do result.append({'province': province, 'whole': false, 'periods': periods}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}


{#- The filter on a month column (a date) of the partitions a run counts again. -#}
{% macro causes_partitions(start_column='period_start') -%}
    {{ return(partition_filter(causes_touched(), none, start_column)) }}
{%- endmacro %}


{#- In the mart, the filter of a CTE of record versions `alias` (province_code, dossier_code)
    to the records counted again: nothing outside an incremental run. -#}
{% macro causes_touched_records(alias, family, touched) -%}
    {%- if touched is not none -%}
    where ({{ alias }}.province_code, {{ alias }}.dossier_code) in (
        select province_code, record_code from touched_records where family = '{{ family }}')
    {%- endif -%}
{%- endmacro %}
