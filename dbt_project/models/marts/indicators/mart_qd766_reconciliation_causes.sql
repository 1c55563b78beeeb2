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
    steps as cchc.qd766.causes (kept to check this mart). Incremental by province × month:
    only the months whose inputs changed since the run before (macro causes_touched: months
    logged by the scores and official marts, the months of receipt of every version of a
    record changed since, the months linked to a changed publication, the whole province when
    its unit register changed) are deleted and counted again, from the records having a
    version received in them. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "set local enable_nestloop = off",
            "{{ delete_partitions(causes_partitions()) }}",
        ],
        post_hook=[
            "{{ save_consumer_state(fingerprints={'units': causes_unit_fingerprints()}) }}",
            "{{ save_causes_watermarks() }}",
        ],
        indexes=[{'columns': ['province_code', 'period_start']}],
    )
}}
{%- set tz = var('local_timezone') %}
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
{%- set record_columns = ['unit_code', 'received_date', 'due_date', 'ended_date', 'is_online',
                          'has_digitized_components', 'has_reused_components',
                          'has_electronic_result'] %}
{%- set causes = ['counting_rule', 'cutoff_timing', 'not_synced', 'status_mismatch', 'unit_mapping'] %}

with

official_all as (

    select * from {{ ref('mart_qd766_official') }}
    where scope_kind = 'agency' and not is_group_total

),

official as (

    select * from official_all where {{ in_touched }}

),

ours as (

    select * from {{ ref('mart_qd766_scores') }}
    where period_grain = 'month' and scope_kind in ('agency', 'unregistered_code')
        and {{ in_touched }}

),
{%- if touched is not none %}

touched_records as (

    -- the records with a version received in a month counted again: all their versions are
    -- read (their first dates the snapshot, the latest before it is counted)
    select distinct province_code, family, record_code
    from (
        select province_code, 'dossier' as family, record_code, period_key
        from {{ causes_dossier_months() }} as dossiers
        union all
        select province_code, 'petition', record_code, period_key
        from {{ causes_version_months(source('portal', 'petitions'), 'MaPAKN') }} as petitions
    ) as versions
    where {{ partition_filter(touched, none, 'period_key::date') }}

),
{%- endif %}

rules as (

    select * from {{ ref('qd766_components') }}

),

published as (

    -- when the portal took each month's figures: its snapshot day, or its publication if earlier
    select province_code, period_start, min((published_at at time zone '{{ tz }}')::timestamp)
        as published_at
    from official_all
    group by province_code, period_start

),

versions as (

    select * from (
        {{ qd766_dossier_versions(source('onestop', 'dossiers'), 'onestop') }}
        union all
        {{ qd766_dossier_versions(source('portal', 'dossier_syncs'), 'copy') }}
    ) as every_version
    {{ causes_touched_records('every_version', 'dossier', touched) }}

),

ratings as (

    select
        raw.province_code,
        raw.payload ->> 'MaHoSo' as dossier_code,
        raw.payload ->> 'NgayCapNhat' as updated_stamp,
        raw.record_updated_at,
        raw.extracted_at,
        raw.payload_hash,
        coalesce(raw.payload ->> 'MucDoHaiLong' = '3', false) as is_dissatisfied
    from {{ raw_or_empty(source('portal', 'ratings')) }} as raw
    where raw.payload ->> 'MaHoSo' is not null
    {%- if touched is not none %}
        and (raw.province_code, raw.payload ->> 'MaHoSo') in (
            select province_code, record_code from touched_records where family = 'dossier')
    {%- endif %}

),

petition_versions as (

    select
        raw.province_code,
        'petition' as kind,
        raw.payload ->> 'MaPAKN' as dossier_code,
        raw.payload ->> 'NgayCapNhat' as updated_stamp,
        raw.record_updated_at,
        raw.extracted_at,
        raw.payload_hash,
        nullif(raw.payload ->> 'DonViXuLy', '') as unit_code,
        nullif(raw.payload ->> 'NgayTiepNhan', '') as received_stamp,
        to_date(left(nullif(raw.payload ->> 'NgayTiepNhan', ''), 8), 'YYYYMMDD')
            as received_date,
        -- answered no later than due (both stamps yyyyMMddHHmmss); satisfied: rated 1 or 2
        coalesce(nullif(raw.payload ->> 'NgayTraLoi', '') <= nullif(raw.payload ->> 'HanXuLy', ''),
            false) as is_on_time,
        coalesce(raw.payload ->> 'MucDoHaiLong' not in ('1', '2'), true) as is_dissatisfied
    from {{ raw_or_empty(source('portal', 'petitions')) }} as raw
    where raw.payload ->> 'MaPAKN' is not null
    {%- if touched is not none %}
        and (raw.province_code, raw.payload ->> 'MaPAKN') in (
            select province_code, record_code from touched_records where family = 'petition')
    {%- endif %}

),

{#- a record's first version (the system it was entered in first: one-stop, else the
    portal) dates its receipt, and so the snapshot day its month was judged on -#}
firsts as (

    select distinct on (province_code, dossier_code, family)
        province_code, dossier_code, family, received_stamp
    from (
        select province_code, dossier_code, 'dossier' as family,
            case kind when 'onestop' then 0 else 1 end as preference, updated_stamp,
            record_updated_at, extracted_at, payload_hash, received_stamp
        from versions
        union all
        select province_code, dossier_code, 'petition', 0, updated_stamp, record_updated_at,
            extracted_at, payload_hash, received_stamp
        from petition_versions
    ) as every_version
    order by province_code, dossier_code, family, preference, updated_stamp,
        record_updated_at, extracted_at, payload_hash

),

moments as (

    select
        firsts.province_code,
        firsts.dossier_code,
        firsts.family,
        to_char(least(
            (date_trunc('month', to_date(left(firsts.received_stamp, 8), 'YYYYMMDD'))
                + interval '1 month 4 days')::timestamp,
            published.published_at
        ), 'YYYYMMDDHH24MISS') as snapshot_stamp
    from firsts
    left join published
        on firsts.province_code = published.province_code
        and date_trunc('month', to_date(left(firsts.received_stamp, 8), 'YYYYMMDD'))::date
            = published.period_start
    where firsts.received_stamp is not null

),

{#- each system's latest version of a record now and on its snapshot day: one row per
    record × kind × moment ('now', 'then') -#}
picked as (

    select distinct on (v.province_code, v.dossier_code, v.kind, at.moment)
        at.moment, m.snapshot_stamp, v.*
    from versions as v
    inner join moments as m
        on v.province_code = m.province_code and v.dossier_code = m.dossier_code
        and m.family = 'dossier'
    cross join (values ('now'), ('then')) as at (moment)
    where at.moment = 'now' or v.updated_stamp < m.snapshot_stamp
    order by v.province_code, v.dossier_code, v.kind, at.moment, v.updated_stamp desc,
        v.record_updated_at desc, v.extracted_at desc, v.payload_hash desc

),

rated as (

    select distinct on (r.province_code, r.dossier_code, at.moment)
        r.province_code, r.dossier_code, at.moment, r.is_dissatisfied
    from ratings as r
    inner join moments as m
        on r.province_code = m.province_code and r.dossier_code = m.dossier_code
        and m.family = 'dossier'
    cross join (values ('now'), ('then')) as at (moment)
    where at.moment = 'now' or r.updated_stamp < m.snapshot_stamp
    order by r.province_code, r.dossier_code, at.moment, r.updated_stamp desc,
        r.record_updated_at desc, r.extracted_at desc, r.payload_hash desc

),

pairs as (

    -- a dossier at one moment: the one-stop record (held) and the portal copy, as they stood
    select
        m.province_code,
        m.dossier_code,
        at.moment,
        m.snapshot_stamp,
        held.dossier_code is not null as has_held,
        held.unit_code is not null and held.received_date is not null as held_countable,
        held.updated_stamp as held_updated_stamp,
        copy.dossier_code is not null as has_copy,
        copy.unit_code is not null and copy.received_date is not null as copy_countable,
        coalesce(rated.is_dissatisfied, false) as is_dissatisfied,
        {%- for column in ['unit_code', 'received_date', 'due_date', 'ended_date', 'is_online',
                           'has_digitized_components', 'has_reused_components',
                           'has_electronic_result'] %}
        held.{{ column }} as held_{{ column }},
        copy.{{ column }} as copy_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from moments as m
    cross join (values ('now'), ('then')) as at (moment)
    left join picked as held
        on m.province_code = held.province_code and m.dossier_code = held.dossier_code
        and held.kind = 'onestop' and held.moment = at.moment
    left join picked as copy
        on m.province_code = copy.province_code and m.dossier_code = copy.dossier_code
        and copy.kind = 'copy' and copy.moment = at.moment
    left join rated
        on m.province_code = rated.province_code and m.dossier_code = rated.dossier_code
        and rated.moment = at.moment
    where m.family = 'dossier'

),

dossier_steps as (

    -- 1–2: the one-stop record counted (synced when the portal held a copy then); a record
    -- only the portal holds is in the sync universe only
    select province_code, snapshot_stamp,
        case moment when 'now' then 'portal_rule_now' else 'at_snapshot' end as step,
        {% for column in record_columns %}held_{{ column }} as {{ column }}, {% endfor %}
        is_dissatisfied, has_copy as is_synced, true as is_counted
    from pairs
    where has_held and held_countable

    union all

    select province_code, snapshot_stamp,
        case moment when 'now' then 'portal_rule_now' else 'at_snapshot' end,
        {% for column in record_columns %}copy_{{ column }} as {{ column }}, {% endfor %}
        false, true, false
    from pairs
    where not has_held and has_copy and copy_countable

    union all

    -- 3–5, never synced by the snapshot day: in the sync universe only
    select province_code, snapshot_stamp, step.name, {% for column in record_columns %}held_{{ column }} as {{ column }}, {% endfor %}
        is_dissatisfied, false, false
    from pairs
    cross join (values ('portal_held'), ('portal_status'), ('portal_units')) as step (name)
    where moment = 'then' and not has_copy and has_held and held_countable

    union all

    -- 3: the portal's copy stands for the record as the one-stop system held it
    select province_code, snapshot_stamp, 'portal_held',
        {%- for column in record_columns %}
        case when has_held then held_{{ column }} else copy_{{ column }} end,
        {%- endfor %}
        is_dissatisfied, true, true
    from pairs
    where moment = 'then' and has_copy
        and (case when has_held then held_countable else copy_countable end)

    union all

    -- 4–5: the copy's unit, dates and channel; what it says of documents from the one-stop
    -- record (the portal keeps no documents)
    select province_code, snapshot_stamp, step.name,
        copy_unit_code, copy_received_date, copy_due_date, copy_ended_date, copy_is_online,
        {%- for column in ['has_digitized_components', 'has_reused_components', 'has_electronic_result'] %}
        case when held_countable then held_{{ column }} else copy_{{ column }} end,
        {%- endfor %}
        is_dissatisfied, true, true
    from pairs
    cross join (values ('portal_status'), ('portal_units')) as step (name)
    where moment = 'then' and has_copy and copy_countable

),

petition_picked as (

    select distinct on (v.province_code, v.dossier_code, at.moment)
        at.moment, m.snapshot_stamp, v.*
    from petition_versions as v
    inner join moments as m
        on v.province_code = m.province_code and v.dossier_code = m.dossier_code
        and m.family = 'petition'
    cross join (values ('now'), ('then')) as at (moment)
    where at.moment = 'now' or v.updated_stamp < m.snapshot_stamp
    order by v.province_code, v.dossier_code, at.moment, v.updated_stamp desc,
        v.record_updated_at desc, v.extracted_at desc, v.payload_hash desc

),

petition_steps as (

    select province_code, snapshot_stamp, step.name as step, unit_code, received_date,
        is_on_time, is_dissatisfied
    from petition_picked
    cross join (values ('portal_rule_now', 'now'), ('at_snapshot', 'then'),
        ('portal_held', 'then'), ('portal_status', 'then'), ('portal_units', 'then'))
        as step (name, moment)
    where petition_picked.moment = step.moment
        and unit_code is not null and received_date is not null

),

unit_links as (

    -- each unit's latest register entry: merged into its successor once it ended
    select distinct on (raw.province_code, raw.payload ->> 'MaDonVi')
        raw.province_code,
        raw.payload ->> 'MaDonVi' as unit_code,
        nullif(raw.payload ->> 'MaDonViMoi', '') as successor_code,
        to_date(left(nullif(raw.payload ->> 'NgayHetHieuLuc', ''), 8), 'YYYYMMDD')
            as ended_date
    from {{ raw_or_empty(source('onestop', 'administrative_units')) }} as raw
    where raw.payload ->> 'MaDonVi' is not null
    order by raw.province_code, raw.payload ->> 'MaDonVi',
        raw.payload ->> 'NgayCapNhat' desc nulls last, raw.record_updated_at desc,
        raw.extracted_at desc, raw.payload_hash desc

),

mapped_units as (

    -- the unit in force on the snapshot day: successors followed while the unit had ended
    -- before that day
    with recursive walk (province_code, unit_code, snapshot_stamp, mapped_code, depth) as (
        select distinct province_code, unit_code, snapshot_stamp, unit_code, 0
        from (
            select province_code, unit_code, snapshot_stamp from dossier_steps
            where step = 'portal_units'
            union
            select province_code, unit_code, snapshot_stamp from petition_steps
            where step = 'portal_units'
        ) as needed
        union all
        select walk.province_code, walk.unit_code, walk.snapshot_stamp, links.successor_code,
            walk.depth + 1
        from walk
        inner join unit_links as links
            on walk.province_code = links.province_code and walk.mapped_code = links.unit_code
        where links.successor_code is not null
            and links.ended_date < to_date(left(walk.snapshot_stamp, 8), 'YYYYMMDD')
            and walk.depth < 20
    )
    select distinct on (province_code, unit_code, snapshot_stamp)
        province_code, unit_code, snapshot_stamp, mapped_code
    from walk
    order by province_code, unit_code, snapshot_stamp, depth desc

),

judged_dossiers as (

    -- the portal's rule: on time when ended by the month's end no later than the
    -- appointment, or still open then with the appointment not yet past
    select
        steps.province_code,
        steps.step,
        coalesce(mapped.mapped_code, steps.unit_code) as unit_code,
        date_trunc('month', steps.received_date)::date as period_start,
        case
            when steps.ended_date is not null
                and steps.ended_date < date_trunc('month', steps.received_date) + interval '1 month'
                then coalesce(steps.ended_date <= steps.due_date, false)
            else coalesce(steps.due_date >= date_trunc('month', steps.received_date) + interval '1 month', false)
        end as is_on_time,
        steps.is_online,
        steps.has_digitized_components,
        steps.has_reused_components,
        steps.has_electronic_result,
        steps.is_dissatisfied,
        steps.is_synced,
        steps.is_counted
    from dossier_steps as steps
    left join mapped_units as mapped
        on steps.step = 'portal_units'
        and steps.province_code = mapped.province_code
        and steps.unit_code = mapped.unit_code
        and steps.snapshot_stamp = mapped.snapshot_stamp

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
    from judged_dossiers
    group by province_code, step, unit_code, period_start

),

petition_tallies as (

    select
        steps.province_code,
        steps.step,
        coalesce(mapped.mapped_code, steps.unit_code) as unit_code,
        date_trunc('month', steps.received_date)::date as period_start,
        count(*) as petitions,
        count(*) filter (where steps.is_on_time) as on_time,
        count(*) filter (where not steps.is_dissatisfied) as satisfied
    from petition_steps as steps
    left join mapped_units as mapped
        on steps.step = 'portal_units'
        and steps.province_code = mapped.province_code
        and steps.unit_code = mapped.unit_code
        and steps.snapshot_stamp = mapped.snapshot_stamp
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
    select
        then_.province_code,
        then_.held_unit_code as unit_code,
        date_trunc('month', then_.held_received_date)::date as period_start,
        count(*) filter (where now_.held_updated_stamp > then_.held_updated_stamp)
            as edited_after_snapshot,
        count(*) filter (where not then_.has_copy) as not_synced,
        count(*) filter (where then_.has_copy and (then_.copy_unit_code, then_.copy_received_date,
            then_.copy_due_date, then_.copy_ended_date, then_.copy_is_online)
            is distinct from (then_.held_unit_code, then_.held_received_date,
            then_.held_due_date, then_.held_ended_date, then_.held_is_online))
            as status_mismatch
    from pairs as then_
    inner join pairs as now_
        on then_.province_code = now_.province_code
        and then_.dossier_code = now_.dossier_code
        and now_.moment = 'now'
    where then_.moment = 'then' and then_.has_held and then_.held_countable
    group by 1, 2, 3

),

remapped_counts as (

    -- dossiers of a merged unit the portal counted for this unit on the snapshot day
    select steps.province_code, mapped.mapped_code as unit_code,
        date_trunc('month', steps.received_date)::date as period_start,
        count(*) as unit_remapped
    from dossier_steps as steps
    inner join mapped_units as mapped
        on steps.province_code = mapped.province_code
        and steps.unit_code = mapped.unit_code
        and steps.snapshot_stamp = mapped.snapshot_stamp
    where steps.step = 'portal_units' and steps.is_counted
        and mapped.mapped_code <> steps.unit_code
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
