{#- Every dossier version in raw, key and update time only: how incremental models find the
    dossiers changed since their last run without reading the whole history (the filter on
    updated_at uses raw's index on record_updated_at). -#}
select
    record_key as dossier_code,
    record_updated_at as updated_at,
    extracted_at
from {{ raw_or_empty(source('onestop', 'dossiers')) }} as raw_versions
