{# A person-identifying id (anonymous_id, user_id, previous_id, device id, customer_id) trimmed; NULL for generic placeholders and the junk ids SDKs send (vars cdp_placeholder_values, cdp_placeholder_ids, cdp_placeholder_id_patterns). #}
{% macro clean_id(expression) -%}
    {%- set lowered = "lower(trim(" ~ expression ~ "))" -%}
    case
        when {{ lowered }} in ({{ cdp.placeholder_value_list() }}) then null
        {%- if var('cdp_placeholder_ids', []) | length > 0 %}
        when {{ lowered }} in (
            {%- for value in var('cdp_placeholder_ids') -%}
                {{ cdp.text_literal(value | lower) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        ) then null
        {%- endif %}
        {%- for pattern in var('cdp_placeholder_id_patterns', []) %}
        when {{ cdp.regex_matches(lowered, pattern) }} then null
        {%- endfor %}
        else trim({{ expression }})
    end
{%- endmacro %}
