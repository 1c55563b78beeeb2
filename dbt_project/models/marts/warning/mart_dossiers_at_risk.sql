{#- Cảnh báo sớm hồ sơ có nguy cơ trễ hạn — every dossier open at the data's as-of, with its
    working days left, the step holding it, the remaining time similar dossiers took, the
    probability of ending late (macros/warning.sql explains the model) and whether an apology
    letter (Mẫu 04) will be due; plus the dossiers that recently ended late without one. -#}
{{ config(pre_hook="{{ warning_planner_settings() }}") }}
{%- set tz = var('local_timezone') %}
{#- chosen by replaying past nights (cchc warn score, docs/benchmarks.md) #}
{%- set threshold = var('warning_risk_threshold', 0.39) %}
{%- set horizon = var('warning_horizon_days', 2) %}
{%- set last_chance = var('warning_last_chance_threshold', 0.15) %}
{%- set too_late = var('warning_too_late_threshold', 0.7) %}
{%- set apology_lookback_days = var('warning_apology_lookback_days', 30) %}
{%- set as_of_sql -%}
    select province_code, (latest at time zone '{{ tz }}')::date as as_of_date
    from {{ latest_per_province(ref('fct_dossiers')) }} as latest
    where latest is not null
{%- endset %}
{%- set training_sql -%}
    select province_code, as_of_date as trained_through from ({{ as_of_sql }}) as nights
{%- endset %}

with

{{ warning_rows(as_of_sql, training_sql) }},

apologies as (

    select distinct documents.province_code, documents.related_dossier_code as dossier_code
    from {{ ref('fct_documents') }} as documents
    inner join nights on documents.province_code = nights.province_code
    where documents.is_apology_letter
        and documents.document_date <= nights.as_of_date

),

open_rows as (

    select
        judged.province_code,
        judged.dossier_code,
        judged.agency_code,
        judged.procedure_code,
        judged.field_code,
        judged.level_code,
        judged.received_at,
        judged.due_date,
        judged.as_of_date,
        judged.working_days_left,
        judged.holding_step,
        judged.holding_agency_code,
        coalesce(judged.expected_remaining_working_days, 0) as expected_remaining_working_days,
        coalesce(judged.risk_probability, 0) as risk_probability,
        judged.risk_probability is null as lacks_history,
        judged.is_waiting_supplement,
        not judged.is_waiting_supplement and judged.working_days_left <= 0 as is_late
    from judged

),

ended_late_rows as (

    select
        dossiers.province_code,
        dossiers.dossier_code,
        dossiers.agency_code,
        dossiers.procedure_code,
        dossiers.field_code,
        dossiers.level_code,
        dossiers.received_at,
        dossiers.due_date,
        nights.as_of_date,
        due_day.working_day_number - night_day.working_day_number as working_days_left,
        null::text as holding_step,
        null::text as holding_agency_code,
        0::numeric as expected_remaining_working_days,
        1.0::numeric as risk_probability,
        false as lacks_history,
        false as is_waiting_supplement,
        true as is_late
    from {{ ref('fct_dossiers') }} as dossiers
    inner join nights on dossiers.province_code = nights.province_code
    inner join calendar as due_day on dossiers.due_date = due_day.date_day
    inner join calendar as night_day on nights.as_of_date = night_day.date_day
    where dossiers.is_ended_late
        and dossiers.ended_date <= nights.as_of_date
        and dossiers.ended_date > nights.as_of_date - {{ apology_lookback_days }}

),

all_rows as (

    select *, false as is_ended from open_rows
    union all
    select *, true as is_ended from ended_late_rows

),

flagged as (

    select
        all_rows.*,
        not all_rows.is_late
            and not all_rows.is_waiting_supplement
            and all_rows.working_days_left <= {{ horizon }}
            and case
                -- too late for a warning in time: raised only when nearly sure to end late
                when all_rows.working_days_left < 2 then all_rows.risk_probability >= {{ too_late }}
                else all_rows.risk_probability >= {{ threshold }}
                    -- the last night a warning still comes 2 working days ahead
                    or (all_rows.working_days_left = 2 and all_rows.risk_probability >= {{ last_chance }})
            end as is_at_risk,
        apologies.dossier_code is not null as has_apology_letter
    from all_rows
    left join apologies
        on all_rows.province_code = apologies.province_code
        and all_rows.dossier_code = apologies.dossier_code

),

final as (

    select
        province_code::text as province_code,
        dossier_code::text as dossier_code,
        agency_code::text as agency_code,
        procedure_code::text as procedure_code,
        field_code::text as field_code,
        level_code::int as level_code,
        received_at,
        due_date,
        as_of_date,
        working_days_left::int as working_days_left,
        holding_step,
        holding_agency_code,
        expected_remaining_working_days::numeric as expected_remaining_working_days,
        risk_probability::numeric as risk_probability,
        is_at_risk,
        case
            when is_ended then 'đã giải quyết trễ hạn, chưa có văn bản xin lỗi (Mẫu 04)'
            when is_waiting_supplement
                then 'đang chờ tổ chức, cá nhân bổ sung hồ sơ; thời gian chờ không tính vào hạn'
            when is_late and working_days_left = 0
                then format('đã quá hạn: hạn giải quyết là ngày %s', to_char(due_date, 'DD/MM/YYYY'))
            when is_late then format('đã quá hạn %s ngày làm việc', -working_days_left)
            when lacks_history
                then format('còn %s ngày làm việc; chưa đủ hồ sơ tương tự để ước lượng', working_days_left)
            else format(
                'còn %s ngày làm việc; đang ở bước %s, hồ sơ tương tự thường cần thêm %s ngày làm việc (khả năng trễ hạn %s%%)',
                working_days_left,
                lower(coalesce(holding_step, 'xử lý')),
                ceil(expected_remaining_working_days),
                round(risk_probability * 100)
            )
        end as risk_reason,
        is_late,
        not has_apology_letter and (is_late or is_at_risk) as apology_letter_due,
        has_apology_letter,
        is_late and not has_apology_letter as is_late_without_apology
    from flagged

)

select * from final
