{#- One row per administrative unit code: its latest version. Picked from the unit versions
    model, which parses the payload once for both, in the order of latest_record_version:
    the record's own update time, then extraction time, then hash. -#}
select distinct on (province_code, unit_code)
    province_code,
    unit_code,
    unit_name,
    unit_sign,
    unit_kind,
    unit_level,
    parent_unit_code,
    effective_from,
    effective_to,
    successor_unit_code,
    updated_at,
    extracted_at
from {{ ref('stg_onestop__administrative_unit_versions') }}
order by province_code, unit_code, updated_at desc nulls last, extracted_at desc, payload_hash desc
