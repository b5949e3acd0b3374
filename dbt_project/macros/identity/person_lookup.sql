{# A left join bringing the person_id of an identifier column (alias.person_id); hubs only when include_hubs. #}
{% macro join_person(alias, identifier_type, value_expression, include_hubs=false) -%}
    left join {{ ref('identity_map') }} as {{ alias }}
        on
            {{ alias }}.identifier_type = '{{ identifier_type }}'
            and {{ alias }}.identifier_value = {{ value_expression }}
            {%- if not include_hubs %}
            and not {{ alias }}.is_hub
            {%- endif %}
{%- endmacro %}

{# SQL true when an identifier value of a type was erased (a record carrying it is about an erased person). #}
{% macro is_erased(identifier_type, value_expression) -%}
    exists (
        select 1 from {{ ref('int_identity_erasures') }} as erased
        where
            erased.identifier_type = '{{ identifier_type }}'
            and erased.identifier_value = {{ value_expression }}
    )
{%- endmacro %}
