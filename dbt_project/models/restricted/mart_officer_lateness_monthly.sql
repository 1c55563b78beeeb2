{#- Danh sách cán bộ để xảy ra chậm trễ (Decision 766; the province publishes it monthly) —
    per province, month, agency and officer (pseudonymous key and title): steps handled,
    steps late, and the dossiers whose lateness is attributed to the officer's step. The
    reviewing office finds the names for its list by opening those dossiers in the one-stop
    system, which holds them; the warehouse keeps no name. Restricted: never for BI. -#}
{%- set tz = var('local_timezone') %}

with

steps as (

    select
        province_code,
        date_trunc('month', (coalesce(handled_at, started_at) at time zone '{{ tz }}'))::date
            as month_start,
        agency_code,
        officer_key,
        officer_title,
        dossier_code,
        is_step_late,
        is_lateness_cause
    from {{ ref('officer_handling_steps') }}
    where officer_key is not null and coalesce(handled_at, started_at) is not null

),

final as (

    select
        province_code,
        month_start,
        agency_code,
        officer_key,
        -- the title the officer had most often that month (alphabetically first on a tie)
        mode() within group (order by officer_title) as officer_title,
        count(*)::int as step_count,
        count(*) filter (where is_step_late)::int as late_step_count,
        count(*) filter (where is_lateness_cause)::int as lateness_cause_count,
        -- text, not an array: printable as is, and readable by any BI or export tool
        string_agg(distinct dossier_code, ', ' order by dossier_code)
            filter (where is_lateness_cause) as late_dossier_codes
    from steps
    group by province_code, month_start, agency_code, officer_key

)

select * from final
