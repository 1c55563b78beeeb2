{#- The statutory handling time of each procedure in working days: the province's portal
    catalogue (ThoiHanGiaiQuyet) where it knows the procedure, else the seed
    procedure_statutory_days (manual additions, national: province_code null, for every
    province whose catalogue lacks the code). Procedures in neither fall back, in
    int_dossier_deadlines, to the appointment the one-stop system set at receipt. -#}
with

catalogue as (

    select province_code, procedure_code, statutory_working_days
    from {{ ref('stg_portal__procedures') }}
    where statutory_working_days is not null

),

seeded as (

    select procedure_code, statutory_working_days
    from {{ ref('procedure_statutory_days') }}

),

final as (

    select province_code, procedure_code, statutory_working_days, 'catalogue' as days_source
    from catalogue
    union all
    select null::text, procedure_code, statutory_working_days, 'seed' from seeded

)

select * from final
