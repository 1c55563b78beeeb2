{#- Cơ quan, đơn vị xử lý hồ sơ — every agency that handles dossiers, per province: each
    administrative unit (department, district, commune) under its latest name, with the span
    it was valid, its district and the unit that carries its work today; plus any code the
    province's dossiers use that is no administrative unit of it (is_known_unit false): a
    data-entry error, named 'Mã đơn vị không hợp lệ' so no mart shows it as the unit whose
    name was entered with it (that name is kept in name_as_entered, from its latest dossier). -#}
with

units as (

    select * from {{ ref('dim_administrative_units') }}

),

mapping as (

    select * from {{ ref('dim_unit_current_mapping') }}

),

dossiers as (

    select province_code, agency_code, agency_name, updated_at, dossier_code
    from {{ ref('stg_onestop__dossiers') }}
    where agency_code is not null

),

unit_spans as (

    select distinct on (province_code, unit_code)
        province_code,
        unit_code as agency_code,
        unit_name as agency_name,
        unit_kind,
        unit_level,
        district_code,
        updated_at as name_seen_at,
        min(valid_from) over (partition by province_code, unit_code) as valid_from,
        max(valid_to) over (partition by province_code, unit_code) as valid_to,
        null::text as name_as_entered
    from units
    order by province_code, unit_code, valid_from desc

),

dossier_names_ranked as (

    select
        province_code,
        agency_code,
        agency_name,
        updated_at,
        row_number() over (
            partition by province_code, agency_code
            order by (agency_name is null), updated_at desc, dossier_code desc
        ) as name_rank
    from dossiers

),

unknown_agencies as (

    select
        ranked.province_code,
        ranked.agency_code,
        'Mã đơn vị không hợp lệ'::text as agency_name,
        null::text as unit_kind,
        null::int as unit_level,
        null::text as district_code,
        ranked.updated_at as name_seen_at,
        null::date as valid_from,
        null::date as valid_to,
        ranked.agency_name as name_as_entered
    from dossier_names_ranked as ranked
    where ranked.name_rank = 1
        and not exists (
            select 1 from unit_spans
            where unit_spans.province_code = ranked.province_code
                and unit_spans.agency_code = ranked.agency_code
        )

),

agencies as (

    select *, true as is_known_unit from unit_spans
    union all
    select *, false as is_known_unit from unknown_agencies

),

final as (

    select
        agencies.province_code,
        agencies.agency_code,
        agencies.agency_name,
        agencies.unit_kind,
        agencies.unit_level,
        agencies.district_code,
        agencies.valid_from,
        agencies.valid_to,
        coalesce(agencies.valid_to = date '9999-12-31', false) as is_current,
        coalesce(mapping.current_unit_code, agencies.agency_code) as current_agency_code,
        coalesce(mapping.current_unit_name, agencies.agency_name) as current_agency_name,
        agencies.is_known_unit,
        agencies.name_seen_at,
        agencies.name_as_entered
    from agencies
    left join mapping
        on agencies.province_code = mapping.province_code
        and agencies.agency_code = mapping.unit_code

)

select * from final
