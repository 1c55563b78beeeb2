{#- Cán bộ, công chức — the officers who appear in dossier handling steps and sign outgoing
    documents, per province, by pseudonymous key only (salted hash of agency and name, made
    in staging): no name leaves staging. With agency and title, many officers are the only
    one of their kind, so this is personal data: schema `restricted`, for the officer
    reviewer only, never BI (docs/personal-data.md). Incremental: the officers whose steps or
    signatures changed since the run before (any version of a changed dossier or document
    names them) are deleted and aggregated again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_rows(officer_rebuild_sources(), 'officer_key') }}",
        post_hook="{{ save_watermarks({
            'dossiers': raw_changes(source('onestop', 'dossiers')),
            'outgoing_documents': raw_changes(source('ioffice', 'outgoing_documents'))}) }}",
        indexes=[{'columns': ['province_code', 'officer_key'], 'unique': true}],
    )
}}
{%- set rebuild = rebuild_keys(officer_rebuild_sources()) %}

with

step_officers as (

    select
        province_code,
        officer_key,
        agency_code,
        officer_title,
        handled_at as seen_at,
        1 as is_step
    from {{ ref('officer_handling_steps') }}
    where officer_key is not null and {{ rebuild_filter(rebuild, 'officer_key') }}

),

signers as (

    select
        province_code,
        signer_officer_key as officer_key,
        issuing_agency_code as agency_code,
        signer_position as officer_title,
        issued_at as seen_at,
        0 as is_step
    from {{ ref('stg_ioffice__outgoing_documents') }}
    where signer_officer_key is not null
        and {{ rebuild_filter(rebuild, 'signer_officer_key') }}

),

appearances as (

    select * from step_officers
    union all
    select * from signers

),

final as (

    select
        province_code,
        officer_key,
        max(agency_code) as agency_code,
        (array_agg(officer_title order by seen_at desc nulls last))[1] as officer_title,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at,
        count(*) filter (where is_step = 1)::int as handling_step_count,
        count(*) filter (where is_step = 0)::int as documents_signed
    from appearances
    group by province_code, officer_key

)

select * from final
