{#- One row per petition (phản ánh, kiến nghị, PAKN) received on the portal: the latest
    version, incremental like stg_onestop__dossiers. The free-text content (NoiDung) may name people and is dropped; the subject is
    kept. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'petition_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'petition_code'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'petitions'), changed_only=true) }}

),

renamed as (

    select
        province_code,
        record_key as petition_code,
        normalize(payload ->> 'TieuDe', nfc) as subject,
        {{ safe_int("payload ->> 'PhanLoai'") }} as category_code,
        payload ->> 'DonViXuLy' as agency_code,
        {{ parse_local_timestamp("payload ->> 'NgayTiepNhan'") }} as received_at,
        {{ parse_local_timestamp("payload ->> 'HanXuLy'") }} as due_at,
        {{ safe_int("payload ->> 'TrangThai'") }} as status_code,
        {{ parse_local_timestamp("payload ->> 'NgayTraLoi'") }} as answered_at,
        {{ safe_int("payload ->> 'MucDoHaiLong'") }} as satisfaction_code,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
