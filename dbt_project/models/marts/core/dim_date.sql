with

days as (

    select day::date as date_day
    from generate_series('2020-01-01'::date, '2030-12-31'::date, interval '1 day') as day

),

holidays as (

    select date as holiday_date, name as holiday_name
    from {{ ref('vn_public_holidays') }}

),

calendar as (

    select
        days.date_day,
        extract(year from days.date_day)::int as year,
        extract(quarter from days.date_day)::int as quarter,
        extract(month from days.date_day)::int as month,
        date_trunc('month', days.date_day)::date as month_start,
        date_trunc('quarter', days.date_day)::date as quarter_start,
        extract(isodow from days.date_day)::int as iso_day_of_week,
        extract(isodow from days.date_day) in (6, 7) as is_weekend,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name
    from days
    left join holidays on days.date_day = holidays.holiday_date

),

working_days_flagged as (

    select
        *,
        not is_weekend and not is_holiday as is_working_day
    from calendar

),

final as (

    select
        *,
        -- running count of working days up to and including this day: the working days after
        -- day a up to and including day b are working_day_number(b) - working_day_number(a)
        (count(*) filter (where is_working_day) over (order by date_day))::int
            as working_day_number
    from working_days_flagged

)

select * from final
