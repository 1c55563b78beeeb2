{#- Phản ánh, kiến nghị (PAKN) — one row per petition on the portal: received, due,
    answered, on time (answered no later than its due time), satisfaction. Incremental: the
    petitions changed since the run before. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'petition_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ snapshot_rebuilt_rows(rebuilt_records(petition_rebuild_sources(), 'petition_code'), periods_by_day('received_date')) }}",
        post_hook=[
            "{{ log_changed_periods(rebuilt_records(petition_rebuild_sources(), 'petition_code'), periods_by_day('received_date')) }}",
            "{{ save_watermarks({'petitions': ref('stg_portal__petitions')}) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'petition_code'], 'unique': true},
            {'columns': ['province_code', 'received_date']},
        ],
    )
}}
{%- set rebuilt = rebuilt_records(petition_rebuild_sources(), 'petition_code') %}
{%- set tz = var('local_timezone') %}

with

petitions as (

    select * from {{ ref('stg_portal__petitions') }}
    where {{ rebuilt }}

),

final as (

    select
        province_code,
        petition_code,
        agency_code,
        category_code,
        subject,
        received_at,
        (received_at at time zone '{{ tz }}')::date as received_date,
        due_at,
        status_code,
        answered_at,
        answered_at is not null as is_answered,
        coalesce(answered_at <= due_at, false) as is_answered_on_time,
        satisfaction_code,
        satisfaction_code = 3 as is_dissatisfied,
        updated_at
    from petitions

)

select * from final
