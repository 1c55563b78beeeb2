{#- One row per incoming document (văn bản đến) of I-Office: the latest version, typed and
    renamed. The handling trail (QuaTrinhXuLyVanBan) names officers: only its length and
    the first assignment time leave staging. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'document_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'document_id'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
            {'columns': ['province_code', "(coalesce(completed_at, 'infinity'::timestamptz))"]},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('ioffice', 'incoming_documents'), changed_only=true) }}

),

renamed as (

    select
        province_code,
        record_key as document_id,
        {{ safe_int("payload ->> 'SoDen'") }} as incoming_number,
        payload ->> 'SoKyHieu' as number_and_sign,
        normalize(payload ->> 'CoQuanBanHanh', nfc) as issuing_body,
        payload ->> 'LoaiVanBan' as document_type_code,
        normalize(payload ->> 'TrichYeu', nfc) as summary,
        {{ parse_local_timestamp("payload ->> 'NgayBanHanh'") }} as issued_at,
        {{ parse_local_timestamp("payload ->> 'NgayDen'") }} as arrived_at,
        {{ safe_int("payload ->> 'DoKhan'") }} as urgency_code,
        {{ parse_local_timestamp("payload ->> 'HanXuLy'") }} as due_at,
        payload ->> 'DonViNhan' as receiving_agency_code,
        {{ safe_int("payload ->> 'TrangThai'") }} as status_code,
        {{ parse_local_timestamp("payload ->> 'NgayHoanThanh'") }} as completed_at,
        {{ json_array_count("payload -> 'QuaTrinhXuLyVanBan'") }} as trail_step_count,
        {{ parse_local_timestamp("payload -> 'QuaTrinhXuLyVanBan' -> 0 ->> 'ThoiDiem'") }}
            as first_assigned_at,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
