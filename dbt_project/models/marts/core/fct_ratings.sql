{#- Đánh giá mức độ hài lòng — one row per rating of a dossier on the portal (1 very
    satisfied, 2 satisfied, 3 not satisfied), with the dossier's receipt date. Incremental:
    the ratings changed since the run before, and those of the dossiers changed since. -#}
{{
    config(
        materialized='incremental',
        unique_key=['province_code', 'rating_code'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ save_watermarks({'ratings': ref('stg_portal__ratings'), 'dossiers': ref('stg_onestop__dossiers')}) }}",
        indexes=[{'columns': ['province_code', 'rating_code'], 'unique': true}],
    )
}}
{%- set rebuilt = rebuild_filter(rebuild_keys([
    {'stream': 'ratings', 'relation': ref('stg_portal__ratings'), 'key': 'rating_code'},
    {'stream': 'dossiers', 'relation': ref('stg_onestop__dossiers'), 'key': 'dossier_code',
     'via': {'relation': ref('stg_portal__ratings'), 'from': 'dossier_code', 'key': 'rating_code'}},
]), 'rating_code') %}
{%- set tz = var('local_timezone') %}

with

ratings as (

    select * from {{ ref('stg_portal__ratings') }}
    where {{ rebuilt }}

),

dossiers as (

    select province_code, dossier_code, received_date from {{ ref('int_dossiers_lifecycle') }}

),

final as (

    select
        ratings.province_code,
        ratings.rating_code,
        ratings.dossier_code,
        ratings.agency_code,
        ratings.satisfaction_code,
        ratings.satisfaction_code = 3 as is_dissatisfied,
        ratings.has_comment,
        ratings.rated_at,
        (ratings.rated_at at time zone '{{ tz }}')::date as rated_date,
        dossiers.received_date as dossier_received_date,
        ratings.updated_at
    from ratings
    left join dossiers
        on ratings.province_code = dossiers.province_code
        and ratings.dossier_code = dossiers.dossier_code

)

select * from final
