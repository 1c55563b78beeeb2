{#- Hồ sơ đang giải quyết có nguy cơ trễ hạn — a minimal early-warning mart, one row per open
    dossier as of the last loaded night. The rule is the naive one: a dossier is at risk when
    due within 2 working days (or already overdue). It learns nothing from history, so
    expected_remaining_working_days and risk_probability stay null; the learned model replaces
    this file with the same name, columns and grain. -#}
{{ config(materialized='table') }}
{% set tz = var('local_timezone') %}

with

dossiers as (

    select * from {{ ref('fct_dossiers') }}

),

as_of as (

    -- the day the data reach: the latest change the province's one-stop system reported
    -- (not the wall clock of the extraction, so a replayed night is as of its own day)
    select province_code, max((updated_at at time zone '{{ tz }}')::date) as as_of_date
    from dossiers
    group by province_code

),

calendar as (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

open_dossiers as (

    select d.*, a.as_of_date
    from dossiers d
    join as_of a using (province_code)
    where not d.is_ended and d.due_date is not null and d.received_date <= a.as_of_date

),

holding as (

    -- where the dossier stands now: its latest recorded step (the one-stop system records a
    -- step when it is handed on, so the latest one names the action and agency holding it)
    select distinct on (province_code, dossier_code)
        province_code, dossier_code, action, agency_code
    from {{ ref('fct_handling_steps') }}
    order by province_code, dossier_code, step_number desc

),

apologies as (

    select province_code, dossier_code, bool_or(has_apology_letter) as has_apology_letter
    from {{ ref('int_dossier_matches') }}
    group by province_code, dossier_code

),

scored as (

    select
        o.province_code,
        o.dossier_code,
        o.agency_code,
        o.procedure_code,
        o.field_code,
        o.level_code,
        o.received_at,
        o.due_date,
        o.as_of_date,
        (due.working_day_number - today.working_day_number)::int as working_days_left,
        h.action as holding_step,
        h.agency_code as holding_agency_code,
        coalesce(ap.has_apology_letter, false) as has_apology_letter
    from open_dossiers o
    join calendar due on due.date_day = o.due_date
    join calendar today on today.date_day = o.as_of_date
    left join holding h using (province_code, dossier_code)
    left join apologies ap using (province_code, dossier_code)

)

select
    province_code::text as province_code,
    dossier_code::text as dossier_code,
    agency_code::text as agency_code,
    procedure_code::text as procedure_code,
    field_code::text as field_code,
    level_code::int as level_code,
    received_at::timestamptz as received_at,
    due_date::date as due_date,
    as_of_date::date as as_of_date,
    working_days_left::int as working_days_left,
    holding_step::text as holding_step,
    holding_agency_code::text as holding_agency_code,
    null::numeric as expected_remaining_working_days,
    null::numeric as risk_probability,
    (working_days_left <= 2)::boolean as is_at_risk,
    (case
        when working_days_left < 0 then 'đã quá hạn ' || (-working_days_left) || ' ngày làm việc'
        when working_days_left <= 2 then 'còn ' || working_days_left || ' ngày làm việc'
    end)::text as risk_reason,
    (working_days_left < 0)::boolean as is_late,
    (working_days_left < 0)::boolean as apology_letter_due,
    has_apology_letter::boolean as has_apology_letter,
    (working_days_left < 0 and not has_apology_letter)::boolean as is_late_without_apology
from scored
