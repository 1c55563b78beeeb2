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


{#- A rating changed: the months of the dossiers any of its versions rates (a rating that now
    rates another dossier counts the old one again too). -#}
{% macro causes_rating_months() -%}
    (
        select ratings.province_code, ratings.record_key, dossiers.period_key
        from {{ raw_or_empty(source('portal', 'ratings')) }} as ratings
        inner join {{ causes_dossier_months() }} as dossiers
            on ratings.province_code = dossiers.province_code
            and ratings.payload ->> 'MaHoSo' = dossiers.record_key
    )
{%- endmacro %}


{% macro causes_rebuild_sources() -%}
    {%- set dossier_months = {'relation': causes_dossier_months(), 'from': 'record_key', 'key': 'period_key'} -%}
    {{ return([
        {'stream': 'dossiers', 'relation': raw_changes(source('onestop', 'dossiers')),
         'key': 'record_key', 'via': dossier_months},
        {'stream': 'syncs', 'relation': raw_changes(source('portal', 'dossier_syncs')),
         'key': 'record_key', 'via': dossier_months},
        {'stream': 'ratings', 'relation': raw_changes(source('portal', 'ratings')),
         'key': 'record_key',
         'via': {'relation': causes_rating_months(), 'from': 'record_key', 'key': 'period_key'}},
        {'stream': 'petitions', 'relation': raw_changes(source('portal', 'petitions')),
         'key': 'record_key',
         'via': {'relation': causes_version_months(source('portal', 'petitions'), 'MaPAKN'),
                 'from': 'record_key', 'key': 'period_key'}},
    ]) }}
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
    {%- set records = rebuild_keys(causes_rebuild_sources()) -%}
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
