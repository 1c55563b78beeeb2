{#- Thanh toán trực tuyến — one row per online payment transaction on the portal's payment
    platform, with the dossier's agency and receipt date when the dossier is known. -#}
{%- set tz = var('local_timezone') -%}
with

payments as (

    select * from {{ ref('stg_portal__payments') }}

),

dossiers as (

    select dossier_code, received_date from {{ ref('int_dossiers_lifecycle') }}

),

final as (

    select
        payments.transaction_code,
        payments.dossier_code,
        payments.procedure_code,
        payments.agency_code,
        payments.fee_code,
        payments.amount,
        payments.payment_channel_code,
        case payments.payment_channel_code
            when 1 then 'Cổng DVCQG'
            when 2 then 'Cổng DVC tỉnh'
        end as payment_channel_name,
        payments.transaction_status_code,
        payments.transaction_status_code = 1 as is_successful,
        payments.paid_at,
        (payments.paid_at at time zone '{{ tz }}')::date as paid_date,
        dossiers.received_date as dossier_received_date,
        dossiers.dossier_code is not null as is_dossier_known,
        payments.updated_at
    from payments
    left join dossiers on payments.dossier_code = dossiers.dossier_code

)

select * from final
