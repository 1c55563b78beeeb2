{#- One row per dossier (hồ sơ TTHC): the latest version of the one-stop system, typed and
    renamed, personal data dropped or salted-hashed. Incremental: each run re-reads only the
    dossiers with a version loaded since the table's previous build (the load clock: macro
    changed_records), every version of them through raw's index. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'dossier_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['province_code', 'dossier_code'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
            {'columns': ['province_code', "(coalesce(least(handling_ended_at, returned_at, refused_at), 'infinity'::timestamptz))"]},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('onestop', 'dossiers'), changed_only=true) }}

),

fields as (

    -- every field read from one parse of the payload: each `payload ->> 'x'` decompresses
    -- the stored jsonb again, and the date macros repeat their argument a dozen times
    select latest_versions.province_code, latest_versions.record_key,
        latest_versions.record_updated_at, latest_versions.extracted_at, payload_fields.*
    from latest_versions
    cross join lateral jsonb_to_record(latest_versions.payload) as payload_fields (
        "MaTTHC" text, "TenTTHC" text, "MaLinhVuc" text, "TenLinhVuc" text,
        "CapThucHien" text, "KenhThucHien" text, "LoaiDoiTuong" text,
        "SoGiayToChuHoSo" text, "SoDienThoai" text,
        "NgayNopHoSo" text, "NgayTiepNhan" text, "NgayHenTra" text, "NgayKetThucXuLy" text,
        "NgayTra" text, "NgayTuChoi" text,
        "TrangThaiHoSo" text, "DonViXuLy" text, "TenDonViXuLy" text,
        "HoSoCoThanhPhanSoHoa" text, "DuocThanhToanTrucTuyen" text,
        "TaiKhoanDuocXacThucVoiVNeID" text,
        "QuaTrinhXuLy" jsonb, "DanhSachHoSoBoSung" jsonb, "TaiLieuNop" jsonb,
        "DanhSachLePhi" jsonb, "DanhSachGiayToKetQua" jsonb
    )

),

renamed as (

    select
        -- the province whose systems served the record; identity and procedure
        province_code,
        record_key as dossier_code,
        "MaTTHC" as procedure_code,
        normalize("TenTTHC", nfc) as procedure_name,
        "MaLinhVuc" as field_code,
        normalize("TenLinhVuc", nfc) as field_name,
        {{ safe_int('"CapThucHien"') }} as level_code,
        {{ safe_int('"KenhThucHien"') }} as channel_code,

        -- applicant: names and e-mail dropped, identifiers salted-hashed
        {{ safe_int('"LoaiDoiTuong"') }} as applicant_type,
        {{ hash_pii('"SoGiayToChuHoSo"') }} as applicant_id_hash,
        {{ hash_pii('"SoDienThoai"') }} as applicant_phone_hash,

        -- lifecycle dates (local yyyyMMddHHmmss -> timestamptz)
        {{ parse_local_timestamp('"NgayNopHoSo"') }} as submitted_at,
        {{ parse_local_timestamp('"NgayTiepNhan"') }} as received_at,
        {{ parse_local_timestamp('"NgayHenTra"') }} as due_at,
        {{ parse_local_timestamp('"NgayKetThucXuLy"') }} as handling_ended_at,
        {{ parse_local_timestamp('"NgayTra"') }} as returned_at,
        {{ parse_local_timestamp('"NgayTuChoi"') }} as refused_at,

        -- status and handling agency
        {{ safe_int('"TrangThaiHoSo"') }} as status_code,
        "DonViXuLy" as agency_code,
        normalize("TenDonViXuLy", nfc) as agency_name,

        -- flags and lists
        {{ safe_int('"HoSoCoThanhPhanSoHoa"') }} = 1 as has_digitized_components,
        {{ safe_int('"DuocThanhToanTrucTuyen"') }} as online_payment_code,
        {{ json_array_count('"QuaTrinhXuLy"') }} as step_count,
        {{ json_array_count('"DanhSachHoSoBoSung"') }} as supplement_request_count,
        {{ safe_int('"TaiKhoanDuocXacThucVoiVNeID"') }} = 1 as is_vneid_verified,

        -- submitted components (TaiLieuNop): digitized, reused, from the national store
        {{ json_array_count('"TaiLieuNop"') }} as component_count,
        components.digitized_component_count,
        components.reused_component_count,
        components.national_store_component_count,

        -- fees (DanhSachLePhi) and electronic results (DanhSachGiayToKetQua)
        {{ json_array_count('"DanhSachLePhi"') }} as fee_count,
        (
            select sum(
                case when fee ->> 'Gia' ~ '^\d{1,15}(\.\d+)?$' then (fee ->> 'Gia')::numeric end
            )
            from jsonb_array_elements({{ json_array_or_empty('"DanhSachLePhi"') }}) as fee
        ) as fee_amount,
        {{ json_array_count('"DanhSachGiayToKetQua"') }} as electronic_result_count,

        -- load metadata
        record_updated_at as updated_at,
        extracted_at

    from fields
    -- one pass over the submitted components for all three counts
    left join lateral (
        select
            count(*) filter (where {{ safe_int("component ->> 'DuocSoHoa'") }} = 1)::int
                as digitized_component_count,
            count(*) filter (where {{ safe_int("component ->> 'DuocTaiSuDung'") }} = 1)::int
                as reused_component_count,
            count(*) filter (where {{ safe_int("component ->> 'DuocLayTuKhoDMQG'") }} = 1)::int
                as national_store_component_count
        from jsonb_array_elements({{ json_array_or_empty('"TaiLieuNop"') }}) as component
    ) as components on true

)

select * from renamed
