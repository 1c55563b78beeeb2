{#- One row per dossier synced to the national portal: the latest sync record. Incremental
    like stg_onestop__dossiers; logs the receipt days of the copies that changed, for
    mart_qd766_scores (macro log_changed_periods). -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'dossier_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ snapshot_rebuilt_rows(changed_records(raw_changes(source('portal', 'dossier_syncs')), 'record_key', 'updated_at', 'dossier_code'), sync_receipt_periods()) }}",
        post_hook="{{ log_changed_periods(changed_records(raw_changes(source('portal', 'dossier_syncs')), 'record_key', 'updated_at', 'dossier_code'), sync_receipt_periods()) }}",
        indexes=[
            {'columns': ['province_code', 'dossier_code'], 'unique': true},
            {'columns': ['province_code', 'updated_at']},
        ],
    )
}}
with

latest_versions as (

    {{ latest_record_version(source('portal', 'dossier_syncs'), changed_only=true) }}

),

renamed as (

    select
        province_code,
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
