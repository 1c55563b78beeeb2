{#- Where each officer appears: one row per handling step with an officer (officer_handling_steps)
    and per outgoing document with a signer, with what dim_officers and
    mart_officer_lateness_monthly aggregate. Restricted (pseudonymous keys and titles,
    docs/personal-data.md). Incremental: the steps of the changed dossiers and the changed
    documents are deleted and inserted again; the rows that differ are logged for the two
    aggregates (macros/row_changes.sql), which update their totals from them instead of
    reading each touched officer's whole history again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ keep_rows_before_rebuild(officer_appearances_rebuilt()) }}",
            "{{ delete_partitions(officer_appearances_rebuilt()) }}",
        ],
        post_hook=[
            "{{ log_row_changes(officer_appearances_rebuilt(), ['dim_officers', 'mart_officer_lateness_monthly']) }}",
            "{{ lateness_cause_index() }}",
            "{{ save_watermarks({'dossiers': ref('stg_onestop__dossiers'), 'outgoing': ref('stg_ioffice__outgoing_documents')}) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'record_kind', 'record_code', 'step_number'], 'unique': true},
            {'columns': ['province_code', 'officer_key', 'month_start']},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set dossiers = rebuild_filter(rebuild_keys(officer_dossier_sources()), 'dossier_code') %}
{%- set documents = rebuild_filter(rebuild_keys(officer_document_sources()), 'document_id') %}

with

steps as (

    select
        province_code,
        'step' as record_kind,
        dossier_code as record_code,
        step_number,
        officer_key,
        agency_code,
        officer_title,
        handled_at as seen_at,
        date_trunc('month', (coalesce(handled_at, started_at) at time zone '{{ tz }}'))::date
            as month_start,
        is_step_late,
        is_lateness_cause
    from {{ ref('officer_handling_steps') }}
    where officer_key is not null and {{ dossiers }}

),

signatures as (

    select
        province_code,
        'document' as record_kind,
        document_id as record_code,
        0 as step_number,
        signer_officer_key as officer_key,
        issuing_agency_code as agency_code,
        signer_position as officer_title,
        issued_at as seen_at,
        null::date as month_start,
        false as is_step_late,
        false as is_lateness_cause
    from {{ ref('stg_ioffice__outgoing_documents') }}
    where signer_officer_key is not null and {{ documents }}

)

select * from steps
union all
select * from signatures
