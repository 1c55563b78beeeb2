with

latest_versions as (

    {{ latest_record_version(source('portal', 'dossier_syncs')) }}

),

renamed as (

    select
        record_key as dossier_code,
        payload ->> 'MaTTHC' as procedure_code,
        payload ->> 'DonViXuLy' as agency_code,
        {{ safe_int("payload ->> 'KenhThucHien'") }} as channel_code,
        {{ safe_int("payload ->> 'TrangThaiHoSo'") }} as status_code,
        {{ parse_local_timestamp("payload ->> 'NgayTiepNhan'") }} as received_at,
        {{ parse_local_timestamp("payload ->> 'NgayHenTra'") }} as due_at,
        {{ parse_local_timestamp("payload ->> 'NgayKetThucXuLy'") }} as handling_ended_at,
        {{ parse_local_timestamp("payload ->> 'NgayDongBo'") }} as synced_at,
        record_updated_at as updated_at,
        extracted_at

    from latest_versions

)

select * from renamed
