{#- Early warning of dossiers at risk of ending late (mart_dossiers_at_risk, and the replay
    that measures it: cchc warn score). One row per night × dossier open at the end of that
    night's as-of date.

    nights:   SQL giving (province_code, as_of_date): the nights to judge.
    training: SQL giving (province_code, trained_through): the history the model learns from
              is the dossiers received in the `warning_history_days` before that date (less
              the last `warning_settle_days`, whose slow dossiers have not ended yet) and
              handled by it. Nothing after it is read, so a replay never peeks at the future.

    The model, per handling state (the last step recorded: "received", "forwarded to the
    department", "sent for another agency's opinion", "reviewed", …): R = the deadline's
    working days from the day that step was recorded to the dossier's end (the supplement
    waits after it left out: the due date moves by them, so they are no time lost; counted
    in, a two-day procedure that once waited a week for a supplement looked like a dossier
    that took a week), as a share of the procedure's statutory days (so a 5-day and a
    20-day procedure of the same agency pool together), counted over history as a histogram
    per group. A dossier that has spent e working days in its state and has L working days
    left ends late when R > e + L, and it is still open, so R > e:
    P(late) = #(R > e + L) / #(R > e): a stall in progress (e already long) shows as the few
    similar dossiers that waited that long and what happened to them.
    The counts come from five groups, from the broadest: all, field × level, agency,
    procedure, procedure × agency (the first three apart for procedures of three days or
    less), blended (warning_blend): a group's similar dossiers weigh against its parent's
    estimate, which counts as `warning_prior_weight` dossiers. So a procedure with little
    history leans on its agency and field, and a well-filled one speaks for itself.
    Each row reads two rows of each group's cumulated histogram: the cost grows with the
    open dossiers, plus one pass over the history window per run.
    L counts to the due date in force that night: in a replay, a supplement requested later
    moved it afterwards, which that night did not know yet. -#}
{% macro warning_rows(nights, training) -%}
{%- set tz = var('local_timezone') %}
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

history_suspensions as (

    -- the supplement waits of the history: working days the deadline stood still
    select
        supplements.province_code,
        supplements.dossier_code,
        supplements.requested_at,
        least(resumed_day.working_day_number, history_dossiers.end_number)
            - requested_day.working_day_number as suspended_working_days
    from {{ ref('stg_onestop__dossier_supplements') }} as supplements
    inner join history_dossiers
        on supplements.province_code = history_dossiers.province_code
        and supplements.dossier_code = history_dossiers.dossier_code
    inner join calendar as requested_day
        on (supplements.requested_at at time zone '{{ tz }}')::date = requested_day.date_day
    inner join calendar as resumed_day
        on coalesce(
            (supplements.resubmitted_at at time zone '{{ tz }}')::date,
            (history_dossiers.handling_ended_at at time zone '{{ tz }}')::date
        ) = resumed_day.date_day

),

history_all_steps as (

    select
        history_dossiers.*,
        steps.step_number,
        steps.action as state,
        steps.handled_at,
        step_day.working_day_number as step_day_number,
        lead(steps.action) over (
            partition by steps.province_code, steps.dossier_code order by steps.step_number
        ) as next_action
    from history_dossiers
    inner join {{ ref('fct_handling_steps') }} as steps
        on history_dossiers.province_code = steps.province_code
        and history_dossiers.dossier_code = steps.dossier_code
    inner join calendar as step_day
        on (steps.handled_at at time zone '{{ tz }}')::date = step_day.date_day

),

history_steps_suspended as (

    -- the supplement waits after each step: they move the due date, so they are not time lost
    select
        history_all_steps.province_code,
        history_all_steps.dossier_code,
        history_all_steps.step_number,
        sum(history_suspensions.suspended_working_days) as suspended_working_days
    from history_all_steps
    inner join history_suspensions
        on history_all_steps.province_code = history_suspensions.province_code
        and history_all_steps.dossier_code = history_suspensions.dossier_code
        and history_suspensions.requested_at >= history_all_steps.handled_at
    group by history_all_steps.province_code, history_all_steps.dossier_code, history_all_steps.step_number

),

history_steps as (

    select
        history_all_steps.*,
        -- the deadline's working days from the step to the end (the supplement waits after
        -- it left out, as the due date moves by them), in fiftieths of the statutory period,
        -- so procedures of any length pool together
        least(
            floor(
                greatest(
                    history_all_steps.end_number - history_all_steps.step_day_number
                        - coalesce(suspended.suspended_working_days, 0),
                    0
                ) * {{ per_allowed }} / history_all_steps.allowed_working_days::numeric
            ),
            {{ cap }}
        )::int as remaining
    from history_all_steps
    left join history_steps_suspended as suspended
        on history_all_steps.province_code = suspended.province_code
        and history_all_steps.dossier_code = suspended.dossier_code
        and history_all_steps.step_number = suspended.step_number
    -- the states a dossier waits in: the steps recorded before its end
    where history_all_steps.handled_at < history_all_steps.handling_ended_at

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

due_then as (

    -- the due date in force that night: a supplement requested later moved it afterwards
    -- (none in the nightly mart, whose night is the data's last; in a replay, many)
    select distinct on (states.as_of_date, states.province_code, states.dossier_code)
        states.as_of_date,
        states.province_code,
        states.dossier_code,
        (supplements.previous_due_at at time zone '{{ tz }}')::date as due_date_then
    from states
    inner join {{ ref('stg_onestop__dossier_supplements') }} as supplements
        on states.province_code = supplements.province_code
        and states.dossier_code = supplements.dossier_code
        and (supplements.requested_at at time zone '{{ tz }}')::date > states.as_of_date
    where supplements.previous_due_at is not null
    order by states.as_of_date, states.province_code, states.dossier_code, supplements.requested_at

),

measured as (

    select
        states.*,
        due_day.date_day as due_date_then,
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
    left join due_then
        on states.as_of_date = due_then.as_of_date
        and states.province_code = due_then.province_code
        and states.dossier_code = due_then.dossier_code
    inner join calendar as due_day
        on coalesce(due_then.due_date_then, states.due_date) = due_day.date_day
    left join calendar as state_day on states.state_date = state_day.date_day

),

candidate_groups as (

    {%- for level, key in warning_group_keys().items() %}
    select measured.as_of_date, measured.province_code, measured.dossier_code, measured.state,
        {{ level }} as group_level, {{ key }} as group_key
    from measured
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

survival as (

    -- per group and state of the open dossiers, for every bucket b: the history that took
    -- at least b more (#(R >= b)) and the sum of their R: a dossier reads two rows of it
    select
        province_code,
        group_level,
        group_key,
        state,
        bucket,
        at_least,
        remaining_sum
    from (
        select
            histogram.*,
            sum(dossiers) over longer_first as at_least,
            sum(dossiers * remaining) over longer_first as remaining_sum,
            coalesce(lead(remaining) over longer_first, -1) as shorter
        from histogram
        where (province_code, group_level, group_key, state) in (
            select province_code, group_level, group_key, state from candidate_groups
        )
        window longer_first as (
            partition by province_code, group_level, group_key, state order by remaining desc
        )
    ) as cumulated
    cross join lateral generate_series(shorter + 1, remaining) as bucket

    union all

    -- longer than any: nobody (up to the cap, where every longer R is pooled)
    select province_code, group_level, group_key, state, bucket, 0, 0
    from (
        select province_code, group_level, group_key, state, max(remaining) as longest
        from histogram
        where (province_code, group_level, group_key, state) in (
            select province_code, group_level, group_key, state from candidate_groups
        )
        group by province_code, group_level, group_key, state
    ) as longest
    cross join lateral generate_series(longest + 1, {{ cap }} + 1) as bucket

),

by_level as (

    -- per group: similar dossiers still open after this long in this state (R > e), those
    -- of them that ended later than this dossier's due date (R > e + L), and their R
    select
        measured.as_of_date,
        measured.province_code,
        measured.dossier_code,
        candidate_groups.group_level,
        open_after.bucket is not null as has_history,
        coalesce(open_after.at_least, 0) as still_open,
        coalesce(late_after.at_least, 0) as ended_late,
        coalesce(open_after.remaining_sum, 0) * measured.allowed_working_days / {{ per_allowed }}.0
            - coalesce(open_after.at_least, 0) * measured.elapsed_working_days as remaining_total
    from measured
    inner join candidate_groups
        on measured.as_of_date = candidate_groups.as_of_date
        and measured.province_code = candidate_groups.province_code
        and measured.dossier_code = candidate_groups.dossier_code
    -- R > x is R >= floor(x) + 1; past the longest bucket, nobody
    left join survival as open_after
        on candidate_groups.province_code = open_after.province_code
        and candidate_groups.group_level = open_after.group_level
        and candidate_groups.group_key = open_after.group_key
        and candidate_groups.state = open_after.state
        and least(floor(measured.elapsed_share)::int + 1, {{ cap }} + 1) = open_after.bucket
    left join survival as late_after
        on candidate_groups.province_code = late_after.province_code
        and candidate_groups.group_level = late_after.group_level
        and candidate_groups.group_key = late_after.group_key
        and candidate_groups.state = late_after.state
        and least(floor(measured.elapsed_share + measured.left_share)::int + 1, {{ cap }} + 1)
            = late_after.bucket

),

scored as (

    select
        as_of_date,
        province_code,
        dossier_code,
        -- the most specific group with similar dossiers still open after this long
        min(group_level) filter (where still_open > 0) as group_level,
        bool_or(has_history) as has_history,
        {%- for level in warning_group_keys() %}
        max(still_open) filter (where group_level = {{ level }}) as still_open_{{ level }},
        max(ended_late) filter (where group_level = {{ level }}) as ended_late_{{ level }},
        max(remaining_total) filter (where group_level = {{ level }}) as remaining_total_{{ level }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from by_level
    group by as_of_date, province_code, dossier_code

),

judged as (

    select
        measured.*,
        next_steps.holding_step,
        scored.group_level,
        -- the mean of what is left to similar dossiers that took this long already
        round({{ warning_blend('remaining_total', 'null') }}::numeric, 1)
            as expected_remaining_working_days,
        case
            when measured.is_waiting_supplement then 0.0
            when measured.working_days_left <= 0 then 1.0
            when not scored.has_history then null
            else round({{ warning_blend('ended_late', '0.5') }}::numeric, 4)
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


{#- A share among the similar dossiers still open (of them: ended late, or their mean remaining
    time), blended from the broadest group to the most specific: each group's own dossiers
    weigh against its parent group's estimate, which counts as `warning_prior_weight`
    dossiers (the broadest against `start`, as half a dossier). A group with few similar
    dossiers stays near its parent's figure; a well-filled one speaks for itself. -#}
{% macro warning_blend(column, start) -%}
    {%- set weight = var('warning_prior_weight', 50) %}  {#- chosen on one replay: docs/benchmarks.md #}
    {%- set ns = namespace(estimate=start, weight=0.5) %}
    {%- for level in warning_group_keys() | reverse %}
        {%- if loop.first and start == 'null' %}
        {%- set ns.estimate = "(scored." ~ column ~ "_" ~ level ~ " / nullif(scored.still_open_" ~ level ~ ", 0))" %}
        {%- else %}
        {%- set ns.estimate = "((coalesce(scored." ~ column ~ "_" ~ level ~ ", 0) + " ~ ns.weight ~ " * "
            ~ ns.estimate ~ ") / nullif(coalesce(scored.still_open_" ~ level ~ ", 0) + " ~ ns.weight ~ ", 0))" %}
        {%- endif %}
        {%- set ns.weight = weight %}
    {%- endfor %}
    {{- ns.estimate }}
{%- endmacro %}


{#- The groups the model learns remaining times in, from the most specific: level -> key. -#}
{% macro warning_group_keys() -%}
    {{ return({
        1: "procedure_code || '|' || agency_code",
        2: "procedure_code",
        3: "agency_code || '|' || (allowed_working_days <= 3)::text",
        4: "coalesce(field_code, '') || '|' || coalesce(level_code::text, '') || '|' || (allowed_working_days <= 3)::text",
        5: "(allowed_working_days <= 3)::text",
    }) }}
{%- endmacro %}


{#- The planner cannot estimate the rows of the model's CTEs (open dossiers per night, each
    row's group) and picks nested loops that rescan a whole histogram per dossier: 66 s
    instead of 1 for a week of nights on 13 months of data, or merge joins that sort and
    rescan the cumulated histograms (90 s instead of 10 for a quarter). Hash joins are right
    for every join here; `set local` holds for the model's own transaction only. -#}
{% macro warning_planner_settings() -%}
    set local enable_nestloop = off;
    set local enable_mergejoin = off
{%- endmacro %}
