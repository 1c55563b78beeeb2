{#- Nguyên nhân chênh lệch điểm 766 — why our Decision 766 scores differ from the portal's:
    per province × agency × month × component, the difference (ours − official, as in
    mart_qd766_reconciliation) broken into causes the warehouse counts. From our score to the
    portal's, one thing is changed at a time, each step recounted from the raw record versions
    by the portal's own rule (the official one: on time by the month of receipt; ours is the
    named alternative) and scored by the component's rule (macro qd766_points):
      1 counting_rule   the portal's rule instead of ours, on the data as it is now;
      2 cutoff_timing   the records as they stood on the portal's snapshot day (00:00 on the
                        5th of the next month, or the publication if earlier);
      3 not_synced      only the dossiers the portal held a copy of then;
      4 status_mismatch the portal copy's status and dates instead of the one-stop record's;
      5 unit_mapping    dossiers of merged units counted for the unit in force on that day;
      6 residual        what is left between that and the portal's published score.
    The shares add up to the difference exactly. Rule in _qd766_causes__models.yml; the same
    steps as cchc.qd766.causes (kept to check this mart). Each record's row in each step (its
    unit, month and what the rule reads of it) is int_qd766_cause_contributions; this mart
    sums them per unit and month. Incremental by province × month: only the months whose
    scores, official figures or contributions changed since the run before (logged by those
    models: macro causes_touched) are deleted and summed again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "set local enable_nestloop = off",
            "{{ delete_partitions(causes_partitions()) }}",
        ],
        post_hook="{{ save_consumer_state() }}",
        indexes=[{'columns': ['province_code', 'period_start']}],
    )
}}
{%- set touched = causes_touched() %}
{%- set in_touched = partition_filter(touched, none, 'period_start') %}
{%- set dossier_components = [
    ('DOSSIER_HANDLING_ON_TIME', 'is_on_time'),
    ('ORIGINAL_RESULT_AVAILABLE', 'has_electronic_result'),
    ('SO_HOA_GIAY_TO_GIAI_QUYET', 'has_digitized_components'),
    ('REUSED_DIGITIZED_DATA', 'has_reused_components'),
    ('CITIZEN_DATA_CONNECTED_DOSSIER', 'is_online'),
] %}
{%- set steps = ['portal_rule_now', 'at_snapshot', 'portal_held', 'portal_status', 'portal_units'] %}
{%- set causes = ['counting_rule', 'cutoff_timing', 'not_synced', 'status_mismatch', 'unit_mapping'] %}

with

official as (

    select * from {{ ref('mart_qd766_official') }}
    where scope_kind = 'agency' and not is_group_total and {{ in_touched }}

),

ours as (

    select * from {{ ref('mart_qd766_scores') }}
    where period_grain = 'month' and scope_kind in ('agency', 'unregistered_code')
        and {{ in_touched }}

),

rules as (

    select * from {{ ref('qd766_components') }}

),

contributions as (

    select * from {{ ref('int_qd766_cause_contributions') }}
    where {{ in_touched }}

),

dossier_tallies as (

    select province_code, step, unit_code, period_start,
        count(*) filter (where is_counted) as counted,
        {%- for code, column in dossier_components %}
        count(*) filter (where is_counted and {{ column }}) as {{ column }},
        {%- endfor %}
        count(*) filter (where is_counted and is_dissatisfied) as dissatisfied,
        count(*) as sync_universe,
        count(*) filter (where is_synced) as synced
    from contributions
    where family = 'dossier'
    group by province_code, step, unit_code, period_start

),

petition_tallies as (

    select province_code, step, unit_code, period_start,
        count(*) as petitions,
        count(*) filter (where is_on_time) as on_time,
        count(*) filter (where not is_dissatisfied) as satisfied
    from contributions
    where family = 'petition'
    group by 1, 2, 3, 4

),

step_counts as (

    select t.province_code, t.step, t.unit_code, t.period_start, c.component_code,
        c.numerator, c.denominator
    from dossier_tallies as t
    cross join lateral (values
        {%- for code, column in dossier_components %}
        ('{{ code }}', t.{{ column }}, t.counted),
        {%- endfor %}
        -- 1 − (overdue + rated not satisfied) / received, floored at 0 per cell
        ('DOSSIER_RECEIVING_SATISFACTION',
            greatest(t.is_on_time - t.dissatisfied, 0), t.counted),
        ('DOSSIER_SYNC', t.synced, t.sync_universe)
    ) as c (component_code, numerator, denominator)

    union all

    select t.province_code, t.step, t.unit_code, t.period_start, c.component_code,
        c.numerator, c.denominator
    from petition_tallies as t
    cross join lateral (values
        ('PETITION_PROCESSING_ON_TIME', t.on_time, t.petitions),
        ('PETITION_HANDLING_SATISFACTION', t.satisfied, t.petitions)
    ) as c (component_code, numerator, denominator)

),

step_cells as (

    select province_code, unit_code, period_start, component_code,
        {%- for step in steps %}
        sum(numerator) filter (where step = '{{ step }}') as {{ step }}_numerator,
        sum(denominator) filter (where step = '{{ step }}') as {{ step }}_denominator{{ ',' if not loop.last }}
        {%- endfor %}
    from step_counts
    group by province_code, unit_code, period_start, component_code

),

dossier_counts as (

    -- the dossiers behind the causes, per unit and month of receipt as the one-stop system
    -- held them on the snapshot day
    select province_code, unit_code, period_start,
        count(*) filter (where is_edited_after_snapshot) as edited_after_snapshot,
        count(*) filter (where not is_synced) as not_synced,
        count(*) filter (where is_status_mismatch) as status_mismatch
    from contributions
    where family = 'dossier' and step = 'at_snapshot' and is_counted
    group by 1, 2, 3

),

remapped_counts as (

    -- dossiers of a merged unit the portal counted for this unit on the snapshot day
    select province_code, unit_code, period_start, count(*) as unit_remapped
    from contributions
    where family = 'dossier' and step = 'portal_units' and is_counted and is_unit_remapped
    group by 1, 2, 3

),

cells as (

    -- every agency × month × component both sides scored
    select
        ours.province_code,
        ours.scope_kind,
        ours.scope_code,
        coalesce(official.scope_name, ours.scope_name) as scope_name,
        ours.period_start,
        ours.group_code,
        ours.component_code,
        ours.component_name,
        ours.numerator as our_numerator,
        ours.denominator as our_denominator,
        ours.points as our_points,
        official.numerator::int as official_numerator,
        official.denominator::int as official_denominator,
        official.official_points,
        ours.points - official.official_points as difference
    from ours
    inner join official on {{ qd766_same_cell('ours', 'official', grain=false) }}
    where ours.points is not null and official.official_points is not null

),

chained as (

    select
        cells.*,
        cells.component_code in ('DOSSIER_HANDLING_ON_TIME', 'ORIGINAL_RESULT_AVAILABLE', 'SO_HOA_GIAY_TO_GIAI_QUYET', 'REUSED_DIGITIZED_DATA', 'CITIZEN_DATA_CONNECTED_DOSSIER', 'DOSSIER_RECEIVING_SATISFACTION', 'DOSSIER_SYNC', 'PETITION_PROCESSING_ON_TIME', 'PETITION_HANDLING_SATISFACTION') as has_portal_rule,
        {%- for step in steps %}
        coalesce({{ qd766_points('coalesce(counted.' ~ step ~ '_numerator, 0)',
                                 'coalesce(counted.' ~ step ~ '_denominator, 0)', 'rule') }}, 0)
            as {{ step }}_points,
        {%- endfor %}
        counted.portal_units_numerator as recount_numerator,
        counted.portal_units_denominator as recount_denominator,
        cells.component_code not like 'PETITION%' as counts_dossiers,
        dossiers.edited_after_snapshot,
        dossiers.not_synced,
        dossiers.status_mismatch,
        remapped.unit_remapped
    from cells
    inner join rules as rule on cells.component_code = rule.component_code
    left join dossier_counts as dossiers
        on cells.province_code = dossiers.province_code
        and cells.scope_code = dossiers.unit_code
        and cells.period_start = dossiers.period_start
    left join remapped_counts as remapped
        on cells.province_code = remapped.province_code
        and cells.scope_code = remapped.unit_code
        and cells.period_start = remapped.period_start
    left join step_cells as counted
        on cells.province_code = counted.province_code
        and cells.scope_code = counted.unit_code
        and cells.period_start = counted.period_start
        and cells.component_code = counted.component_code

),

final as (

    select
        province_code,
        scope_kind,
        scope_code,
        scope_name,
        'month' as period_grain,
        period_start,
        to_char(period_start, 'YYYY-MM') as period_label,
        group_code,
        component_code,
        component_name,
        our_numerator,
        our_denominator,
        our_points,
        official_numerator,
        official_denominator,
        official_points,
        difference,
        has_portal_rule,
        case when has_portal_rule then portal_rule_now_points end as portal_rule_now_points,
        case when has_portal_rule then coalesce(recount_numerator, 0)::int end
            as recount_numerator,
        case when has_portal_rule then coalesce(recount_denominator, 0)::int end
            as recount_denominator,
        case when has_portal_rule then portal_units_points end as recount_points,
        {%- set chain = ['our_points'] %}{% for step in steps %}{% do chain.append(step ~ '_points') %}{% endfor %}
        {%- for cause in causes %}
        case when has_portal_rule then {{ chain[loop.index0] }} - {{ chain[loop.index] }} end
            as {{ cause }}_points,
        {%- endfor %}
        case when has_portal_rule then portal_units_points - official_points end
            as residual_points,
        {%- for column in ['edited_after_snapshot', 'not_synced', 'status_mismatch', 'unit_remapped'] %}
        case when has_portal_rule and counts_dossiers then coalesce({{ column }}, 0)::int end
            as dossiers_{{ column }},
        {%- endfor %}
        case
            when not has_portal_rule
                then 'Chưa tách được nguyên nhân: chưa có cách tính của Cổng cho chỉ số này'
            when difference = 0 then 'Không chênh lệch'
            when abs(portal_units_points - official_points) <= 0.1 * abs(difference)
                then 'Chênh lệch đã được giải thích bằng các nguyên nhân đếm được'
            else 'Phần chưa giải thích lớn hơn 10% chênh lệch: cần kiểm tra thêm'
        end as cause_note
    from chained

)

select * from final
