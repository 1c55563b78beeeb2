{#- Early warning of dossiers at risk of ending late (mart_dossiers_at_risk, and the replay
    that measures it: cchc warn score). One row per night × dossier open at the end of that
    night's as-of date.

    nights:   SQL giving (province_code, as_of_date): the nights to judge.
    training: SQL giving (province_code, trained_through): the history the model learns from
              is the dossiers received in the `warning_history_days` before that date (less
              the last `warning_settle_days`, whose slow dossiers have not ended yet) and
              handled by it. Nothing after it is read, so a replay never peeks at the future.

    The model, per handling state (the last step recorded: "received", "forwarded to the
    department", "sent for another agency's opinion", "reviewed", …): R = working days from
    the day that step was recorded to the dossier's end, as a share of the procedure's
    statutory days (so a 5-day and a 20-day procedure of the same agency pool together),
    counted over history as a histogram per group. A dossier that has spent e working days
    in its state and has L working days left ends late when R > e + L, and it is still
    open, so R > e: P(late) = #(R > e + L) / #(R > e), smoothed. The group is the first of
    procedure × agency, agency, field × level, all (the last three apart for procedures of
    three days or less) with at least `warning_min_history` dossiers in that state.
    Each row joins only its group's histogram (a few dozen buckets): the cost grows with the
    open dossiers, plus one pass over the history window per run. -#}
{% macro warning_rows(nights, training) -%}
{%- set tz = var('local_timezone') %}
{%- set min_history = var('warning_min_history', 30) %}
{%- set history_days = var('warning_history_days', 240) %}
{%- set settle_days = var('warning_settle_days', 45) %}
{%- set per_allowed = 50 %}  {#- histogram buckets per statutory period #}
{%- set cap = 150 %}  {#- three statutory periods: longer is pooled as "longer" #}

nights as not materialized (

    select province_code, as_of_date from ({{ nights }}) as given_nights

),

training as not materialized (

    select province_code, trained_through from ({{ training }}) as given_training

),

calendar as not materialized (

    select date_day, working_day_number from {{ ref('dim_date') }}

),

statutory as not materialized (

    select province_code, dossier_code, allowed_working_days
    from {{ ref('int_dossier_deadlines') }}

),

history_dossiers as (

    select
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.agency_code,
        dossiers.procedure_code,
        dossiers.field_code,
        dossiers.level_code,
        greatest(coalesce(statutory.allowed_working_days, 1), 1) as allowed_working_days,
        dossiers.handling_ended_at,
        end_day.working_day_number as end_number
    from {{ ref('fct_dossiers') }} as dossiers
    inner join training on dossiers.province_code = training.province_code
    inner join calendar as end_day
        on (dossiers.handling_ended_at at time zone '{{ tz }}')::date = end_day.date_day
    left join statutory
        on dossiers.province_code = statutory.province_code
        and dossiers.dossier_code = statutory.dossier_code
    where dossiers.received_date > training.trained_through - {{ history_days }}
        and dossiers.received_date <= training.trained_through - {{ settle_days }}
        and (dossiers.handling_ended_at at time zone '{{ tz }}')::date <= training.trained_through

),

history_steps as (

    select *
    from (
        select
            history_dossiers.*,
            steps.action as state,
            steps.handled_at,
            lead(steps.action) over (
                partition by steps.province_code, steps.dossier_code order by steps.step_number
            ) as next_action,
            -- in fiftieths of the statutory period, so procedures of any length pool together
            least(
                floor(
                    (history_dossiers.end_number - step_day.working_day_number) * {{ per_allowed }}
                    / history_dossiers.allowed_working_days::numeric
                ),
                {{ cap }}
            )::int as remaining
        from history_dossiers
        inner join {{ ref('fct_handling_steps') }} as steps
            on history_dossiers.province_code = steps.province_code
            and history_dossiers.dossier_code = steps.dossier_code
        inner join calendar as step_day
            on (steps.handled_at at time zone '{{ tz }}')::date = step_day.date_day
    ) as all_steps
    -- the states a dossier waits in: the steps recorded before its end
    where handled_at < handling_ended_at

),

next_steps as (

    -- the step that usually follows a state: what a dossier in that state is waiting for
    select distinct on (province_code, state) province_code, state, next_action as holding_step
    from history_steps
    where next_action is not null
    group by province_code, state, next_action
    order by province_code, state, count(*) desc, next_action

),

keyed_history as (

    {%- for level, key in warning_group_keys().items() %}
    select province_code, state, remaining, {{ level }} as group_level, {{ key }} as group_key
    from history_steps
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

histogram as (

    select province_code, group_level, group_key, state, remaining, count(*) as dossiers
    from keyed_history
    group by province_code, group_level, group_key, state, remaining

),

group_sizes as (

    select province_code, group_level, group_key, state, sum(dossiers) as dossiers
    from histogram
    group by province_code, group_level, group_key, state
    having sum(dossiers) >= {{ min_history }} or group_level = {{ warning_group_keys() | length }}

),

open_dossiers as (

    select
        nights.as_of_date,
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.agency_code,
        dossiers.procedure_code,
        dossiers.field_code,
        dossiers.level_code,
        dossiers.received_at,
        dossiers.due_date,
        greatest(coalesce(statutory.allowed_working_days, 1), 1) as allowed_working_days
    from nights
    inner join {{ ref('fct_dossiers') }} as dossiers
        on dossiers.province_code = nights.province_code
        and dossiers.received_date <= nights.as_of_date
        and coalesce(dossiers.ended_date, 'infinity'::date) > nights.as_of_date
        -- a withdrawn dossier leaves at its last update (the withdrawal)
        and (
            dossiers.status_code is distinct from 7
            or (dossiers.updated_at at time zone '{{ tz }}')::date > nights.as_of_date
        )
    left join statutory
        on dossiers.province_code = statutory.province_code
        and dossiers.dossier_code = statutory.dossier_code

),

states as (

    -- the last step recorded by the night: the state the dossier waits in, and since when
    select distinct on (open_dossiers.as_of_date, open_dossiers.province_code, open_dossiers.dossier_code)
        open_dossiers.*,
        steps.action as state,
        coalesce(steps.agency_code, open_dossiers.agency_code) as holding_agency_code,
        (steps.handled_at at time zone '{{ tz }}')::date as state_date
    from open_dossiers
    left join {{ ref('fct_handling_steps') }} as steps
        on open_dossiers.province_code = steps.province_code
        and open_dossiers.dossier_code = steps.dossier_code
        and (steps.handled_at at time zone '{{ tz }}')::date <= open_dossiers.as_of_date
    order by
        open_dossiers.as_of_date,
        open_dossiers.province_code,
        open_dossiers.dossier_code,
        steps.step_number desc nulls last

),

waiting as (

    -- waiting for the applicant's supplement that night: the deadline is suspended
    select distinct states.as_of_date, states.province_code, states.dossier_code
    from states
    inner join {{ ref('stg_onestop__dossier_supplements') }} as supplements
        on states.province_code = supplements.province_code
        and states.dossier_code = supplements.dossier_code
        and (supplements.requested_at at time zone '{{ tz }}')::date <= states.as_of_date
        and coalesce(
            (supplements.resubmitted_at at time zone '{{ tz }}')::date, 'infinity'::date
        ) > states.as_of_date

),

measured as (

    select
        states.*,
        waiting.dossier_code is not null as is_waiting_supplement,
        due_day.working_day_number - night_day.working_day_number as working_days_left,
        coalesce(night_day.working_day_number - state_day.working_day_number, 0)
            as elapsed_working_days,
        -- the same two in the histogram's unit: fiftieths of the statutory period
        coalesce(night_day.working_day_number - state_day.working_day_number, 0)
            * {{ per_allowed }}.0 / states.allowed_working_days as elapsed_share,
        (due_day.working_day_number - night_day.working_day_number)
            * {{ per_allowed }}.0 / states.allowed_working_days as left_share
    from states
    left join waiting
        on states.as_of_date = waiting.as_of_date
        and states.province_code = waiting.province_code
        and states.dossier_code = waiting.dossier_code
    inner join calendar as night_day on states.as_of_date = night_day.date_day
    inner join calendar as due_day on states.due_date = due_day.date_day
    left join calendar as state_day on states.state_date = state_day.date_day

),

candidate_groups as (

    {%- for level, key in warning_group_keys().items() %}
    select measured.as_of_date, measured.province_code, measured.dossier_code,
        {{ level }} as group_level, {{ key }} as group_key
    from measured
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

chosen_groups as (

    select distinct on (candidate_groups.as_of_date, candidate_groups.province_code, candidate_groups.dossier_code)
        candidate_groups.*
    from candidate_groups
    inner join measured
        on candidate_groups.as_of_date = measured.as_of_date
        and candidate_groups.province_code = measured.province_code
        and candidate_groups.dossier_code = measured.dossier_code
    inner join group_sizes
        on candidate_groups.province_code = group_sizes.province_code
        and candidate_groups.group_level = group_sizes.group_level
        and candidate_groups.group_key = group_sizes.group_key
        and measured.state = group_sizes.state
    order by
        candidate_groups.as_of_date,
        candidate_groups.province_code,
        candidate_groups.dossier_code,
        candidate_groups.group_level

),

scored as (

    select
        measured.as_of_date,
        measured.province_code,
        measured.dossier_code,
        chosen_groups.group_level,
        coalesce(sum(histogram.dossiers) filter (
            where histogram.remaining > measured.elapsed_share
        ), 0) as still_open,
        coalesce(sum(histogram.dossiers) filter (
            where histogram.remaining > measured.elapsed_share + measured.left_share
        ), 0) as ended_late,
        sum(
            histogram.dossiers * (
                histogram.remaining * measured.allowed_working_days / {{ per_allowed }}.0
                - measured.elapsed_working_days
            )
        ) filter (where histogram.remaining > measured.elapsed_share) as remaining_total
    from measured
    inner join chosen_groups
        on measured.as_of_date = chosen_groups.as_of_date
        and measured.province_code = chosen_groups.province_code
        and measured.dossier_code = chosen_groups.dossier_code
    inner join histogram
        on chosen_groups.province_code = histogram.province_code
        and chosen_groups.group_level = histogram.group_level
        and chosen_groups.group_key = histogram.group_key
        and measured.state = histogram.state
    group by measured.as_of_date, measured.province_code, measured.dossier_code, chosen_groups.group_level

),

judged as (

    select
        measured.*,
        next_steps.holding_step,
        scored.group_level,
        -- the mean of what is left to similar dossiers that took this long already
        round(scored.remaining_total::numeric / nullif(scored.still_open, 0), 1)
            as expected_remaining_working_days,
        case
            when measured.is_waiting_supplement then 0.0
            when measured.working_days_left <= 0 then 1.0
            when scored.still_open is null then null
            -- smoothed: a handful of similar dossiers never gives 0 or 1
            else round((scored.ended_late + 0.25) / (scored.still_open + 0.5), 4)
        end as risk_probability
    from measured
    left join scored
        on measured.as_of_date = scored.as_of_date
        and measured.province_code = scored.province_code
        and measured.dossier_code = scored.dossier_code
    left join next_steps
        on measured.province_code = next_steps.province_code
        and measured.state = next_steps.state

)

{%- endmacro %}


{#- The groups the model learns remaining times in, from the most specific: level -> key. -#}
{% macro warning_group_keys() -%}
    {{ return({
        1: "procedure_code || '|' || agency_code",
        2: "agency_code || '|' || (allowed_working_days <= 3)::text",
        3: "coalesce(field_code, '') || '|' || coalesce(level_code::text, '') || '|' || (allowed_working_days <= 3)::text",
        4: "(allowed_working_days <= 3)::text",
    }) }}
{%- endmacro %}


{#- The planner cannot estimate the rows of the model's CTEs (open dossiers per night, each
    row's group) and picks nested loops that rescan a whole histogram per dossier: 66 s
    instead of 1 for a week of nights on 13 months of data. Hash joins are right for every
    join here; `set local` holds for the model's own transaction only. -#}
{% macro warning_planner_settings() -%}
    set local enable_nestloop = off
{%- endmacro %}
