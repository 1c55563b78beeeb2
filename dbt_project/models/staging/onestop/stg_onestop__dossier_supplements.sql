{#- One row per supplement request (DanhSachHoSoBoSung, Mẫu 02) of the latest version of each
    dossier, in the order the source lists them. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_rows(source('onestop', 'dossiers'), 'dossier_code', 'dossier_updated_at') }}",
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'request_number'], 'unique': true},
            {'columns': ['province_code', 'dossier_updated_at']},
        ],
    )
}}
with

dossiers as (

    select province_code, record_key, record_updated_at, payload
    from (
        {{ latest_record_version(source('onestop', 'dossiers'), true, 'dossier_updated_at') }}
    ) as latest_versions

),

requests as (

    select
        dossiers.province_code,
        dossiers.record_key as dossier_code,
        dossiers.record_updated_at as dossier_updated_at,
        request.ordinality::int as request_number,
        request.value as request
    from dossiers
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("dossiers.payload -> 'DanhSachHoSoBoSung'") }}
    ) with ordinality as request (value, ordinality)

),

renamed as (

    select
        province_code,
        dossier_code,
        dossier_updated_at,
        request_number,
        {{ parse_local_timestamp("request ->> 'NgayBoSung'") }} as requested_at,
        {{ parse_local_timestamp("request ->> 'NgayTiepNhanBoSung'") }} as resubmitted_at,
        {{ parse_local_timestamp("request ->> 'NgayHenTraTruoc'") }} as previous_due_at,
        {{ parse_local_timestamp("request ->> 'NgayHenTraMoi'") }} as new_due_at
    from requests

)

select * from renamed
