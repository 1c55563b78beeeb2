{#- Yêu cầu bổ sung hồ sơ (Mẫu 02) — one row per supplement request of each dossier, with
    the waiting time (request to supplemented dossier received) in hours and working days;
    the waiting time does not count against the deadline. Incremental like fct_dossiers: the
    requests of the rebuilt dossiers are deleted (pre-hook) and inserted again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_rows(dossier_rebuild_sources(), 'dossier_code') }}",
        post_hook="{{ save_dossier_watermarks() }}",
        indexes=[{'columns': ['province_code', 'dossier_code', 'request_number'], 'unique': true}],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set rebuilt = rebuild_filter(rebuild_keys(dossier_rebuild_sources()), 'dossier_code') %}

with

requests as (

    select * from {{ ref('stg_onestop__dossier_supplements') }}
    where {{ rebuilt }}

),

dossiers as (

    select province_code, dossier_code, agency_code, procedure_code
    from {{ ref('stg_onestop__dossiers') }}
    where {{ rebuilt }}

),

calendar as (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

final as (

    select
        requests.province_code,
        requests.dossier_code,
        requests.request_number,
        dossiers.agency_code,
        dossiers.procedure_code,
        requests.requested_at,
        requests.resubmitted_at,
        requests.previous_due_at,
        requests.new_due_at,
        requests.resubmitted_at is null as is_waiting,
        round((extract(epoch from requests.resubmitted_at - requests.requested_at) / 3600)::numeric, 2)
            as wait_hours,
        resumed_day.working_day_number - requested_day.working_day_number as wait_working_days,
        requests.request_number > 1 as is_repeat_request
    from requests
    inner join dossiers
        on requests.province_code = dossiers.province_code
        and requests.dossier_code = dossiers.dossier_code
    left join calendar as requested_day
        on (requests.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    left join calendar as resumed_day
        on (requests.resubmitted_at at time zone '{{ tz }}')::date = resumed_day.date_day

)

select * from final
