{#- One row per handling step (QuaTrinhXuLy) of the latest version of each dossier, in the
    order the source lists them. The handler's name (NguoiXuLy) never leaves staging: the
    officer is identified by a salted hash of agency and name (the same key as a document's signer). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_rows(source('onestop', 'dossiers'), 'dossier_code', 'dossier_updated_at') }}",
        indexes=[
            {'columns': ['province_code', 'dossier_code', 'step_number'], 'unique': true},
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

steps as (

    select
        dossiers.province_code,
        dossiers.record_key as dossier_code,
        dossiers.record_updated_at as dossier_updated_at,
        dossiers.payload ->> 'DonViXuLy' as agency_code,
        step.ordinality::int as step_number,
        step.value as step
    from dossiers
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("dossiers.payload -> 'QuaTrinhXuLy'") }}
    ) with ordinality as step (value, ordinality)

),

renamed as (

    select
        province_code,
        dossier_code,
        dossier_updated_at,
        step_number,
        agency_code,
        {{ hash_pii("agency_code || '|' || (step ->> 'NguoiXuLy')") }}
            as officer_key,
        normalize(step ->> 'ChucDanh', nfc) as officer_title,
        normalize(step ->> 'PhongBanXuLy', nfc) as department_name,
        normalize(step ->> 'NoiDungXuLy', nfc) as action,
        normalize(step ->> 'TrangThai', nfc) as step_status,
        {{ parse_local_timestamp("step ->> 'NgayBatDau'") }} as started_at,
        {{ parse_local_timestamp("step ->> 'NgayKetThucTheoQuyDinh'") }} as step_due_at,
        {{ parse_local_timestamp("step ->> 'ThoiDiemXuLy'") }} as handled_at
    from steps

)

select * from renamed
