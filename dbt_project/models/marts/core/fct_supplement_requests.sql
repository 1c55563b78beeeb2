{#- Yêu cầu bổ sung hồ sơ (Mẫu 02) — one row per supplement request of each dossier, with
    the waiting time (request to supplemented dossier received) in hours and working days;
    the waiting time does not count against the deadline. -#}
{%- set tz = var('local_timezone') -%}
with

requests as (

    select * from {{ ref('stg_onestop__dossier_supplements') }}

),

dossiers as (

    select dossier_code, agency_code, procedure_code from {{ ref('stg_onestop__dossiers') }}

),

calendar as (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

final as (

    select
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
    inner join dossiers on requests.dossier_code = dossiers.dossier_code
    left join calendar as requested_day
        on (requests.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    left join calendar as resumed_day
        on (requests.resubmitted_at at time zone '{{ tz }}')::date = resumed_day.date_day

)

select * from final
