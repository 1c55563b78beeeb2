{#- Every received dossier with its deadline in working days and its handling time with the
    supplement waiting time subtracted (rule in _intermediate.yml). Incremental: the
    dossiers changed since the run before, and the open ones with a supplement request
    still waiting once the as-of has moved (their waiting time runs to the as-of: nothing
    else here depends on it, open_dossier_events), are deleted and inserted again; a change
    of the province's procedure catalogue rebuilds the whole province. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_rebuilt_rows(dossier_rebuild_sources(open='deadlines', catalogue=true), 'dossier_code') }}",
        post_hook="{{ save_dossier_watermarks(catalogue=true) }}",
        indexes=[{'columns': ['province_code', 'dossier_code'], 'unique': true}],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set rebuilt = rebuilt_dossiers(open='deadlines', catalogue=true) %}

with

dossiers as not materialized (

    select * from {{ ref('int_dossiers_lifecycle') }}
    where received_at is not null and {{ rebuilt }}

),

supplements as not materialized (

    select * from {{ ref('stg_onestop__dossier_supplements') }}
    where {{ rebuilt }}

),

calendar as not materialized (

    select date_day, is_working_day, working_day_number from {{ ref('dim_date') }}

),

statutory_days as not materialized (

    select province_code, procedure_code, statutory_working_days
    from {{ ref('int_procedure_statutory_days') }}

),

data_as_of as (

    -- how far each province's data reaches (all its dossiers)
    select province_code, latest as as_of
    from {{ latest_per_province(ref('int_dossiers_lifecycle')) }} as latest

),

first_supplements as (

    -- the appointment before the first supplement request: the deadline the agency set at
    -- receipt, before supplement waiting time pushed it back
    select province_code, dossier_code, previous_due_at as first_previous_due_at
    from supplements
    where request_number = 1

),

supplement_waits as (

    -- a request still waiting runs until the dossier's end or, while open, the data's as-of
    select
        supplements.province_code,
        supplements.dossier_code,
        sum(
            coalesce(supplements.resubmitted_at, dossiers.ended_at, data_as_of.as_of)
            - supplements.requested_at
        ) as supplement_wait,
        sum(resumed_day.working_day_number - requested_day.working_day_number)::int
            as supplement_wait_working_days
    from supplements
    inner join dossiers
        on supplements.province_code = dossiers.province_code
        and supplements.dossier_code = dossiers.dossier_code
    inner join data_as_of on supplements.province_code = data_as_of.province_code
    inner join calendar as requested_day
        on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    inner join calendar as resumed_day
        on (
            coalesce(supplements.resubmitted_at, dossiers.ended_at, data_as_of.as_of)
            at time zone '{{ tz }}'
        )::date = resumed_day.date_day
    where supplements.requested_at is not null
    group by supplements.province_code, supplements.dossier_code

),

allowed as (

    select
        dossiers.*,
        coalesce(first_supplements.first_previous_due_at, dossiers.due_at) as original_due_at,
        coalesce(catalogue_days.statutory_working_days, seeded_days.statutory_working_days)
            as statutory_working_days,
        original_due_day.working_day_number - received_day.working_day_number
            as appointment_working_days,
        received_day.working_day_number as received_working_day_number,
        coalesce(supplement_waits.supplement_wait, interval '0') as supplement_wait,
        coalesce(supplement_waits.supplement_wait_working_days, 0) as supplement_wait_working_days,
        end_day.working_day_number - received_day.working_day_number as handling_working_days
    from dossiers
    left join first_supplements
        on dossiers.province_code = first_supplements.province_code
        and dossiers.dossier_code = first_supplements.dossier_code
    left join supplement_waits
        on dossiers.province_code = supplement_waits.province_code
        and dossiers.dossier_code = supplement_waits.dossier_code
    -- the province's catalogue first, then the national seed
    left join statutory_days as catalogue_days
        on dossiers.province_code = catalogue_days.province_code
        and dossiers.procedure_code = catalogue_days.procedure_code
    left join statutory_days as seeded_days
        on seeded_days.province_code is null
        and dossiers.procedure_code = seeded_days.procedure_code
    left join calendar as received_day on dossiers.received_date = received_day.date_day
    left join calendar as original_due_day
        on (
            coalesce(first_supplements.first_previous_due_at, dossiers.due_at)
            at time zone '{{ tz }}'
        )::date = original_due_day.date_day
    left join calendar as end_day on dossiers.ended_date = end_day.date_day

),

deadlines as (

    -- the allowed_working_days-th working day after receipt: the working day whose running
    -- number is the receipt day's plus the allowance (a hash join, not a scan per dossier)
    select
        allowed.*,
        coalesce(allowed.statutory_working_days, allowed.appointment_working_days)
            as allowed_working_days,
        deadline_day.date_day as deadline_date
    from allowed
    left join calendar as deadline_day
        on deadline_day.working_day_number = allowed.received_working_day_number
            + coalesce(allowed.statutory_working_days, allowed.appointment_working_days)
        and deadline_day.is_working_day

),

judged as (

    select
        province_code,
        dossier_code,
        agency_code,
        procedure_code,
        field_code,
        level_code,
        channel_code,
        received_at,
        received_date,
        due_at,
        original_due_at,
        ended_at,
        ended_date,
        is_ended,
        supplement_request_count,
        statutory_working_days,
        appointment_working_days,
        allowed_working_days,
        deadline_date,
        supplement_wait,
        supplement_wait_working_days,
        ended_at - received_at - supplement_wait as net_handling_time,
        handling_working_days,
        handling_working_days - supplement_wait_working_days as net_handling_working_days,
        is_ended
            and coalesce(
                handling_working_days - supplement_wait_working_days <= allowed_working_days,
                false
            )
            and supplement_request_count <= 1
            as is_ended_on_time_net
    from deadlines

)

select * from judged
