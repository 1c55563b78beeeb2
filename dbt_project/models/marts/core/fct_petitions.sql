{#- Phản ánh, kiến nghị (PAKN) — one row per petition on the portal: received, due,
    answered, on time (answered no later than its due time), satisfaction. -#}
{%- set tz = var('local_timezone') -%}
with

petitions as (

    select * from {{ ref('stg_portal__petitions') }}

),

final as (

    select
        petition_code,
        agency_code,
        category_code,
        subject,
        received_at,
        (received_at at time zone '{{ tz }}')::date as received_date,
        due_at,
        status_code,
        answered_at,
        answered_at is not null as is_answered,
        coalesce(answered_at <= due_at, false) as is_answered_on_time,
        satisfaction_code,
        satisfaction_code = 3 as is_dissatisfied,
        updated_at
    from petitions

)

select * from final
