{#- Văn bản I-Office — one row per document, incoming (văn bản đến) and outgoing (văn bản đi).
    Incoming: handled on time when completed no later than its due time (HanXuLy); overdue
    when completed after it, or still open past it at the data's as-of time. Outgoing:
    digitally signed or not; an apology letter (TXL, Mẫu 04) is matched to its dossier
    (MaHoSoLienQuan, within the province) and flagged when that dossier ended late. "As of"
    is the province's own latest incoming document. Incremental: the documents changed since
    the run before, the incoming ones still open at its as-of (judged at the as-of) and the
    outgoing ones of the dossiers changed since. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'document_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ snapshot_rebuilt_rows(rebuilt_records(document_rebuild_sources(), 'document_id'), periods_by_day('document_date')) }}",
        post_hook=[
            "{{ log_changed_periods(rebuilt_records(document_rebuild_sources(), 'document_id'), periods_by_day('document_date')) }}",
            "{{ save_watermarks({
            'incoming': ref('stg_ioffice__incoming_documents'),
            'outgoing': ref('stg_ioffice__outgoing_documents'),
            'dossiers': ref('stg_onestop__dossiers')}) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'document_id'], 'unique': true},
            {'columns': ['province_code', 'document_date']},
        ],
    )
}}
{%- set rebuilt = rebuilt_records(document_rebuild_sources(), 'document_id') %}
{%- set tz = var('local_timezone') %}

with

incoming as (

    select * from {{ ref('stg_ioffice__incoming_documents') }}
    where {{ rebuilt }}

),

outgoing as (

    select * from {{ ref('stg_ioffice__outgoing_documents') }}
    where {{ rebuilt }}

),

dossiers as (

    select
        province_code,
        dossier_code,
        due_at,
        is_ended
            and not coalesce(ended_at <= due_at and supplement_request_count <= 1, false)
            as is_ended_late
    from {{ ref('int_dossiers_lifecycle') }}

),

data_as_of as (

    -- how far each province's incoming documents reach, from all of them
    select province_code, latest as as_of
    from {{ latest_per_province(ref('stg_ioffice__incoming_documents')) }} as latest

),

incoming_documents as (

    select
        incoming.province_code,
        incoming.document_id,
        'incoming' as direction,
        incoming.receiving_agency_code as agency_code,
        incoming.document_type_code,
        incoming.number_and_sign,
        incoming.urgency_code,
        incoming.arrived_at as document_at,
        (incoming.arrived_at at time zone '{{ tz }}')::date as document_date,
        incoming.due_at,
        incoming.completed_at,
        incoming.status_code,
        coalesce(incoming.completed_at <= incoming.due_at, false) as is_handled_on_time,
        coalesce(
            incoming.completed_at > incoming.due_at
            or (incoming.completed_at is null and incoming.due_at < data_as_of.as_of),
            false
        ) as is_overdue,
        null::boolean as is_digitally_signed,
        null::text as related_dossier_code,
        false as is_apology_letter,
        null::boolean as is_apology_for_late_dossier,
        null::boolean as is_apology_before_due,
        incoming.updated_at
    from incoming
    inner join data_as_of on incoming.province_code = data_as_of.province_code

),

outgoing_documents as (

    select
        outgoing.province_code,
        outgoing.document_id,
        'outgoing' as direction,
        outgoing.issuing_agency_code as agency_code,
        outgoing.document_type_code,
        outgoing.number_and_sign,
        outgoing.urgency_code,
        outgoing.issued_at as document_at,
        (outgoing.issued_at at time zone '{{ tz }}')::date as document_date,
        null::timestamptz as due_at,
        null::timestamptz as completed_at,
        null::int as status_code,
        null::boolean as is_handled_on_time,
        null::boolean as is_overdue,
        outgoing.is_digitally_signed,
        outgoing.related_dossier_code,
        outgoing.document_type_code = 'TXL' as is_apology_letter,
        case when outgoing.document_type_code = 'TXL' then coalesce(dossiers.is_ended_late, false) end
            as is_apology_for_late_dossier,
        case when outgoing.document_type_code = 'TXL' then outgoing.issued_at <= dossiers.due_at end
            as is_apology_before_due,
        outgoing.updated_at
    from outgoing
    left join dossiers
        on outgoing.province_code = dossiers.province_code
        and outgoing.related_dossier_code = dossiers.dossier_code

),

final as (

    select * from incoming_documents
    union all
    select * from outgoing_documents

)

select * from final
