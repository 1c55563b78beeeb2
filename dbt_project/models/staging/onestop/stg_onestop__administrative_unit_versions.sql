{#- Every distinct version of every administrative unit (the history the SCD2 dimension is
    built from): one row per province, unit code and version. A version re-served by an
    overlapping window is the same (province, key, hash) and kept once. -#}
with

versions as (

    select distinct on (province_code, record_key, payload_hash)
        province_code,
        record_key,
        payload_hash,
        record_updated_at,
        extracted_at,
        payload
    from {{ raw_or_empty(source('onestop', 'administrative_units')) }} as raw_versions
    order by province_code, record_key, payload_hash, extracted_at desc

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
        case
            when jsonb_typeof(payload -> 'LinhVuc') = 'array'
            then array_to_string(array(select jsonb_array_elements_text(payload -> 'LinhVuc')), ', ')
        end as sectors,
        ({{ parse_local_timestamp("payload ->> 'NgayHieuLuc'") }} at time zone '{{ var("local_timezone") }}')::date
            as effective_from,
        ({{ parse_local_timestamp("payload ->> 'NgayHetHieuLuc'") }} at time zone '{{ var("local_timezone") }}')::date
            as effective_to,
        nullif(payload ->> 'MaDonViMoi', '') as successor_unit_code,
        record_updated_at as updated_at,
        extracted_at,
        payload_hash
    from versions

)

select * from renamed
