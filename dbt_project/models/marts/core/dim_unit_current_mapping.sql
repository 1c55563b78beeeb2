{#- Re-mapping of every unit code ever valid to the unit that carries its work today: the
    successor chain of the 2025 mergers (MaDonViMoi) followed to its end, within the
    province. A unit that was
    never merged maps to itself. A quarter is reported under the units of its time
    (agency_code of the facts); joining this table on it re-maps the figures to today's
    units. -#}
with recursive

units as (

    select * from {{ ref('dim_administrative_units') }}

),

latest_periods as (

    select distinct on (province_code, unit_code)
        province_code,
        unit_code,
        unit_name,
        unit_kind,
        valid_to,
        successor_unit_code
    from units
    order by province_code, unit_code, valid_from desc

),

chain as (

    -- follow successors; depth bounds a cyclic chain entered by mistake
    select
        province_code,
        unit_code,
        unit_code as current_unit_code,
        successor_unit_code as next_unit_code,
        case when successor_unit_code is not null then valid_to + 1 end as merged_on,
        0 as depth
    from latest_periods

    union all

    select
        chain.province_code,
        chain.unit_code,
        successor.unit_code as current_unit_code,
        successor.successor_unit_code as next_unit_code,
        chain.merged_on,
        chain.depth + 1
    from chain
    inner join latest_periods as successor
        on chain.province_code = successor.province_code
        and chain.next_unit_code = successor.unit_code
    where chain.next_unit_code is not null
        and chain.next_unit_code <> chain.current_unit_code
        and chain.depth < 10

),

resolved as (

    select distinct on (province_code, unit_code)
        province_code,
        unit_code,
        current_unit_code,
        merged_on,
        depth as merger_steps
    from chain
    order by province_code, unit_code, depth desc

),

final as (

    select
        resolved.province_code,
        resolved.unit_code,
        resolved.current_unit_code,
        current_unit.unit_name as current_unit_name,
        current_unit.unit_kind as current_unit_kind,
        resolved.merged_on,
        resolved.merger_steps,
        resolved.unit_code <> resolved.current_unit_code as is_remapped
    from resolved
    left join latest_periods as current_unit
        on resolved.province_code = current_unit.province_code
        and resolved.current_unit_code = current_unit.unit_code

)

select * from final
