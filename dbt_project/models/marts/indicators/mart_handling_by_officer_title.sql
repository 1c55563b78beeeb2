{#- Xử lý hồ sơ theo chức danh — handling steps and lateness per province, month and officer
    title, for BI. Officer figures reach BI only aggregated over at least
    `officer_group_min_officers` officers (k, docs/personal-data.md): a title held by fewer
    officers that month is pooled into "Chức danh khác", and a pool still smaller than k is
    withheld, so no row describes fewer than k people. No agency: the only officer of a
    title in an agency would be singled out. -#}
{%- set k = var('officer_group_min_officers') | int %}

with

officers as (

    select
        province_code,
        month_start,
        officer_key,
        officer_title,
        step_count,
        late_step_count,
        lateness_cause_count,
        count(*) over (partition by province_code, month_start, officer_title) as title_officers
    from {{ ref('mart_officer_lateness_monthly') }}

),

grouped as (

    select
        province_code,
        month_start,
        case
            when officer_title is not null and title_officers >= {{ k }} then officer_title
            else 'Chức danh khác'
        end as officer_title_group,
        count(distinct officer_key)::int as officer_count,
        sum(step_count)::int as step_count,
        sum(late_step_count)::int as late_step_count,
        sum(lateness_cause_count)::int as lateness_cause_count
    from officers
    group by 1, 2, 3

),

final as (

    select
        province_code,
        month_start,
        officer_title_group,
        officer_count,
        step_count,
        late_step_count,
        lateness_cause_count,
        round(late_step_count::numeric / nullif(step_count, 0), 4) as late_step_ratio
    from grouped
    where officer_count >= {{ k }}

)

select * from final
