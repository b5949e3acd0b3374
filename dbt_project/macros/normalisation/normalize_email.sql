{# An email trimmed and lower-cased; NULL when not shaped like an address or a placeholder (vars cdp_placeholder_*). #}
{% macro normalize_email(expression) -%}
    {%- set email = "lower(trim(" ~ expression ~ "))" -%}
    case
        when {{ email }} in ({{ cdp.placeholder_value_list() }}) then null
        when not {{ cdp.regex_matches(email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') }} then null
        {%- for pattern in var('cdp_placeholder_email_patterns') %}
        when {{ cdp.regex_matches(email, pattern) }} then null
        {%- endfor %}
        else {{ email }}
    end
{%- endmacro %}
