{#- Skeleton: the agencies that handle dossiers, with the name of their latest dossier.
    History (valid_from / valid_to after the 2025 mergers) comes with the full star schema. -#}

with

dossiers as (

    select * from {{ ref('stg_onestop__dossiers') }}

),

agency_names_ranked as (

    select
        agency_code,
        agency_name,
        updated_at,
        row_number() over (
            partition by agency_code
            order by (agency_name is null), updated_at desc, dossier_code desc
        ) as name_rank
    from dossiers
    where agency_code is not null

),

agencies as (

    select
        agency_code,
        agency_name,
        updated_at as name_seen_at
    from agency_names_ranked
    where name_rank = 1

)

select * from agencies
