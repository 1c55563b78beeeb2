with

latest_versions as (

    {{ latest_record_version(source('onestop', 'dossiers')) }}

),

renamed as (

    select
        -- identity and procedure
        record_key as dossier_code,
        payload ->> 'MaTTHC' as procedure_code,
        payload ->> 'TenTTHC' as procedure_name,
        payload ->> 'MaLinhVuc' as field_code,
        payload ->> 'TenLinhVuc' as field_name,
        {{ safe_int("payload ->> 'CapThucHien'") }} as level_code,
        {{ safe_int("payload ->> 'KenhThucHien'") }} as channel_code,

        -- applicant: names and e-mail dropped, identifiers salted-hashed
        {{ safe_int("payload ->> 'LoaiDoiTuong'") }} as applicant_type,
        {{ hash_pii("payload ->> 'SoGiayToChuHoSo'") }} as applicant_id_hash,
        {{ hash_pii("payload ->> 'SoDienThoai'") }} as applicant_phone_hash,

        -- lifecycle dates (local yyyyMMddHHmmss -> timestamptz)
        {{ parse_local_timestamp("payload ->> 'NgayNopHoSo'") }} as submitted_at,
        {{ parse_local_timestamp("payload ->> 'NgayTiepNhan'") }} as received_at,
        {{ parse_local_timestamp("payload ->> 'NgayHenTra'") }} as due_at,
        {{ parse_local_timestamp("payload ->> 'NgayKetThucXuLy'") }} as handling_ended_at,
        {{ parse_local_timestamp("payload ->> 'NgayTra'") }} as returned_at,
        {{ parse_local_timestamp("payload ->> 'NgayTuChoi'") }} as refused_at,

        -- status and handling agency
        {{ safe_int("payload ->> 'TrangThaiHoSo'") }} as status_code,
        payload ->> 'DonViXuLy' as agency_code,
        payload ->> 'TenDonViXuLy' as agency_name,

        -- flags and lists
        {{ safe_int("payload ->> 'HoSoCoThanhPhanSoHoa'") }} = 1 as has_digitized_components,
        {{ safe_int("payload ->> 'DuocThanhToanTrucTuyen'") }} as online_payment_code,
        {{ json_array_count("payload -> 'QuaTrinhXuLy'") }} as step_count,
        {{ json_array_count("payload -> 'DanhSachHoSoBoSung'") }} as supplement_request_count,

        -- load metadata
        record_updated_at as updated_at,
        extracted_at

    from latest_versions

)

select * from renamed
