{#- Thủ tục hành chính — one row per province and procedure code: the province's catalogue on
    the portal (field, level, statutory handling time, fee, online level, publication dates)
    plus any code the province's dossiers use that is not in it (is_in_catalogue false). Publication flags follow the Decision 766
    transparency rules: announced no later than its legal basis took effect; published on
    the portal within 5 days of the announcement; all mandatory parts published. -#}
with

catalogue as (

    select * from {{ ref('stg_portal__procedures') }}

),

dossier_procedures as (

    select distinct on (province_code, procedure_code)
        province_code, procedure_code, procedure_name, field_code, field_name, level_code
    from {{ ref('stg_onestop__dossiers') }}
    where procedure_code is not null
    order by province_code, procedure_code, updated_at desc, dossier_code desc

),

unioned as (

    select
        province_code, procedure_code, procedure_name, field_code, field_name, level_code,
        statutory_working_days, fee_amount, online_level, announced_on,
        legal_basis_effective_on, published_on, is_content_complete,
        true as is_in_catalogue
    from catalogue

    union all

    select
        province_code, procedure_code, procedure_name, field_code, field_name, level_code,
        null::int, null::numeric, null::text, null::date, null::date, null::date, null::boolean,
        false
    from dossier_procedures
    where not exists (
        select 1 from catalogue
        where catalogue.province_code = dossier_procedures.province_code
            and catalogue.procedure_code = dossier_procedures.procedure_code
    )

),

final as (

    select
        province_code,
        procedure_code,
        procedure_name,
        field_code,
        field_name,
        level_code,
        case level_code when 1 then 'tỉnh' when 2 then 'huyện' when 3 then 'xã' end as level_name,
        statutory_working_days,
        fee_amount,
        coalesce(fee_amount > 0, false) as is_fee_bearing,
        online_level,
        online_level = 'toan-trinh' as is_full_online,
        coalesce(online_level in ('toan-trinh', 'mot-phan'), false) as is_online_service,
        announced_on,
        legal_basis_effective_on,
        published_on,
        is_content_complete,
        announced_on <= legal_basis_effective_on as is_announced_on_time,
        published_on - announced_on <= 5 as is_published_on_time,
        is_in_catalogue
    from unioned

)

select * from final
