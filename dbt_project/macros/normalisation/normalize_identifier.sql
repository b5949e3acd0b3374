{# An identifier's normal form by its type: email and phone normalised, other ids through clean_id (trimmed); NULL for placeholders. #}
{% macro normalize_identifier(type_expression, value_expression) -%}
    case {{ type_expression }}
        when 'email' then {{ cdp.normalize_email(value_expression) }}
        when 'phone' then {{ cdp.normalize_phone(value_expression) }}
        else {{ cdp.clean_id(value_expression) }}
    end
{%- endmacro %}

{# The contract identifier type a privacy subject_type names ('user_id' is the shop's customer_id); NULL if unknown. #}
{% macro identifier_type_of(subject_type_expression) -%}
    case lower(trim({{ subject_type_expression }}))
        when 'user_id' then 'customer_id'
        {%- for identifier_type in ['anonymous_id', 'customer_id', 'email', 'phone', 'contact_id', 'device_id'] %}
        when '{{ identifier_type }}' then '{{ identifier_type }}'
        {%- endfor %}
    end
{%- endmacro %}
