{#- One row per one-stop dossier with what the other systems of its province hold about it,
    matched on the province and the dossier code (MaHoSo / MaHoSoLienQuan): its portal copy
    (synced, status there), apology letters (TXL, Mẫu 04) and result documents in I-Office,
    online payments and its rating, with the dossier's receipt date (the period the marts
    count it in). Incremental: the dossiers changed since the run before,
    and those any version of a changed portal copy, document, payment or rating refers to
    (a record that now refers to another dossier leaves the old one rebuilt too). -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'dossier_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ snapshot_rebuilt_rows(rebuilt_records(match_rebuild_sources(), 'dossier_code'), periods_by_day('received_date')) }}",
        post_hook=[
            "{{ log_changed_periods(rebuilt_records(match_rebuild_sources(), 'dossier_code'), periods_by_day('received_date')) }}",
            "{{ save_match_watermarks() }}",
        ],
        indexes=[
            {'columns': ['province_code', 'dossier_code'], 'unique': true},
            {'columns': ['province_code', 'received_date']},
        ],
    )
}}
{%- set rebuild = rebuild_keys(match_rebuild_sources()) %}
{%- set tz = var('local_timezone') %}

with

dossiers as (

    select province_code, dossier_code, received_date, status_code, due_at
    from {{ ref('int_dossiers_lifecycle') }}
    where {{ rebuild_filter(rebuild, 'dossier_code') }}

),

syncs as (

    select province_code, dossier_code, status_code, synced_at
    from {{ ref('stg_portal__dossier_syncs') }}
    where {{ rebuild_filter(rebuild, 'dossier_code') }}

),

related_documents as (

    select
        province_code,
        related_dossier_code as dossier_code,
        count(*) filter (where document_type_code = 'TXL') as apology_letters,
        min(issued_at) filter (where document_type_code = 'TXL') as first_apology_issued_at,
        count(*) filter (where document_type_code <> 'TXL') as result_documents
    from {{ ref('stg_ioffice__outgoing_documents') }}
    where related_dossier_code is not null
        and {{ rebuild_filter(rebuild, 'related_dossier_code') }}
    group by province_code, related_dossier_code

),

payments as (

    select
        province_code,
        dossier_code,
        count(*) filter (where transaction_status_code = 1) as successful_payments,
        sum(amount) filter (where transaction_status_code = 1) as amount_paid
    from {{ ref('stg_portal__payments') }}
    where {{ rebuild_filter(rebuild, 'dossier_code') }}
    group by province_code, dossier_code

),

ratings as (

    select distinct on (province_code, dossier_code)
        province_code, dossier_code, satisfaction_code, rated_at
    from {{ ref('stg_portal__ratings') }}
    where {{ rebuild_filter(rebuild, 'dossier_code') }}
    order by province_code, dossier_code, rated_at desc nulls last, rating_code

),

final as (

    select
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.received_date,
        syncs.dossier_code is not null as is_synced,
        syncs.status_code as portal_status_code,
        syncs.synced_at as last_synced_at,
        syncs.dossier_code is not null
            and syncs.status_code is distinct from dossiers.status_code as has_status_mismatch,
        coalesce(related_documents.apology_letters, 0) > 0 as has_apology_letter,
        related_documents.first_apology_issued_at,
        coalesce(related_documents.result_documents, 0) as result_documents,
        coalesce(payments.successful_payments, 0) as successful_payments,
        payments.amount_paid,
        ratings.satisfaction_code,
        ratings.rated_at
    from dossiers
    left join syncs
        on dossiers.province_code = syncs.province_code
        and dossiers.dossier_code = syncs.dossier_code
    left join related_documents
        on dossiers.province_code = related_documents.province_code
        and dossiers.dossier_code = related_documents.dossier_code
    left join payments
        on dossiers.province_code = payments.province_code
        and dossiers.dossier_code = payments.dossier_code
    left join ratings
        on dossiers.province_code = ratings.province_code
        and dossiers.dossier_code = ratings.dossier_code

)

select * from final
