{#- The records officer_appearances rebuilds: the dossiers changed since the run before (their
    steps) and the outgoing documents changed (their signer). -#}
{% macro officer_dossier_sources() -%}
    {{ return([
        {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code'}]) }}
{%- endmacro %}

{% macro officer_document_sources() -%}
    {{ return([
        {'stream': 'outgoing', 'relation': ref('stg_ioffice__outgoing_documents'), 'key': 'document_id'}]) }}
{%- endmacro %}


{#- The filter of officer_appearances' own rows the run rebuilds. -#}
{% macro officer_appearances_rebuilt() -%}
    {%- set dossiers = rebuild_keys(officer_dossier_sources()) -%}
    {%- if dossiers is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return("((record_kind = 'step' and " ~ rebuild_filter(dossiers, 'record_code')
        ~ ") or (record_kind = 'document' and "
        ~ rebuild_filter(rebuild_keys(officer_document_sources()), 'record_code') ~ "))") }}
{%- endmacro %}


{#- Pre-hook of a consumer of officer_appearances' changes: keep its rows of the groups
    (`keys`: columns, those in `nullable` compared null-safe) the changes touch in
    pg_temp.rows_before_changes, where its SQL reads them, and delete them, each found
    through the consumer's index on its keys; a province logged whole (or no log yet: every
    province) is deleted whole. -#}
{% macro take_rows_changed(keys, nullable=[]) -%}
    {%- set matches = [] -%}
    {%- for key in ['province_code'] + keys -%}
        {%- do matches.append('t.' ~ key ~ (' is not distinct from ' if key in nullable else ' = ')
            ~ 'touched.' ~ key) -%}
    {%- endfor -%}
    drop table if exists pg_temp.rows_before_changes;
    {%- if applies_row_changes('officer_appearances') %}
    create temporary table rows_before_changes as
    select t.*
    from (
        select distinct province_code, {{ keys | join(', ') }}
        from {{ row_changes('officer_appearances') }} as changes
        where sign <> 0
    ) as touched
    cross join lateral (
        select * from {{ this }} as t where {{ matches | join(' and ') }}
    ) as t;
    analyze pg_temp.rows_before_changes;
    delete from {{ this }} as t
    using pg_temp.rows_before_changes as touched
    where {{ matches | join(' and ') }};
    delete from {{ this }} where province_code in ({{ row_changes_whole('officer_appearances') }})
    {%- elif is_incremental() %}
    delete from {{ this }}
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}


{#- dim_officers' rows, aggregated from their appearances; the latest title on a tie of times is the
    greatest, so the incremental update and a full build agree. -#}
{% macro officer_totals(filter) -%}
    select
        appearances.province_code,
        appearances.officer_key,
        max(agency_code) as agency_code,
        (array_agg(officer_title order by seen_at desc nulls last, officer_title desc nulls last))[1]
            as officer_title,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) filter (where record_kind = 'step')::int as handling_step_count,
        count(*) filter (where record_kind = 'document')::int as documents_signed
    from {{ ref('officer_appearances') }} as appearances
    where {{ filter }}
    group by appearances.province_code, appearances.officer_key
{%- endmacro %}


{#- mart_officer_lateness_monthly's rows, aggregated from the officers' steps. -#}
{% macro officer_months(filter) -%}
    select
        appearances.province_code,
        appearances.month_start,
        appearances.agency_code,
        appearances.officer_key,
        -- the title the officer had most often that month (alphabetically first on a tie)
        mode() within group (order by officer_title) as officer_title,
        count(*)::int as step_count,
        count(*) filter (where is_step_late)::int as late_step_count,
        count(*) filter (where is_lateness_cause)::int as lateness_cause_count,
        -- text, not an array: printable as is, and readable by any BI or export tool
        string_agg(distinct record_code, ', ' order by record_code)
            filter (where is_lateness_cause) as late_dossier_codes
    from {{ ref('officer_appearances') }} as appearances
    where appearances.record_kind = 'step' and appearances.month_start is not null
        and ({{ filter }})
    group by appearances.province_code, appearances.month_start, appearances.agency_code,
        appearances.officer_key
{%- endmacro %}


{#- Post-hook of officer_appearances: the index through which the lateness mart lists an
    officer's late dossiers of a month again (a few rows of the officer's month). -#}
{% macro lateness_cause_index() -%}
    create index if not exists {{ this.identifier }}__lateness_cause_ix
        on {{ this }} (province_code, officer_key, month_start) where is_lateness_cause
{%- endmacro %}
