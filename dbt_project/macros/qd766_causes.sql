{#- Python's truth of a JSON value, as the portal's rule reads a flag or a list: a non-zero
    number, true, a non-empty string, list or object. -#}
{% macro qd766_truthy(value) -%}
    coalesce(case jsonb_typeof({{ value }})
        when 'number' then ({{ value }})::numeric <> 0
        when 'boolean' then ({{ value }})::boolean
        when 'string' then ({{ value }}) #>> '{}' <> ''
        when 'array' then jsonb_array_length({{ value }}) > 0
        when 'object' then ({{ value }}) <> '{}'::jsonb
    end, false)
{%- endmacro %}


{#- Every version of a dossier in one system (the one-stop system, or the portal's copies),
    with the fields the portal's rule reads (int_qd766_cause_contributions); `rebuild`
    (rebuild_keys of the dossier codes, their record key): only those records' versions,
    read through raw's index on (province_code, record_key). -#}
{% macro qd766_dossier_versions(relation, kind, rebuild=none) -%}
    select
        raw.province_code,
        '{{ kind }}' as kind,
        fields."MaHoSo" as dossier_code,
        fields."NgayCapNhat" as updated_stamp,
        raw.record_updated_at,
        raw.extracted_at,
        raw.payload_hash,
        nullif(fields."DonViXuLy", '') as unit_code,
        nullif(fields."NgayTiepNhan", '') as received_stamp,
        to_date(left(nullif(fields."NgayTiepNhan", ''), 8), 'YYYYMMDD') as received_date,
        to_date(left(nullif(fields."NgayHenTra", ''), 8), 'YYYYMMDD') as due_date,
        to_date(left(nullif(fields."NgayKetThucXuLy", ''), 8), 'YYYYMMDD') as ended_date,
        coalesce(fields."KenhThucHien" = '2', false) as is_online,
        {{ qd766_truthy("raw.payload -> 'HoSoCoThanhPhanSoHoa'") }} as has_digitized_components,
        jsonb_path_exists(raw.payload,
            '$.TaiLieuNop[*] ? (@.DuocTaiSuDung == 1 || @.DuocTaiSuDung == true)')
            as has_reused_components,
        {{ qd766_truthy("raw.payload -> 'DanhSachGiayToKetQua'") }} as has_electronic_result
    from {{ raw_or_empty(relation) }} as raw
    cross join lateral jsonb_to_record(raw.payload) as fields (
        "MaHoSo" text, "NgayCapNhat" text, "DonViXuLy" text, "NgayTiepNhan" text,
        "NgayHenTra" text, "NgayKetThucXuLy" text, "KenhThucHien" text
    )
    where fields."MaHoSo" is not null
        and {{ rebuild_filter(rebuild, 'raw.record_key', 'raw.province_code') }}
{%- endmacro %}
