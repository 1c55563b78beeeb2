{#- The inputs whose changes make incremental models rebuild a dossier (lists for rebuild_keys;
    every stream is also saved by the model's post-hook: save_dossier_watermarks). -#}

{#- A dossier is stopped from changing with "as of" once it has ended: when it ended (first of
    handled, returned, refused), or 'infinity' while open. Indexed on the staging table. -#}
{% macro dossier_open_until(alias='changed') -%}
    coalesce(least({{ alias }}.handling_ended_at, {{ alias }}.returned_at, {{ alias }}.refused_at),
        'infinity'::timestamptz)
{%- endmacro %}


{#- Per province, a fingerprint of the statutory working days its dossiers are judged by: its
    catalogue on the portal and the national seed. -#}
{% macro catalogue_fingerprints() -%}
    (
        select
            provinces.province_code,
            md5(
                coalesce((
                    select string_agg(days.procedure_code || '=' || days.statutory_working_days, ','
                        order by days.procedure_code)
                    from {{ ref('int_procedure_statutory_days') }} as days
                    where days.province_code = provinces.province_code
                ), '')
                || '|' || coalesce((
                    select string_agg(days.procedure_code || '=' || days.statutory_working_days, ','
                        order by days.procedure_code)
                    from {{ ref('int_procedure_statutory_days') }} as days
                    where days.province_code is null
                ), '')
            ) as fingerprint
        from {{ provinces_in(ref('stg_onestop__dossiers')) }} as provinces
        offset 0
    )
{%- endmacro %}


{#- open: also the dossiers still open at the previous build's as-of (judged at the data's
    as-of, which moves every night); or, the name of a kind of open_dossier_events, only the
    open dossiers whose judgement can change between the previous build's as-of and
    today's; catalogue: a change of the statutory working days of the province (its
    catalogue or the national seed) rebuilds all its dossiers. -#}
{% macro dossier_rebuild_sources(open=false, catalogue=false) -%}
    {%- set sources = [
        {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code'}] -%}
    {%- if open is string -%}
        {%- do sources.append({'stream': 'dossiers', 'relation': open_dossier_events(open),
            'key': 'dossier_code', 'event': 'updated_at',
            'provinces': ref('stg_onestop__dossiers')}) -%}
    {%- elif open -%}
        {%- do sources.append({'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'),
            'key': 'dossier_code', 'open_until': dossier_open_until()}) -%}
    {%- endif -%}
    {%- if catalogue -%}
        {%- do sources.append({'stream': 'catalogue', 'fingerprint': catalogue_fingerprints(),
            'whole_province': true}) -%}
    {%- endif -%}
    {{ return(sources) }}
{%- endmacro %}


{#- The post-hook's save_watermarks for the same inputs. -#}
{% macro save_dossier_watermarks(catalogue=false) -%}
    {{ return(save_watermarks(
        {'dossiers': ref('stg_onestop__dossiers')},
        {'catalogue': catalogue_fingerprints()} if catalogue else {})) }}
{%- endmacro %}


{#- The rebuild filter of a per-dossier model, on its own (province_code, dossier_code). -#}
{% macro rebuilt_dossiers(open=false, catalogue=false) -%}
    {{ return(rebuild_filter(rebuild_keys(dossier_rebuild_sources(open, catalogue)), 'dossier_code')) }}
{%- endmacro %}


{#- The rebuild filter on `key` from rebuild_keys(sources). -#}
{% macro rebuilt_records(sources, key) -%}
    {{ return(rebuild_filter(rebuild_keys(sources), key)) }}
{%- endmacro %}


{% macro petition_rebuild_sources() -%}
    {{ return([
        {'stream': 'petitions', 'relation': ref('stg_portal__petitions'), 'key': 'petition_code'},
    ]) }}
{%- endmacro %}


{#- Documents changed, incoming ones still open at the previous as-of (overdue is judged at the
    as-of), outgoing ones of the dossiers changed (an apology for a dossier now late). -#}
{% macro document_rebuild_sources() -%}
    {{ return([
        {'stream': 'incoming', 'relation': ref('stg_ioffice__incoming_documents'), 'key': 'document_id'},
        {'stream': 'incoming', 'relation': ref('stg_ioffice__incoming_documents'), 'key': 'document_id',
         'open_until': "coalesce(changed.completed_at, 'infinity'::timestamptz)"},
        {'stream': 'outgoing', 'relation': ref('stg_ioffice__outgoing_documents'), 'key': 'document_id'},
        {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code',
         'via': {'relation': ref('stg_ioffice__outgoing_documents'), 'from': 'related_dossier_code',
                 'key': 'document_id'}},
    ]) }}
{%- endmacro %}


{#- Dossiers changed, and those any version of a changed portal copy, document, payment or
    rating refers to (a record that now refers to another dossier rebuilds the old one too). -#}
{% macro match_rebuild_sources() -%}
    {%- set sources = [
        {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code'},
        {'stream': 'syncs', 'relation': ref('stg_portal__dossier_syncs'), 'key': 'dossier_code'},
    ] -%}
    {%- set refs = [
        ('outgoing_documents', source('ioffice', 'outgoing_documents'), 'MaHoSoLienQuan'),
        ('payments', source('portal', 'payments'), 'MaHoSo'),
        ('ratings', source('portal', 'ratings'), 'MaHoSo'),
    ] -%}
    {%- for stream, relation, field in refs -%}
        {%- set versions = "(select province_code, record_key, payload ->> '" ~ field
            ~ "' as dossier_code from " ~ raw_or_empty(relation) ~ " as raw_versions)" -%}
        {%- do sources.append({
            'stream': stream, 'relation': raw_changes(relation), 'key': 'record_key',
            'via': {'relation': versions, 'from': 'record_key', 'key': 'dossier_code'}}) -%}
    {%- endfor -%}
    {{ return(sources) }}
{%- endmacro %}


{% macro save_match_watermarks() -%}
    {{ return(save_watermarks({
        'dossiers': ref('stg_onestop__dossiers'),
        'syncs': ref('stg_portal__dossier_syncs'),
        'outgoing_documents': raw_changes(source('ioffice', 'outgoing_documents')),
        'payments': raw_changes(source('portal', 'payments')),
        'ratings': raw_changes(source('portal', 'ratings'))})) }}
{%- endmacro %}


{#- Per province, a keyed fingerprint of what the marts take from dim_agencies: names, kinds,
    districts, the unit carrying each agency's work today. -#}
{% macro agency_fingerprints() -%}
    {{ return(keyed_fingerprint(ref('dim_agencies'), 'agency_code',
        ['agency_name', 'unit_kind', 'district_code', 'current_agency_code', 'current_agency_name'])) }}
{%- endmacro %}


{#- The form 06 quarters a run of mart_form06_quarterly counts again. -#}
{% macro form06_partitions() -%}
    {{ return(partition_filter(
        touched_partitions(['int_dossier_form06_quarters'], ['quarter', 'legal_quarter'],
            keyed_fingerprints={'agencies': agency_fingerprints()}),
        'period_kind', 'period_start',
        grain_values={'quarter': 'calendar', 'legal_quarter': 'legal'})) }}
{%- endmacro %}


{#- The months a run of mart_dossier_progress_monthly counts again. -#}
{% macro progress_partitions() -%}
    {{ return(partition_filter(
        touched_partitions(['int_dossier_months_judged'], ['month'],
            keyed_fingerprints={'agencies': agency_fingerprints()}),
        none, 'month_start')) }}
{%- endmacro %}


{#- Per province, a keyed fingerprint of what the marts take from dim_procedures per procedure. -#}
{% macro procedure_fingerprints() -%}
    {{ return(keyed_fingerprint(ref('dim_procedures'), 'procedure_code',
        ['is_full_online', 'is_online_service', 'is_fee_bearing'])) }}
{%- endmacro %}


{#- mart_cchc_indicators judges open dossiers at its province's latest received dossier's
    update. -#}
{% macro indicator_asof() -%}
    {{ return({'relation': '(select province_code, updated_at from ' ~ ref('fct_dossiers')
        ~ ' where received_date is not null)'}) }}
{%- endmacro %}


{% macro indicator_touched() -%}
    {{ return(touched_partitions(
        ['fct_dossiers', 'int_dossier_matches', 'fct_petitions', 'fct_documents'],
        ['month', 'quarter', 'year'],
        asof=indicator_asof(),
        keyed_fingerprints={'agencies': agency_fingerprints(), 'procedures': procedure_fingerprints()})) }}
{%- endmacro %}


{#- The periods a run of mart_cchc_indicators computes again. -#}
{% macro indicator_partitions() -%}
    {{ return(partition_filter(indicator_touched())) }}
{%- endmacro %}


{#- Per province, the Decision 766 counts of its procedure catalogue (the same for every scope
    and period of the province). -#}
{% macro catalogue_766_counts() -%}
    (
        select
            province_code,
            count(*) filter (where is_in_catalogue) as procedures,
            count(*) filter (where is_announced_on_time) as announced_on_time,
            count(*) filter (where is_published_on_time) as published_on_time,
            count(*) filter (where is_content_complete) as content_complete,
            count(*) filter (where is_online_service) as online_services,
            count(*) filter (where is_in_catalogue and is_fee_bearing) as fee_procedures,
            count(*) filter (where is_in_catalogue and is_fee_bearing and fee_amount is not null)
                as fee_procedures_with_fee_data
        from {{ ref('dim_procedures') }}
        group by province_code
    )
{%- endmacro %}


{% macro catalogue_766_fingerprints() -%}
    (
        select province_code, md5(counts::text) as fingerprint
        from {{ catalogue_766_counts() }} as counts
    )
{%- endmacro %}


{% macro score_touched() -%}
    {{ return(touched_partitions(
        ['mart_cchc_indicators', 'fct_dossiers', 'stg_portal__dossier_syncs',
         'int_dossier_periods_judged', 'fct_petitions'],
        ['month', 'quarter', 'year'],
        fingerprints={'catalogue': catalogue_766_fingerprints()},
        keyed_fingerprints={'procedures': procedure_fingerprints()})) }}
{%- endmacro %}


{#- The periods a run of mart_qd766_scores scores again. -#}
{% macro score_partitions() -%}
    {{ return(partition_filter(score_touched())) }}
{%- endmacro %}


{#- The months (yyyy-mm) of the portal's evaluation snapshots changed since the run before. -#}
{% macro evaluation_rebuild_sources() -%}
    {{ return([
        {'stream': 'evaluations', 'relation': raw_changes(source('portal', 'evaluations')),
         'key_expr': "split_part(changed.record_key, ':', 2)"},
    ]) }}
{%- endmacro %}


{#- The months a run of mart_qd766_reconciliation matches again. -#}
{% macro reconciliation_partitions(start_column) -%}
    {{ return(partition_filter(
        touched_partitions(['mart_qd766_scores', 'mart_qd766_official'], ['month']),
        none, start_column)) }}
{%- endmacro %}
