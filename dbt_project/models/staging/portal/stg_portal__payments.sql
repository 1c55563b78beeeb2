{#- One row per online payment transaction of the portal's payment platform: the latest
    version, incremental like stg_onestop__dossiers. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'transaction_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'transaction_code'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
            {'columns': ['province_code', 'dossier_code']},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'payments'), changed_only=true) }}

),

renamed as (

    select
        province_code,
        record_key as transaction_code,
        payload ->> 'MaHoSo' as dossier_code,
        payload ->> 'MaTTHC' as procedure_code,
        payload ->> 'DonViXuLy' as agency_code,
        payload ->> 'MaPhiLePhi' as fee_code,
        case
            when payload ->> 'SoTien' ~ '^\d{1,15}(\.\d+)?$' then (payload ->> 'SoTien')::numeric
        end as amount,
        {{ safe_int("payload ->> 'KenhThanhToan'") }} as payment_channel_code,
        {{ safe_int("payload ->> 'TrangThaiGiaoDich'") }} as transaction_status_code,
        {{ parse_local_timestamp("payload ->> 'NgayThanhToan'") }} as paid_at,
        payload ->> 'MaBienLai' as receipt_code,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
