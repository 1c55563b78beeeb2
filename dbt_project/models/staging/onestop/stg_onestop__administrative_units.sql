{#- One row per administrative unit code: its latest version. -#}
with

latest_versions as (

    {{ latest_record_version(source('onestop', 'administrative_units')) }}

),

renamed as (

    select
        province_code,
        record_key as unit_code,
        normalize(payload ->> 'TenDonVi', nfc) as unit_name,
        payload ->> 'KyHieu' as unit_sign,
        payload ->> 'LoaiDonVi' as unit_kind,
        {{ safe_int("payload ->> 'CapDonVi'") }} as unit_level,
        nullif(payload ->> 'MaDonViCha', '') as parent_unit_code,
        ({{ parse_local_timestamp("payload ->> 'NgayHieuLuc'") }} at time zone '{{ var("local_timezone") }}')::date
            as effective_from,
        ({{ parse_local_timestamp("payload ->> 'NgayHetHieuLuc'") }} at time zone '{{ var("local_timezone") }}')::date
            as effective_to,
        nullif(payload ->> 'MaDonViMoi', '') as successor_unit_code,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
