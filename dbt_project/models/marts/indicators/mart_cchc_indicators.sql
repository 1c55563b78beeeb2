{#- Chỉ số CCHC theo công văn — the letters' own indicators (domain.md §4.3), wide: one row
    per province × scope × period; every scope lies within one province, and each province
    is judged at its own data's as-of. Scopes: 'agency' (the handling unit as it was then: department,
    district or commune UBND), 'district' (a district UBND with its communes, before the
    2025 reform), 'province', and 'current_agency' (the agency rows re-mapped to the unit
    that carries the work today, dim_unit_current_mapping). Periods: calendar month,
    quarter and year. Each count belongs to the period of its own event: dossiers to the month of
    receipt (NgayTiepNhan), petitions to their receipt, incoming documents to their arrival,
    outgoing documents to their issue. Rules in _indicators__models.yml.
    Incremental: only the periods (province × grain × start) whose dossiers, matches,
    petitions or documents changed since the run before (logged by those models, macro
    touched_partitions), and those the as-of moved over, are deleted and computed again; a
    change of the agencies' or procedures' attributes recomputes the province. Logs the
    periods whose rows changed for mart_qd766_scores. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ snapshot_rebuilt_rows(indicator_partitions(), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ delete_partitions(indicator_partitions()) }}",
        ],
        post_hook=[
            "{{ log_changed_periods(indicator_partitions(), periods_by_grain('t.period_grain', 'period_start')) }}",
            "{{ save_consumer_state(asof=indicator_asof(), fingerprints={'agencies': agency_fingerprints(), 'procedures': procedure_fingerprints()}) }}",
        ],
        indexes=[
            {'columns': ['province_code', 'period_grain', 'period_start', 'scope_kind', 'scope_code'], 'unique': true},
        ],
    )
}}
{%- set tz = var('local_timezone') %}
{%- set grains = {'month': '1 month', 'quarter': '3 months', 'year': '1 year'} %}
{%- set touched = indicator_touched() %}

with

dossiers as (

    select * from {{ ref('fct_dossiers') }}
    where received_date is not null
        and {{ partition_date_range(touched, 'received_date') }}

),

matches as (

    select * from {{ ref('int_dossier_matches') }}
    where {{ partition_date_range(touched, 'received_date') }}

),

procedures as (

    select province_code, procedure_code, is_full_online from {{ ref('dim_procedures') }}

),

agencies as (

    select * from {{ ref('dim_agencies') }}

),

documents as (

    select * from {{ ref('fct_documents') }}
    where {{ partition_date_range(touched, 'document_date') }}

),

petitions as (

    select * from {{ ref('fct_petitions') }}
    where {{ partition_date_range(touched, 'received_date') }}

),

data_as_of as (

    -- each province's dossiers reach as far as its latest received dossier's update
    select province_code, (latest at time zone '{{ tz }}')::date + 1 as first_day_after
    from {{ latest_per_province(indicator_asof()['relation']) }} as latest

),

grains (period_grain, period_step) as (

    values
    {%- for grain, step in grains.items() %}
        ('{{ grain }}', interval '{{ step }}'){{ "," if not loop.last }}
    {%- endfor %}

),

dossier_periods as (

    select
        grains.period_grain,
        date_trunc(grains.period_grain, dossiers.received_date)::date as period_start,
        -- open dossiers are judged on the first day after the period (or after the data)
        least(
            (date_trunc(grains.period_grain, dossiers.received_date) + grains.period_step)::date,
            data_as_of.first_day_after
        ) as judged_date,
        dossiers.*,
        coalesce(matches.is_synced, false) as is_synced,
        coalesce(matches.has_apology_letter, false) as has_apology_letter,
        matches.satisfaction_code,
        coalesce(procedures.is_full_online, false) as is_full_online_procedure
    from dossiers
    cross join grains
    inner join data_as_of on dossiers.province_code = data_as_of.province_code
    left join matches
        on dossiers.province_code = matches.province_code
        and dossiers.dossier_code = matches.dossier_code
    left join procedures
        on dossiers.province_code = procedures.province_code
        and dossiers.procedure_code = procedures.procedure_code

),

dossiers_judged as (

    select
        *,
        coalesce(ended_date < judged_date, false) as is_ended_by_period_end,
        case
            when coalesce(ended_date < judged_date, false)
            then ended_date <= due_date and supplement_request_count <= 1
            else coalesce(due_date >= judged_date, false) and supplement_request_count <= 1
        end as is_on_time_at_period_end,
        status_code in (9, 10)
            and (coalesce(ended_date > due_date, true) or supplement_request_count > 1)
            as is_result_late
    from dossier_periods

),

dossier_counts as materialized (

    select
        province_code,
        agency_code,
        period_grain,
        period_start,
        count(*) as dossiers_received,
        count(*) filter (where channel_code = 2) as online_received,
        count(*) filter (where channel_code = 1) as direct_received,
        count(*) filter (where channel_code = 3) as postal_received,
        count(*) filter (where is_received_on_saturday) as saturday_received,
        count(*) filter (where is_synced) as synced_dossiers,
        count(*) filter (where channel_code = 2 and is_full_online_procedure) as full_online_dossiers,
        count(*) filter (where has_fees) as fee_dossiers,
        count(*) filter (where is_paid_online) as paid_online_dossiers,
        count(*) filter (where has_digitized_components) as digitized_dossiers,
        count(*) filter (where has_electronic_result) as e_result_dossiers,
        count(*) filter (where has_reused_components) as reused_dossiers,
        count(*) filter (where is_ended_by_period_end) as ended_by_period_end,
        count(*) filter (where is_on_time_at_period_end) as on_time_at_period_end,
        count(*) filter (where not is_on_time_at_period_end) as overdue_at_period_end,
        count(*) filter (where status_code in (9, 10)) as handled_dossiers,
        count(*) filter (where is_result_late) as ended_late,
        count(*) filter (where is_result_late and has_apology_letter) as late_with_apology,
        count(*) filter (where supplement_request_count > 1) as multiple_supplement_dossiers,
        count(*) filter (where satisfaction_code is not null) as rated_dossiers,
        count(*) filter (where satisfaction_code = 3) as rated_dissatisfied
    from dossiers_judged
    group by province_code, agency_code, period_grain, period_start

),

petition_counts as materialized (

    select
        petitions.province_code,
        petitions.agency_code,
        grains.period_grain,
        date_trunc(grains.period_grain, petitions.received_date)::date as period_start,
        count(*) as petitions,
        count(*) filter (where petitions.is_answered_on_time) as petitions_on_time
    from petitions
    cross join grains
    where petitions.received_date is not null
    group by 1, 2, 3, 4

),

document_counts as materialized (

    select
        documents.province_code,
        documents.agency_code,
        grains.period_grain,
        date_trunc(grains.period_grain, documents.document_date)::date as period_start,
        count(*) filter (where documents.direction = 'incoming') as incoming_documents,
        count(*) filter (where documents.direction = 'incoming' and documents.is_handled_on_time)
            as incoming_on_time,
        count(*) filter (where documents.direction = 'incoming' and documents.is_overdue)
            as incoming_overdue,
        count(*) filter (where documents.direction = 'outgoing') as outgoing_documents,
        count(*) filter (where documents.direction = 'outgoing' and documents.is_digitally_signed)
            as outgoing_signed,
        count(*) filter (
            where documents.direction = 'outgoing' and not coalesce(documents.is_digitally_signed, false)
        ) as outgoing_unsigned
    from documents
    cross join grains
    where documents.document_date is not null and documents.agency_code is not null
    group by 1, 2, 3, 4

),

{%- set dossier_columns = [
    'dossiers_received', 'online_received', 'direct_received', 'postal_received',
    'saturday_received', 'synced_dossiers', 'full_online_dossiers', 'fee_dossiers',
    'paid_online_dossiers', 'digitized_dossiers', 'e_result_dossiers', 'reused_dossiers',
    'ended_by_period_end', 'on_time_at_period_end', 'overdue_at_period_end',
    'handled_dossiers', 'ended_late', 'late_with_apology', 'multiple_supplement_dossiers',
    'rated_dossiers', 'rated_dissatisfied'] %}
{%- set document_columns = [
    'incoming_documents', 'incoming_on_time', 'incoming_overdue', 'outgoing_documents',
    'outgoing_signed', 'outgoing_unsigned'] %}
{%- set count_columns = dossier_columns + ['petitions', 'petitions_on_time'] + document_columns %}
{%- set sources = [
    ('dossier_counts', dossier_columns),
    ('petition_counts', ['petitions', 'petitions_on_time']),
    ('document_counts', document_columns)] %}

agency_counts as (

    -- the three counts stacked and summed per agency and period, in the periods this run
    -- computes (all of them on a full build): one aggregate, not a union of the keys left
    -- joined to each count, whose estimate under the partition filter (a few rows) made
    -- the planner join them by nested loops over every pair. The counts are materialized
    -- so the filter stays here: pushed down to the dossiers, its estimate made the
    -- planner probe the matches' index once per dossier and period. A null agency code
    -- counts zero, as no join matched it.
    select
        province_code,
        agency_code,
        period_grain,
        period_start,
        {%- for column in count_columns %}
        case when agency_code is null then 0 else coalesce(sum({{ column }}), 0) end::bigint
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        {%- for relation, columns in sources %}
        select
            province_code,
            agency_code,
            period_grain,
            period_start,
            {%- for column in count_columns %}
            {{ column if column in columns else 'null::bigint' }} as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as counts
    where {{ partition_filter(touched) }}
    group by province_code, agency_code, period_grain, period_start

),

scoped as (

    select
        'agency' as scope_kind,
        agency_counts.agency_code as scope_code,
        agency_counts.*
    from agency_counts

    union all

    select
        'district',
        agencies.district_code,
        agency_counts.province_code,
        null,
        agency_counts.period_grain,
        agency_counts.period_start,
        {%- for column in count_columns %}
        sum(agency_counts.{{ column }}){{ "," if not loop.last }}
        {%- endfor %}
    from agency_counts
    inner join agencies
        on agency_counts.province_code = agencies.province_code
        and agency_counts.agency_code = agencies.agency_code
    where agencies.district_code is not null
    group by agency_counts.province_code, agencies.district_code, agency_counts.period_grain,
        agency_counts.period_start

    union all

    -- the province: the province whose systems served the records, whatever the agency code
    select
        'province',
        agency_counts.province_code,
        agency_counts.province_code,
        null,
        agency_counts.period_grain,
        agency_counts.period_start,
        {%- for column in count_columns %}
        sum(agency_counts.{{ column }}){{ "," if not loop.last }}
        {%- endfor %}
    from agency_counts
    group by agency_counts.province_code, agency_counts.period_grain, agency_counts.period_start

    union all

    select
        'current_agency',
        coalesce(agencies.current_agency_code, agency_counts.agency_code),
        agency_counts.province_code,
        null,
        agency_counts.period_grain,
        agency_counts.period_start,
        {%- for column in count_columns %}
        sum(agency_counts.{{ column }}){{ "," if not loop.last }}
        {%- endfor %}
    from agency_counts
    left join agencies
        on agency_counts.province_code = agencies.province_code
        and agency_counts.agency_code = agencies.agency_code
    group by agency_counts.province_code,
        coalesce(agencies.current_agency_code, agency_counts.agency_code),
        agency_counts.period_grain, agency_counts.period_start

),

final as (

    select
        scoped.province_code,
        scoped.scope_kind,
        scoped.scope_code,
        scope_names.agency_name as scope_name,
        scope_names.unit_kind,
        scoped.period_grain,
        scoped.period_start,
        (scoped.period_start + case scoped.period_grain
            when 'month' then interval '1 month'
            when 'quarter' then interval '3 months'
            else interval '1 year' end
            - interval '1 day')::date as period_end,
        case scoped.period_grain
            when 'month' then to_char(scoped.period_start, 'YYYY-MM')
            when 'quarter' then to_char(scoped.period_start, 'YYYY"Q"Q')
            else to_char(scoped.period_start, 'YYYY')
        end as period_label,
        {%- for column in count_columns %}
        scoped.{{ column }}::int as {{ column }},
        {%- endfor %}
        {%- set shares = [
            ('synced_share', 'synced_dossiers', 'dossiers_received'),
            ('online_share', 'online_received', 'dossiers_received'),
            ('full_online_share', 'full_online_dossiers', 'dossiers_received'),
            ('online_payment_share', 'paid_online_dossiers', 'fee_dossiers'),
            ('digitized_share', 'digitized_dossiers', 'dossiers_received'),
            ('e_result_share', 'e_result_dossiers', 'handled_dossiers'),
            ('reuse_share', 'reused_dossiers', 'dossiers_received'),
            ('on_time_share_766', 'on_time_at_period_end', 'dossiers_received'),
            ('late_share', 'ended_late', 'handled_dossiers'),
            ('late_apology_share', 'late_with_apology', 'ended_late'),
            ('multiple_supplement_share', 'multiple_supplement_dossiers', 'dossiers_received'),
            ('dissatisfied_share', 'rated_dissatisfied', 'rated_dossiers'),
            ('petition_on_time_share', 'petitions_on_time', 'petitions'),
            ('incoming_on_time_share', 'incoming_on_time', 'incoming_documents'),
            ('outgoing_signed_share', 'outgoing_signed', 'outgoing_documents'),
            ('saturday_share', 'saturday_received', 'dossiers_received')] %}
        {%- for name, numerator, denominator in shares %}
        round(scoped.{{ numerator }}::numeric / nullif(scoped.{{ denominator }}, 0), 6)
            as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from scoped
    left join agencies as scope_names
        on scoped.scope_kind in ('agency', 'current_agency', 'district')
        and scoped.province_code = scope_names.province_code
        and scoped.scope_code = scope_names.agency_code

)

select * from final
