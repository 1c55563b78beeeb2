{{ config(materialized='table') }}
{#- One row per one-stop dossier with what the other systems hold about it, matched on the
    dossier code (MaHoSo / MaHoSoLienQuan): its portal copy (synced, status there), apology
    letters (TXL, Mẫu 04) and result documents in I-Office, online payments and its rating. -#}
with

dossiers as (

    select dossier_code, status_code, due_at from {{ ref('stg_onestop__dossiers') }}

),

syncs as (

    select dossier_code, status_code, synced_at from {{ ref('stg_portal__dossier_syncs') }}

),

related_documents as (

    select
        related_dossier_code as dossier_code,
        count(*) filter (where document_type_code = 'TXL') as apology_letters,
        min(issued_at) filter (where document_type_code = 'TXL') as first_apology_issued_at,
        count(*) filter (where document_type_code <> 'TXL') as result_documents
    from {{ ref('stg_ioffice__outgoing_documents') }}
    where related_dossier_code is not null
    group by related_dossier_code

),

payments as (

    select
        dossier_code,
        count(*) filter (where transaction_status_code = 1) as successful_payments,
        sum(amount) filter (where transaction_status_code = 1) as amount_paid
    from {{ ref('stg_portal__payments') }}
    group by dossier_code

),

ratings as (

    select distinct on (dossier_code) dossier_code, satisfaction_code, rated_at
    from {{ ref('stg_portal__ratings') }}
    order by dossier_code, rated_at desc nulls last, rating_code

),

final as (

    select
        dossiers.dossier_code,
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
    left join syncs on dossiers.dossier_code = syncs.dossier_code
    left join related_documents on dossiers.dossier_code = related_documents.dossier_code
    left join payments on dossiers.dossier_code = payments.dossier_code
    left join ratings on dossiers.dossier_code = ratings.dossier_code

)

select * from final
