{#- Who handled each step (pseudonymous officer key and title) beside the step's lateness:
    fct_handling_steps joined back to staging, where the officer columns stay. A view in the
    restricted schema: it runs with its owner's (the transformer's) privileges, so the
    officer reviewer reads it without any access to staging, and BI cannot read it. -#}
{{ config(materialized='view') }}

select
    steps.province_code,
    steps.dossier_code,
    steps.step_number,
    steps.agency_code,
    steps.department_name,
    officers.officer_key,
    officers.officer_title,
    steps.started_at,
    steps.step_due_at,
    steps.handled_at,
    steps.is_step_late,
    steps.overrun_working_days,
    steps.is_dossier_late,
    steps.is_lateness_cause
from {{ ref('fct_handling_steps') }} as steps
inner join {{ ref('stg_onestop__handling_steps') }} as officers
    on steps.province_code = officers.province_code
    and steps.dossier_code = officers.dossier_code
    and steps.step_number = officers.step_number
