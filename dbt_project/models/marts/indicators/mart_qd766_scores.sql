{#- Decision 766 scores computed from our own data, long format: one row per scope (agency,
    province) × period (month, quarter, year) × component, scored by the one rule of the seed
    qd766_components through the macro qd766_points. Rule in _indicators__models.yml. -#}
{%- set tz = var('local_timezone') -%}
{%- set grains = ['month', 'quarter', 'year'] -%}

with

dossiers as (

    select * from {{ ref('int_dossiers_lifecycle') }}
    where received_at is not null

),

syncs as (

    select * from {{ ref('stg_portal__dossier_syncs') }}
    where received_at is not null

),

judged as (

    select * from {{ ref('int_dossier_periods_judged') }}

),

rules as (

    select * from {{ ref('qd766_components') }}

),

agencies as (

    select agency_code, agency_name from {{ ref('dim_agencies') }}

),

grains as (

    select unnest(array['{{ grains | join("', '") }}']) as period_grain

),

payment_procedures as (

    -- procedures with at least one dossier paid online: the fee-bearing procedures we can see
    -- until the procedure catalogue (fees) arrives
    select distinct procedure_code
    from dossiers
    where online_payment_code in (1, 2)

),

onestop_by_period as (

    select
        dossiers.agency_code,
        grains.period_grain,
        date_trunc(grains.period_grain, dossiers.received_date)::date as period_start,
        count(*) as received,
        count(*) filter (where dossiers.channel_code = 2) as received_online,
        count(*) filter (where dossiers.has_digitized_components) as digitized,
        count(*) filter (where dossiers.online_payment_code in (1, 2)) as paid_online,
        count(*) filter (
            where dossiers.channel_code = 2 and payment_procedures.procedure_code is not null
        ) as payable_online,
        count(syncs.dossier_code) as synced
    from dossiers
    cross join grains
    left join payment_procedures on dossiers.procedure_code = payment_procedures.procedure_code
    left join syncs on dossiers.dossier_code = syncs.dossier_code
    group by 1, 2, 3

),

portal_by_period as (

    select
        syncs.agency_code,
        grains.period_grain,
        date_trunc(grains.period_grain, (syncs.received_at at time zone '{{ tz }}')::date)::date
            as period_start,
        count(*) as portal_received
    from syncs
    cross join grains
    group by 1, 2, 3

),

progress_by_period as (

    select
        agency_code,
        period_grain,
        period_start,
        count(*) as in_scope,
        count(*) filter (where is_ended_on_time or is_open_on_time) as on_time
    from judged
    group by 1, 2, 3

),

agency_measures as (

    select
        coalesce(onestop.agency_code, portal.agency_code, progress.agency_code) as agency_code,
        coalesce(onestop.period_grain, portal.period_grain, progress.period_grain) as period_grain,
        coalesce(onestop.period_start, portal.period_start, progress.period_start) as period_start,
        coalesce(onestop.received, 0) as received,
        coalesce(onestop.received_online, 0) as received_online,
        coalesce(onestop.digitized, 0) as digitized,
        coalesce(onestop.paid_online, 0) as paid_online,
        coalesce(onestop.payable_online, 0) as payable_online,
        coalesce(onestop.synced, 0) as synced,
        coalesce(portal.portal_received, 0) as portal_received,
        coalesce(progress.in_scope, 0) as in_scope,
        coalesce(progress.on_time, 0) as on_time
    from onestop_by_period as onestop
    full outer join portal_by_period as portal
        on onestop.agency_code = portal.agency_code
        and onestop.period_grain = portal.period_grain
        and onestop.period_start = portal.period_start
    full outer join progress_by_period as progress
        on coalesce(onestop.agency_code, portal.agency_code) = progress.agency_code
        and coalesce(onestop.period_grain, portal.period_grain) = progress.period_grain
        and coalesce(onestop.period_start, portal.period_start) = progress.period_start

),

scoped_measures as (

    select
        'agency' as scope_kind,
        agency_measures.agency_code as scope_code,
        agencies.agency_name as scope_name,
        agency_measures.period_grain,
        agency_measures.period_start,
        received, received_online, digitized, paid_online, payable_online, synced,
        portal_received, in_scope, on_time
    from agency_measures
    left join agencies on agency_measures.agency_code = agencies.agency_code

    union all

    -- the province: the part of the agency code before the first dot (H40.12 -> H40)
    select
        'province' as scope_kind,
        split_part(agency_code, '.', 1) as scope_code,
        null as scope_name,
        period_grain,
        period_start,
        sum(received), sum(received_online), sum(digitized), sum(paid_online),
        sum(payable_online), sum(synced), sum(portal_received), sum(in_scope), sum(on_time)
    from agency_measures
    group by split_part(agency_code, '.', 1), period_grain, period_start

),

components_measured as (

    select
        scope_kind, scope_code, scope_name, period_grain, period_start,
        'DOSSIER_HANDLING_ON_TIME' as component_code,
        on_time as numerator,
        in_scope as denominator,
        'dossiers handled or in handling on time (working days, supplement waiting time subtracted, at most one supplement request) / dossiers received or handled in the period' as measure_basis
    from scoped_measures

    union all

    select
        scope_kind, scope_code, scope_name, period_grain, period_start,
        'DOSSIER_SYNC',
        synced,
        greatest(received, portal_received),
        'one-stop dossiers received in the period also on the portal / max(one-stop dossiers, portal dossiers received in the period)'
    from scoped_measures

    union all

    select
        scope_kind, scope_code, scope_name, period_grain, period_start,
        'SO_HOA_GIAY_TO_GIAI_QUYET',
        digitized,
        received,
        'dossiers received in the period with digitized components (HoSoCoThanhPhanSoHoa = 1) / dossiers received'
    from scoped_measures

    union all

    select
        scope_kind, scope_code, scope_name, period_grain, period_start,
        'ONLINE_PAYMENT_DOSSIER',
        paid_online,
        payable_online,
        'dossiers paid online (DuocThanhToanTrucTuyen 1 or 2) / online dossiers of procedures with an online payment seen (proxy for a financial obligation until the fee catalogue arrives)'
    from scoped_measures

    union all

    select
        scope_kind, scope_code, scope_name, period_grain, period_start,
        'ONLINE_DOSSIER_RATE',
        received_online,
        received,
        'online dossiers (KenhThucHien = 2) / dossiers received in the period'
    from scoped_measures

),

scored as (

    select
        measured.scope_kind,
        measured.scope_code,
        measured.scope_name,
        measured.period_grain,
        measured.period_start,
        rule.group_code,
        rule.group_name_vi as group_name,
        measured.component_code,
        rule.component_name_vi as component_name,
        measured.numerator::int as numerator,
        measured.denominator::int as denominator,
        {{ qd766_ratio('measured.numerator', 'measured.denominator') }} as ratio,
        {{ qd766_points('measured.numerator', 'measured.denominator', 'rule') }} as points,
        rule.max_points,
        rule.is_estimate,
        measured.measure_basis,
        rule.group_max_points,
        rule.sort_order
    from components_measured as measured
    inner join rules as rule on measured.component_code = rule.component_code

),

group_scores as (

    select
        scope_kind, scope_code, period_grain, period_start, group_code,
        least(max(group_max_points), coalesce(sum(points), 0)) as group_points,
        max(group_max_points) as group_max_points
    from scored
    group by 1, 2, 3, 4, 5

),

totals as (

    select
        scope_kind, scope_code, period_grain, period_start,
        sum(group_points) as total_points,
        sum(group_max_points) as total_max_points
    from group_scores
    group by 1, 2, 3, 4

),

ranked as (

    select
        *,
        rank() over (
            partition by scope_kind, period_grain, period_start order by total_points desc
        )::int as rank_in_period
    from totals

),

final as (

    select
        scored.scope_kind,
        scored.scope_code,
        scored.scope_name,
        scored.period_grain,
        scored.period_start,
        (
            scored.period_start
            + case scored.period_grain
                when 'month' then interval '1 month'
                when 'quarter' then interval '3 months'
                else interval '1 year'
            end
            - interval '1 day'
        )::date as period_end,
        case scored.period_grain
            when 'month' then to_char(scored.period_start, 'YYYY-MM')
            when 'quarter' then to_char(scored.period_start, 'YYYY"Q"Q')
            else to_char(scored.period_start, 'YYYY')
        end as period_label,
        scored.group_code,
        scored.group_name,
        scored.component_code,
        scored.component_name,
        scored.numerator,
        scored.denominator,
        scored.ratio,
        scored.points,
        scored.max_points,
        scored.is_estimate,
        scored.measure_basis,
        group_scores.group_points,
        group_scores.group_max_points,
        ranked.total_points,
        ranked.total_max_points,
        ranked.rank_in_period
    from scored
    inner join group_scores
        on scored.scope_kind = group_scores.scope_kind
        and scored.scope_code = group_scores.scope_code
        and scored.period_grain = group_scores.period_grain
        and scored.period_start = group_scores.period_start
        and scored.group_code = group_scores.group_code
    inner join ranked
        on scored.scope_kind = ranked.scope_kind
        and scored.scope_code = ranked.scope_code
        and scored.period_grain = ranked.period_grain
        and scored.period_start = ranked.period_start

)

select * from final
