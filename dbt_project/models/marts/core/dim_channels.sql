{#- Kênh thực hiện — the channels a dossier is submitted through (KenhThucHien). -#}
with

channels (channel_code, channel_name, channel_name_en, is_online) as (

    values
        (1, 'Trực tiếp', 'direct (at the counter)', false),
        (2, 'Trực tuyến', 'online', true),
        (3, 'Bưu chính công ích', 'postal', false)

)

select channel_code, channel_name, channel_name_en, is_online from channels
