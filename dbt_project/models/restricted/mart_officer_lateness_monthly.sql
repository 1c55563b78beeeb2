{#- Danh sách cán bộ để xảy ra chậm trễ (Decision 766; the province publishes it monthly) —
    per province, month, agency and officer (pseudonymous key and title): steps handled,
    steps late, and the dossiers whose lateness is attributed to the officer. The
    reviewing office finds the names for its list by opening those dossiers in the one-stop
    system, which holds them; the warehouse keeps no name. Restricted: never for BI.
    Incremental: the rows of the months, agencies and officers whose steps changed are
    updated from the changes officer_appearances logged (macros/row_changes.sql): the counts
    by difference; the late dossiers listed again from the officer's lateness causes of that
    month (a partial index) when one came or went; the most frequent title read again from
    the officer's steps of the month only when the changes can move it (a step of that title
    went, or one of another title came). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ take_rows_changed(['month_start', 'agency_code', 'officer_key'], nullable=['agency_code']) }}",
        post_hook="{{ consume_row_changes('officer_appearances') }}",
        indexes=[{'columns': ['province_code', 'officer_key', 'month_start']}],
    )
}}
{%- set applies = applies_row_changes('officer_appearances') %}
{%- set whole = row_changes_whole('officer_appearances') %}
{%- set group = ['province_code', 'month_start', 'agency_code', 'officer_key'] %}
{#- Grouped with the officer before the agency (compared null-safe, though never null beside
    an officer key, which hashes it), so the joins of the groups can merge on three columns:
    on (province, month) alone they filtered 17 million pairs. -#}
{%- set group_order = ['province_code', 'month_start', 'officer_key', 'agency_code'] %}

{%- if not applies %}

{{ officer_months('true') }}

{%- else %}

with

changes as (

    select * from {{ row_changes('officer_appearances') }} as changes
    where sign <> 0 and record_kind = 'step' and month_start is not null
        and province_code not in ({{ whole }})

),

before as (

    select * from pg_temp.rows_before_changes

),

titles as (

    -- each title's net change per row of the mart (a null title is not counted by the mode)
    select
        {{ group | join(', ') }},
        officer_title,
        sum(sign) as net
    from changes
    where officer_title is not null
    group by {{ group_order | join(', ') }}, officer_title

),

title_moves as (

    -- whether the most frequent title of a row held before can move: the row had none (only
    -- null titles) and one came, a step of it went, or one of another title came
    select
        {% for column in group %}titles.{{ column }}, {% endfor %}
        bool_or(
            before.officer_title is null
            or case when titles.officer_title = before.officer_title
                then titles.net < 0 else titles.net > 0 end
        ) as can_move
    from titles
    inner join before
        on titles.province_code = before.province_code
        and titles.month_start = before.month_start
        and coalesce(titles.agency_code, chr(1)) = coalesce(before.agency_code, chr(1))
        and titles.officer_key = before.officer_key
    group by {% for column in group_order %}titles.{{ column }}{{ ', ' if not loop.last }}{% endfor %}

),

delta as (

    select
        {% for column in group %}changes.{{ column }}, {% endfor %}
        sum(changes.sign) as step_delta,
        coalesce(sum(changes.sign) filter (where changes.is_step_late), 0) as late_delta,
        coalesce(sum(changes.sign) filter (where changes.is_lateness_cause), 0) as cause_delta,
        bool_or(changes.is_lateness_cause) as causes_changed,
        bool_or(changes.sign = -1) as has_removed,
        mode() within group (order by changes.officer_title)
            filter (where changes.sign = 1) as added_title
    from changes
    group by {% for column in group_order %}changes.{{ column }}{{ ', ' if not loop.last }}{% endfor %}

),

updated as (

    select
        {% for column in group %}delta.{{ column }}, {% endfor %}
        -- read again: a new row with a step gone (inconsistent), or its title can move
        case when before.province_code is null then delta.has_removed
            else coalesce(title_moves.can_move, false) end as is_recounted,
        case when before.province_code is null then delta.added_title else before.officer_title end
            as officer_title,
        (coalesce(before.step_count, 0) + delta.step_delta)::int as step_count,
        (coalesce(before.late_step_count, 0) + delta.late_delta)::int as late_step_count,
        (coalesce(before.lateness_cause_count, 0) + delta.cause_delta)::int as lateness_cause_count,
        delta.causes_changed,
        before.late_dossier_codes
    from delta
    left join before
        on delta.province_code = before.province_code
        and delta.month_start = before.month_start
        and coalesce(delta.agency_code, chr(1)) = coalesce(before.agency_code, chr(1))
        and delta.officer_key = before.officer_key
    left join title_moves
        on delta.province_code = title_moves.province_code
        and delta.month_start = title_moves.month_start
        and coalesce(delta.agency_code, chr(1)) = coalesce(title_moves.agency_code, chr(1))
        and delta.officer_key = title_moves.officer_key

),

recounted as (

    -- each month of an officer read again through the index on (province_code, officer_key,
    -- month_start)
    select totals.*
    from (
        select distinct province_code, officer_key, month_start from updated where is_recounted
    ) as months
    cross join lateral (
        {{ officer_months(
            "appearances.province_code = months.province_code"
            ~ " and appearances.officer_key = months.officer_key"
            ~ " and appearances.month_start = months.month_start") }}
    ) as totals

),

late_dossiers as (

    -- the lateness causes of the rows whose list changed (the partial index on them)
    select
        appearances.province_code,
        appearances.month_start,
        appearances.agency_code,
        appearances.officer_key,
        string_agg(distinct appearances.record_code, ', ' order by appearances.record_code)
            as late_dossier_codes
    from (
        select distinct province_code, officer_key, month_start from updated
        where causes_changed and not is_recounted
    ) as months
    inner join {{ ref('officer_appearances') }} as appearances
        on appearances.province_code = months.province_code
        and appearances.officer_key = months.officer_key
        and appearances.month_start = months.month_start
        and appearances.record_kind = 'step' and appearances.is_lateness_cause
    group by appearances.province_code, appearances.month_start, appearances.agency_code,
        appearances.officer_key

)

select
    {% for column in group %}updated.{{ column }}, {% endfor %}
    updated.officer_title,
    updated.step_count,
    updated.late_step_count,
    updated.lateness_cause_count,
    case when updated.causes_changed then late_dossiers.late_dossier_codes
        else updated.late_dossier_codes end as late_dossier_codes
from updated
left join late_dossiers
    on updated.province_code = late_dossiers.province_code
    and updated.month_start = late_dossiers.month_start
    and coalesce(updated.agency_code, chr(1)) = coalesce(late_dossiers.agency_code, chr(1))
    and updated.officer_key = late_dossiers.officer_key
where not updated.is_recounted and updated.step_count > 0

union all

-- the recounted rows of the groups touched (an officer's month may span agencies)
select recounted.*
from recounted
where exists (
    select 1 from updated
    where updated.is_recounted
        and updated.province_code = recounted.province_code
        and updated.month_start = recounted.month_start
        and coalesce(updated.agency_code, chr(1)) = coalesce(recounted.agency_code, chr(1))
        and updated.officer_key = recounted.officer_key)

union all

{{ officer_months("province_code in (" ~ whole ~ ")") }}

{%- endif %}
