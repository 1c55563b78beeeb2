{#- Thanh toán trực tuyến — one row per online payment transaction on the portal's payment
    platform, with the receipt date of the province's dossier when it is known. Incremental:
    the payments changed since the run before, and those of the dossiers changed since. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'transaction_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ save_watermarks({'payments': ref('stg_portal__payments'), 'dossiers': ref('stg_onestop__dossiers')}) }}",
        indexes=[{'columns': ['province_code', 'transaction_code'], 'unique': true}],
    )
}}
{%- set rebuilt = rebuild_filter(rebuild_keys([
    {'stream': 'payments', 'relation': ref('stg_portal__payments'), 'key': 'transaction_code'},
    {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code',
     'via': {'relation': ref('stg_portal__payments'), 'from': 'dossier_code', 'key': 'transaction_code'}},
]), 'transaction_code') %}
{%- set tz = var('local_timezone') %}

with

payments as (

    select * from {{ ref('stg_portal__payments') }}
    where {{ rebuilt }}

),

dossiers as (

    select province_code, dossier_code, received_date from {{ ref('int_dossiers_lifecycle') }}

),

final as (

    select
        payments.province_code,
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
    left join dossiers
        on payments.province_code = dossiers.province_code
        and payments.dossier_code = dossiers.dossier_code

)

select * from final
