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

    -- the two fields read from one parse of the payload (each `payload -> 'x'` decompresses
    -- the stored jsonb again)
    select latest_versions.province_code, latest_versions.record_key,
        latest_versions.record_updated_at, payload_fields."DonViXuLy" as agency_code,
        payload_fields."QuaTrinhXuLy" as step_list
    from (
        {{ latest_record_version(source('onestop', 'dossiers'), true, 'dossier_updated_at') }}
    ) as latest_versions
    cross join lateral jsonb_to_record(latest_versions.payload)
        as payload_fields ("DonViXuLy" text, "QuaTrinhXuLy" jsonb)

),

steps as (

    select
        dossiers.province_code,
        dossiers.record_key as dossier_code,
        dossiers.record_updated_at as dossier_updated_at,
        dossiers.agency_code,
        step.ordinality::int as step_number,
        step_fields."NguoiXuLy" as handler_name,
        step_fields."ChucDanh" as title,
        step_fields."PhongBanXuLy" as department,
        step_fields."NoiDungXuLy" as action_text,
        step_fields."TrangThai" as status_text,
        step_fields."NgayBatDau" as started_text,
        step_fields."NgayKetThucTheoQuyDinh" as due_text,
        step_fields."ThoiDiemXuLy" as handled_text
    from dossiers
    cross join lateral jsonb_array_elements(
        {{ json_array_or_empty("dossiers.step_list") }}
    ) with ordinality as step (value, ordinality)
    -- a step that is not an object has no fields (as `->>` gives null on it)
    cross join lateral jsonb_to_record(
        case when jsonb_typeof(step.value) = 'object' then step.value else '{}'::jsonb end
    ) as step_fields (
        "NguoiXuLy" text, "ChucDanh" text, "PhongBanXuLy" text, "NoiDungXuLy" text,
        "TrangThai" text, "NgayBatDau" text, "NgayKetThucTheoQuyDinh" text, "ThoiDiemXuLy" text
    )

),

officer_keys as (

    -- hashed once per officer, not once per step: a few hundred officers handle every step
    select
        agency_code,
        handler_name,
        {{ hash_pii("agency_code || '|' || handler_name") }} as officer_key
    from (
        select distinct agency_code, handler_name from steps
        where agency_code is not null and handler_name is not null
    ) as officers

),

renamed as (

    select
        steps.province_code,
        steps.dossier_code,
        steps.dossier_updated_at,
        steps.step_number,
        steps.agency_code,
        officer_keys.officer_key,
        normalize(steps.title, nfc) as officer_title,
        normalize(steps.department, nfc) as department_name,
        normalize(steps.action_text, nfc) as action,
        normalize(steps.status_text, nfc) as step_status,
        {{ parse_local_timestamp("steps.started_text") }} as started_at,
        {{ parse_local_timestamp("steps.due_text") }} as step_due_at,
        {{ parse_local_timestamp("steps.handled_text") }} as handled_at
    from steps
    left join officer_keys
        on steps.agency_code = officer_keys.agency_code
        and steps.handler_name = officer_keys.handler_name

)

select * from renamed
