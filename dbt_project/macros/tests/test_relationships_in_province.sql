{#- Fails on every non-null value of column_name whose (province_code, value) is not a
    (province_code, field) of `to`: a relationship within the province, since provinces'
    systems may reuse keys. -#}
{% test relationships_in_province(model, column_name, to, field) %}

select child.province_code, child.{{ column_name }}
from {{ model }} as child
where child.{{ column_name }} is not null
    and not exists (
        select 1 from {{ to }} as parent
        where parent.province_code = child.province_code
            and parent.{{ field }} = child.{{ column_name }}
    )

{% endtest %}
