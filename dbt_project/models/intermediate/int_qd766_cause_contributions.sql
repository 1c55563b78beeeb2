{#- Per record of the 766 causes (a dossier in both systems with its ratings, or a
    petition), its row in each step of mart_qd766_reconciliation_causes' chain from our score
    to the portal's (rule in that model): the record as the step counts it — its unit (the
    unit in force on the snapshot day for portal_units), its month of receipt, and what the
    portal's rule reads of it — plus the dossier counts behind the causes. The mart sums these
    rows per unit and month. A record's rows depend only on its own versions (every version of
    a dossier in the one-stop system and on the portal, its ratings), on the snapshot day of
    the month it was first received in, and on the unit register. Incremental: the records
    loaded since the run before, and those first received in a month whose snapshot day moved,
    are deleted and counted again (the whole province when its unit register changed: macros
    in causes_partitions.sql); the months whose rows changed are logged for the mart
    (log_changed_periods). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "set local enable_nestloop = off",
            "{{ causes_prepare_rebuild() }}",
        ],
        post_hook=[
            "{{ log_changed_periods(causes_saved_rebuilt_rows(), periods_by_month('period_start')) }}",
            "{{ save_causes_watermarks() }}",
        ],
        indexes=[
            {'columns': ['province_code', 'family', 'record_code', 'step'], 'unique': true},
            {'columns': ['province_code', 'period_start']},
        ],
    )
}}
{%- set rebuild = causes_rebuild() %}
{%- set record_columns = ['unit_code', 'received_date', 'due_date', 'ended_date', 'is_online',
                          'has_digitized_components', 'has_reused_components',
                          'has_electronic_result'] %}

with

published as (

    select * from {{ causes_snapshot_days() }} as days

),

versions as (

    select * from (
        {{ qd766_dossier_versions(source('onestop', 'dossiers'), 'onestop', rebuild['dossier'] if rebuild is not none else none) }}
        union all
        {{ qd766_dossier_versions(source('portal', 'dossier_syncs'), 'copy', rebuild['dossier'] if rebuild is not none else none) }}
    ) as every_version

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
        and {{ rebuild_filter(rebuild['dossier'], "raw.payload ->> 'MaHoSo'", 'raw.province_code') if rebuild is not none else 'true' }}

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
        and {{ rebuild_filter(rebuild['petition'], 'raw.record_key', 'raw.province_code') if rebuild is not none else 'true' }}

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
        date_trunc('month', to_date(left(firsts.received_stamp, 8), 'YYYYMMDD'))::date
            as snapshot_month,
        to_char(least(
            (date_trunc('month', to_date(left(firsts.received_stamp, 8), 'YYYYMMDD'))
                + interval '1 month 4 days')::timestamp,
            published.snapshot_at
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
        m.snapshot_month,
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
    select province_code, dossier_code, snapshot_month, snapshot_stamp,
        case moment when 'now' then 'portal_rule_now' else 'at_snapshot' end as step,
        {% for column in record_columns %}held_{{ column }} as {{ column }}, {% endfor %}
        is_dissatisfied, has_copy as is_synced, true as is_counted
    from pairs
    where has_held and held_countable

    union all

    select province_code, dossier_code, snapshot_month, snapshot_stamp,
        case moment when 'now' then 'portal_rule_now' else 'at_snapshot' end,
        {% for column in record_columns %}copy_{{ column }} as {{ column }}, {% endfor %}
        false, true, false
    from pairs
    where not has_held and has_copy and copy_countable

    union all

    -- 3–5, never synced by the snapshot day: in the sync universe only
    select province_code, dossier_code, snapshot_month, snapshot_stamp, step.name, {% for column in record_columns %}held_{{ column }} as {{ column }}, {% endfor %}
        is_dissatisfied, false, false
    from pairs
    cross join (values ('portal_held'), ('portal_status'), ('portal_units')) as step (name)
    where moment = 'then' and not has_copy and has_held and held_countable

    union all

    -- 3: the portal's copy stands for the record as the one-stop system held it
    select province_code, dossier_code, snapshot_month, snapshot_stamp, 'portal_held',
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
    select province_code, dossier_code, snapshot_month, snapshot_stamp, step.name,
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
        at.moment, m.snapshot_month, m.snapshot_stamp, v.*
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

    select province_code, dossier_code, snapshot_month, snapshot_stamp, step.name as step,
        unit_code, received_date, is_on_time, is_dissatisfied
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

dossier_flags as (

    -- the dossiers behind the causes, as the one-stop system held them on the snapshot day:
    -- edited after it, or whose portal copy then differed in unit, dates or channel
    select
        then_.province_code,
        then_.dossier_code,
        coalesce(now_.held_updated_stamp > then_.held_updated_stamp, false)
            as is_edited_after_snapshot,
        then_.has_copy and (then_.copy_unit_code, then_.copy_received_date,
            then_.copy_due_date, then_.copy_ended_date, then_.copy_is_online)
            is distinct from (then_.held_unit_code, then_.held_received_date,
            then_.held_due_date, then_.held_ended_date, then_.held_is_online)
            as is_status_mismatch
    from pairs as then_
    inner join pairs as now_
        on then_.province_code = now_.province_code
        and then_.dossier_code = now_.dossier_code
        and now_.moment = 'now'
    where then_.moment = 'then' and then_.has_held and then_.held_countable

),

final as (

    -- the portal's rule: on time when ended by the month's end no later than the
    -- appointment, or still open then with the appointment not yet past
    select
        steps.province_code,
        'dossier' as family,
        steps.dossier_code as record_code,
        steps.step,
        coalesce(mapped.mapped_code, steps.unit_code) as unit_code,
        date_trunc('month', steps.received_date)::date as period_start,
        steps.snapshot_month,
        steps.is_counted,
        steps.is_synced,
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
        coalesce(steps.step = 'at_snapshot' and steps.is_counted
            and flags.is_edited_after_snapshot, false) as is_edited_after_snapshot,
        coalesce(steps.step = 'at_snapshot' and steps.is_counted
            and flags.is_status_mismatch, false) as is_status_mismatch,
        coalesce(mapped.mapped_code <> steps.unit_code, false) as is_unit_remapped
    from dossier_steps as steps
    left join mapped_units as mapped
        on steps.step = 'portal_units'
        and steps.province_code = mapped.province_code
        and steps.unit_code = mapped.unit_code
        and steps.snapshot_stamp = mapped.snapshot_stamp
    left join dossier_flags as flags
        on steps.step = 'at_snapshot'
        and steps.province_code = flags.province_code
        and steps.dossier_code = flags.dossier_code

    union all

    select
        steps.province_code,
        'petition',
        steps.dossier_code,
        steps.step,
        coalesce(mapped.mapped_code, steps.unit_code),
        date_trunc('month', steps.received_date)::date,
        steps.snapshot_month,
        true,
        null,
        steps.is_on_time,
        null,
        null,
        null,
        null,
        steps.is_dissatisfied,
        false,
        false,
        coalesce(mapped.mapped_code <> steps.unit_code, false)
    from petition_steps as steps
    left join mapped_units as mapped
        on steps.step = 'portal_units'
        and steps.province_code = mapped.province_code
        and steps.unit_code = mapped.unit_code
        and steps.snapshot_stamp = mapped.snapshot_stamp

)

select * from final
