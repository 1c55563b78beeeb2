{#- Cán bộ, công chức — the officers who appear in dossier handling steps and sign outgoing
    documents, per province, by pseudonymous key only (salted hash of agency and name, made
    in staging): no name leaves staging. With agency and title, many officers are the only
    one of their kind, so this is personal data: schema `restricted`, for the officer
    reviewer only, never BI (docs/personal-data.md).
    Incremental: the totals of the officers whose appearances changed are updated from the
    changes officer_appearances logged (macros/row_changes.sql): counts add the rows that
    came and subtract those that went; first and last seen, agency and latest title take the
    new rows into account, and an officer is read again (from officer_appearances, by key)
    only when a row that went may have held one of them (a first or last appearance, the
    latest title) and no new row holds it as well. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ take_rows_changed(['officer_key']) }}",
        post_hook="{{ consume_row_changes('officer_appearances') }}",
        indexes=[{'columns': ['province_code', 'officer_key'], 'unique': true}],
    )
}}
{%- set applies = applies_row_changes('officer_appearances') %}
{%- set whole = row_changes_whole('officer_appearances') %}



{%- if not applies %}

{{ officer_totals('true') }}

{%- else %}

with

changes as (

    select * from {{ row_changes('officer_appearances') }} as changes

),

before as (

    select * from pg_temp.rows_before_changes

),

delta as (

    select
        changes.province_code,
        changes.officer_key,
        coalesce(sum(changes.sign) filter (where changes.record_kind = 'step'), 0) as step_delta,
        coalesce(sum(changes.sign) filter (where changes.record_kind = 'document'), 0) as document_delta,
        min(changes.seen_at) filter (where changes.sign = 1) as added_first,
        max(changes.seen_at) filter (where changes.sign = 1) as added_last,
        min(changes.seen_at) filter (where changes.sign = -1) as removed_first,
        max(changes.seen_at) filter (where changes.sign = -1) as removed_last,
        max(changes.agency_code) filter (where changes.sign = 1) as added_agency,
        max(changes.agency_code) filter (where changes.sign = -1) as removed_agency,
        (array_agg(changes.officer_title
            order by changes.seen_at desc nulls last, changes.officer_title desc nulls last)
            filter (where changes.sign = 1))[1] as added_title,
        bool_or(changes.sign = -1) as has_removed,
        -- a row holding the latest (time, title) went / came
        coalesce(bool_or(changes.sign = -1
            and changes.seen_at is not distinct from before.last_seen_at
            and changes.officer_title is not distinct from before.officer_title), false)
            as removed_latest,
        coalesce(bool_or(changes.sign = 1
            and changes.seen_at is not distinct from before.last_seen_at
            and changes.officer_title is not distinct from before.officer_title), false)
            as added_latest
    from changes
    left join before
        on changes.province_code = before.province_code
        and changes.officer_key = before.officer_key
    where changes.sign <> 0
        and changes.province_code not in ({{ whole }})
    group by changes.province_code, changes.officer_key

),

updated as (

    select
        delta.province_code,
        delta.officer_key,
        -- read again: a row that went may have held an extreme no new row holds
        (delta.has_removed and before.officer_key is null)
            or (delta.removed_first is not null
                and (delta.added_first is null or delta.added_first > delta.removed_first))
            or (delta.removed_last is not null
                and (delta.added_last is null or delta.added_last < delta.removed_last))
            or (delta.removed_agency is not null
                and (delta.added_agency is null or delta.added_agency < delta.removed_agency))
            or (delta.removed_latest and not delta.added_latest) as is_recounted,
        greatest(before.agency_code, delta.added_agency) as agency_code,
        case
            when delta.added_last > before.last_seen_at
                or (before.last_seen_at is null and delta.added_last is not null)
                then delta.added_title
            when delta.added_last is not distinct from before.last_seen_at
                then greatest(before.officer_title, delta.added_title)
            else before.officer_title
        end as officer_title,
        least(before.first_seen_at, delta.added_first) as first_seen_at,
        greatest(before.last_seen_at, delta.added_last) as last_seen_at,
        (coalesce(before.handling_step_count, 0) + delta.step_delta)::int as handling_step_count,
        (coalesce(before.documents_signed, 0) + delta.document_delta)::int as documents_signed
    from delta
    left join before
        on delta.province_code = before.province_code
        and delta.officer_key = before.officer_key

),

recounted as (

    -- each officer read again through the index on (province_code, officer_key)
    select totals.*
    from updated
    cross join lateral (
        {{ officer_totals(
            "appearances.province_code = updated.province_code"
            ~ " and appearances.officer_key = updated.officer_key") }}
    ) as totals
    where updated.is_recounted

    union all

    {{ officer_totals("province_code in (" ~ whole ~ ")") }}

)

select
    province_code, officer_key, agency_code, officer_title, first_seen_at, last_seen_at,
    handling_step_count, documents_signed
from updated
where not is_recounted and handling_step_count + documents_signed > 0

union all

select * from recounted

{%- endif %}
