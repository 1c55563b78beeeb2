{#- Shared by the Decision 766 marts, so a bound, a cause or a reconciliation row cannot
    drift from the score it is about. Documented in qd766_shared.yml. -#}

{#- Every component our sources measure: (code, numerator, denominator, basis,
    dossier_numerator, dossier_denominator). numerator and denominator are expressions over
    the scope's measures (mart_cchc_indicators and the scores mart's own counts); basis says
    what they count. dossier_numerator and dossier_denominator say the same of one dossier of
    fct_dossiers received in the period (a column or an expression; none: the component is
    not counted from dossiers received, or is judged per period, as handling progress), read
    by mart_qd766_bounds to place a flagged dossier; 'null::boolean': the dossier's place in
    the numerator is not known from the dossier alone (the bounds then take the widest move). -#}
{% macro qd766_component_measures() %}
    {{ return([
        ('PUBLISH_ON_TIME', 'announced_on_time', 'procedures',
         'catalogue procedures announced no later than their legal basis took effect / catalogue procedures (province-wide)',
         none, none),
        ('PUBLIC_UPDATE_ON_TIME', 'published_on_time', 'procedures',
         'catalogue procedures published on the portal within 5 days of the announcement / catalogue procedures (province-wide)',
         none, none),
        ('PUBLIC_CONTENT_FULL', 'content_complete', 'procedures',
         'catalogue procedures with every mandatory part published / catalogue procedures (province-wide)',
         none, none),
        ('DOSSIER_SYNC', 'synced', 'greatest(received, portal_received)',
         'dossiers received in the period also on the portal / max(one-stop dossiers, portal dossiers received in the period)',
         none, none),
        ('DOSSIER_HANDLING_ON_TIME', 'on_time', 'in_scope',
         'dossiers handled or in handling on time (working days, supplement waiting time subtracted, at most one supplement request) / dossiers received or handled in the period',
         none, none),
        ('ONLINE_SERVICE_PROVIDED', 'online_services', 'procedures',
         'catalogue procedures offered online (toàn trình or một phần) / catalogue procedures (estimate)',
         none, none),
        ('ONLINE_SERVICE_USED', 'services_with_online_dossiers', 'online_services',
         'online services with at least one online dossier received in the period / online services (estimate)',
         none, none),
        ('ONLINE_DOSSIER_RATE', 'online_received', 'received',
         'online dossiers (KenhThucHien = 2) / dossiers received in the period (estimate)',
         'is_online', 'true'),
        ('ONLINE_PAYMENT_DOSSIER', 'paid_online', 'fee_dossiers',
         'dossiers paid online (DuocThanhToanTrucTuyen 1 or 2) / dossiers with a fee (DanhSachLePhi) received in the period',
         'is_paid_online', 'has_fees'),
        ('ONLINE_PAYMENT_FORMALITY', 'fee_procedures_paid_online', 'fee_procedures',
         'fee-bearing procedures with a dossier paid online in the period / fee-bearing catalogue procedures',
         none, none),
        ('FEE_DATA_SYNCED_FORMALITY', 'fee_procedures_with_fee_data', 'fee_procedures',
         'fee-bearing catalogue procedures with their fee published / fee-bearing catalogue procedures',
         none, none),
        ('ORIGINAL_RESULT_AVAILABLE', 'e_result', 'received',
         'dossiers received in the period with an electronic result (DanhSachGiayToKetQua) / dossiers received',
         'has_electronic_result', 'true'),
        ('SO_HOA_GIAY_TO_GIAI_QUYET', 'digitized', 'received',
         'dossiers received in the period with digitized components (HoSoCoThanhPhanSoHoa = 1) / dossiers received',
         'has_digitized_components', 'true'),
        ('REUSED_DIGITIZED_DATA', 'reused', 'received',
         'dossiers received in the period reusing digitized data (a component with DuocTaiSuDung = 1) / dossiers received',
         'has_reused_components', 'true'),
        ('CITIZEN_DATA_CONNECTED_DOSSIER', 'online_received', 'received',
         'online dossiers (applicant identified from the population data through the portal account) / dossiers received',
         'is_online', 'true'),
        ('PETITION_PROCESSING_ON_TIME', 'petitions_on_time', 'petitions',
         'petitions received in the period answered no later than their due time / petitions received (6 points when none)',
         none, none),
        ('PETITION_HANDLING_SATISFACTION', 'petitions_satisfied', 'petitions',
         'petitions received in the period rated satisfied or very satisfied / petitions received (6 points when none)',
         none, none),
        ('DOSSIER_RECEIVING_SATISFACTION', 'greatest(received - overdue_at_period_end - rated_dissatisfied, 0)', 'received',
         '1 - (dossiers overdue at the period end + dossiers rated not satisfied) / dossiers received in the period',
         'null::boolean', 'true')
    ]) }}
{% endmacro %}


{#- scope_kind and scope_code of a row aggregated with grouping sets ((agency), ()): the
    agency, or the province as a whole. -#}
{% macro qd766_scope_columns(agency, province) -%}
    case when grouping({{ agency }}) = 0 then 'agency' else 'province' end as scope_kind,
    case when grouping({{ agency }}) = 0 then {{ agency }}
        else {{ province }} end as scope_code
{%- endmacro %}


{#- The join condition of two relations about the same 766 cell: province, scope code,
    period (with its grain unless grain=false: the monthly marts) and component. -#}
{% macro qd766_same_cell(left, right, grain=true) -%}
    {{ left }}.province_code = {{ right }}.province_code
        and {{ left }}.scope_code = {{ right }}.scope_code
        {%- if grain %}
        and {{ left }}.period_grain = {{ right }}.period_grain
        {%- endif %}
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ left }}.component_code = {{ right }}.component_code
{%- endmacro %}
