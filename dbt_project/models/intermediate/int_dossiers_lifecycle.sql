{#- Every dossier with the moment its handling ended (Decision 766: the first of handled,
    returned and refused/stopped) and the local calendar dates the marts group by. -#}
{%- set tz = var('local_timezone') -%}

with

dossiers as (

    select * from {{ ref('stg_onestop__dossiers') }}

),

with_end as (

    select
        *,
        -- least() ignores nulls: null only when none of the three happened
        least(handling_ended_at, returned_at, refused_at) as ended_at
    from dossiers

),

lifecycle as (

    select
        province_code,
        dossier_code,
        agency_code,
        procedure_code,
        field_code,
        field_name,
        level_code,
        channel_code,
        applicant_type,
        status_code,
        submitted_at,
        received_at,
        due_at,
        handling_ended_at,
        returned_at,
        refused_at,
        ended_at,
        case
            when ended_at is null then null
            when ended_at = handling_ended_at then 'handled'
            when ended_at = returned_at then 'returned'
            else 'refused'
        end as end_type,
        ended_at is not null as is_ended,
        supplement_request_count,
        step_count,
        has_digitized_components,
        online_payment_code,
        is_vneid_verified,
        component_count,
        digitized_component_count,
        reused_component_count,
        national_store_component_count,
        fee_count,
        fee_amount,
        electronic_result_count,
        (received_at at time zone '{{ tz }}')::date as received_date,
        (due_at at time zone '{{ tz }}')::date as due_date,
        (ended_at at time zone '{{ tz }}')::date as ended_date,
        updated_at,
        extracted_at
    from with_end

)

select * from lifecycle
