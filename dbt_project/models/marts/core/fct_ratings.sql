{#- Đánh giá mức độ hài lòng — one row per rating of a dossier on the portal (1 very
    satisfied, 2 satisfied, 3 not satisfied), with the dossier's receipt date. -#}
{%- set tz = var('local_timezone') -%}
with

ratings as (

    select * from {{ ref('stg_portal__ratings') }}

),

dossiers as (

    select dossier_code, received_date from {{ ref('int_dossiers_lifecycle') }}

),

final as (

    select
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
    left join dossiers on ratings.dossier_code = dossiers.dossier_code

)

select * from final
