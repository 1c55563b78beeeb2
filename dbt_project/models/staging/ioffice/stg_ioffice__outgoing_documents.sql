{#- One row per outgoing document (văn bản đi) of I-Office: the latest version. Incremental
    like stg_onestop__dossiers. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'document_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'document_id'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
            {'columns': ['province_code', 'related_dossier_code']},
            {'columns': ['province_code', 'signer_officer_key']},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('ioffice', 'outgoing_documents'), changed_only=true) }}

),

renamed as (

    select
        province_code,
        record_key as document_id,
        payload ->> 'SoKyHieu' as number_and_sign,
        payload ->> 'LoaiVanBan' as document_type_code,
        normalize(payload ->> 'TrichYeu', nfc) as summary,
        {{ parse_local_timestamp("payload ->> 'NgayBanHanh'") }} as issued_at,
        payload ->> 'DonViBanHanh' as issuing_agency_code,
        -- the signer's name (NguoiKy) never leaves staging: a salted hash of agency and name
        -- identifies the officer; the position is kept
        {{ hash_pii("(payload ->> 'DonViBanHanh') || '|' || (payload ->> 'NguoiKy')") }} as signer_officer_key,
        normalize(payload ->> 'ChucVuNguoiKy', nfc) as signer_position,
        {{ safe_int("payload ->> 'DoKhan'") }} as urgency_code,
        {{ safe_bool("payload ->> 'CoChuKySo'") }} as is_digitally_signed,
        payload ->> 'MaHoSoLienQuan' as related_dossier_code,
        record_updated_at as updated_at,
        extracted_at

    from latest_versions

)

select * from renamed
