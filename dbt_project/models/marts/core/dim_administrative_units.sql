{#- Đơn vị hành chính with history (SCD type 2): one row per province, unit and period of
    validity.
    A unit's versions are grouped by their effective date (NgayHieuLuc); the latest version
    of each period wins (a merger is announced as a new version of the same period with
    NgayHetHieuLuc and MaDonViMoi). A period ends at its NgayHetHieuLuc, or the day before
    the unit's next period begins, or never (9999-12-31). -#}
with

versions as (

    select * from {{ ref('stg_onestop__administrative_unit_versions') }}
    where effective_from is not null

),

periods_ranked as (

    select
        *,
        row_number() over (
            partition by province_code, unit_code, effective_from
            order by updated_at desc nulls last, extracted_at desc, payload_hash desc
        ) as version_rank
    from versions

),

periods as (

    select
        *,
        lead(effective_from) over (
            partition by province_code, unit_code order by effective_from
        )
            as next_period_from
    from periods_ranked
    where version_rank = 1

),

final as (

    select
        province_code,
        unit_code || '@' || to_char(effective_from, 'YYYY-MM-DD') as unit_key,
        unit_code,
        unit_name,
        unit_sign,
        unit_kind,
        unit_level,
        parent_unit_code,
        case
            when unit_kind = 'district' then unit_code
            when unit_kind = 'commune' then parent_unit_code
        end as district_code,
        sectors,
        effective_from as valid_from,
        coalesce(effective_to, next_period_from - 1, date '9999-12-31') as valid_to,
        successor_unit_code,
        coalesce(effective_to, next_period_from - 1, date '9999-12-31') = date '9999-12-31'
            as is_current,
        updated_at
    from periods

)

select * from final
