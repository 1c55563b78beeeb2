with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}

),

final as (

    select
        dossier_code,
        agency_code,
        procedure_code,
        field_code,
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
        end_type,
        received_date,
        due_date,
        ended_date,
        is_ended,
        is_ended and coalesce(ended_at <= due_at and supplement_request_count <= 1, false)
            as is_ended_on_time,
        is_ended and not coalesce(ended_at <= due_at and supplement_request_count <= 1, false)
            as is_ended_late,
        supplement_request_count,
        supplement_request_count > 1 as has_multiple_supplement_requests,
        step_count,
        has_digitized_components,
        online_payment_code,
        updated_at,
        extracted_at
    from dossiers

)

select * from final
