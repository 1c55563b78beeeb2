{#- Loại văn bản — the I-Office document types (LoaiVanBan), with any other code the
    documents use. -#}
with

known_types (document_type_code, document_type_name, document_type_name_en, is_apology_letter) as (

    values
        ('CV', 'Công văn', 'official letter', false),
        ('QD', 'Quyết định', 'decision', false),
        ('TB', 'Thông báo', 'notice', false),
        ('TXL', 'Thư xin lỗi (Mẫu 04)', 'apology letter (form 04)', true)

),

used_types as (

    select document_type_code from {{ ref('stg_ioffice__outgoing_documents') }}
    union
    select document_type_code from {{ ref('stg_ioffice__incoming_documents') }}

),

final as (

    select * from known_types
    union all
    select document_type_code, document_type_code, 'other', false
    from used_types
    where document_type_code is not null
        and document_type_code not in (select document_type_code from known_types)

)

select * from final
