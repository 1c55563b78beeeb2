{#- One row per petition (phản ánh, kiến nghị, PAKN) received on the portal: the latest
    version. The free-text content (NoiDung) may name people and is dropped; the subject is
    kept. -#}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'petitions')) }}

),

renamed as (

    select
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
