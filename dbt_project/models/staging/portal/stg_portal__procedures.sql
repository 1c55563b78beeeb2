{#- One row per procedure (TTHC) of the portal's catalogue: the latest version. -#}
{%- set tz = var('local_timezone') -%}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'procedures')) }}

),

renamed as (

    select
        province_code,
        record_key as procedure_code,
        normalize(payload ->> 'TenTTHC', nfc) as procedure_name,
        payload ->> 'MaLinhVuc' as field_code,
        normalize(payload ->> 'TenLinhVuc', nfc) as field_name,
        {{ safe_int("payload ->> 'CapThucHien'") }} as level_code,
        {{ safe_int("payload ->> 'ThoiHanGiaiQuyet'") }} as statutory_working_days,
        case
            when payload ->> 'LePhi' ~ '^\d{1,15}(\.\d+)?$' then (payload ->> 'LePhi')::numeric
        end as fee_amount,
        payload ->> 'MucDoDVC' as online_level,
        ({{ parse_local_timestamp("payload ->> 'NgayQuyetDinhCongBo'") }} at time zone '{{ tz }}')::date
            as announced_on,
        ({{ parse_local_timestamp("payload ->> 'NgayHieuLucCanCu'") }} at time zone '{{ tz }}')::date
            as legal_basis_effective_on,
        ({{ parse_local_timestamp("payload ->> 'NgayCongKhai'") }} at time zone '{{ tz }}')::date
            as published_on,
        {{ safe_bool("payload ->> 'DayDuNoiDung'") }} as is_content_complete,
        normalize(payload ->> 'CanCuPhapLy', nfc) as legal_basis,
        record_updated_at as updated_at,
        extracted_at
    from latest_versions

)

select * from renamed
