{#- One row per satisfaction rating of a dossier on the portal: the latest version. The
    free-text opinion (YKien) may name people and is dropped; only whether one was left is
    kept. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'rating_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'rating_code'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
            {'columns': ['province_code', 'dossier_code']},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'ratings'), changed_only=true) }}

),

renamed as (

    select
        province_code,
        record_key as rating_code,
        payload ->> 'MaHoSo' as dossier_code,
        payload ->> 'DonViXuLy' as agency_code,
        {{ safe_int("payload ->> 'MucDoHaiLong'") }} as satisfaction_code,
        coalesce(trim(payload ->> 'YKien'), '') <> '' as has_comment,
        {{ parse_local_timestamp("payload ->> 'NgayDanhGia'") }} as rated_at,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
