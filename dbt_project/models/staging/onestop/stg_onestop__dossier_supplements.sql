{#- One row per supplement request (DanhSachHoSoBoSung, Mẫu 02) of the latest version of each
    dossier, in the order the source lists them. -#}
with

dossiers as (

    select record_key, payload
    from ({{ latest_record_version(source('onestop', 'dossiers')) }}) as latest_versions

),

requests as (

    select
        dossiers.record_key as dossier_code,
        request.ordinality::int as request_number,
        request.value as request
    from dossiers
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("dossiers.payload -> 'DanhSachHoSoBoSung'") }}
    ) with ordinality as request (value, ordinality)

),

renamed as (

    select
        dossier_code,
        request_number,
        {{ parse_local_timestamp("request ->> 'NgayBoSung'") }} as requested_at,
        {{ parse_local_timestamp("request ->> 'NgayTiepNhanBoSung'") }} as resubmitted_at,
        {{ parse_local_timestamp("request ->> 'NgayHenTraTruoc'") }} as previous_due_at,
        {{ parse_local_timestamp("request ->> 'NgayHenTraMoi'") }} as new_due_at
    from requests

)

select * from renamed
