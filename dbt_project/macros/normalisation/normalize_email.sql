{# An email cleaned (cdp.clean_unicode) and lower-cased; NULL when not shaped like an address or a placeholder (vars cdp_placeholder_*). Python: orchestration.identifiers.identity_email. #}
{% macro normalize_email(expression) -%}
    {%- set email = "lower(" ~ cdp.clean_unicode(expression) ~ ")" -%}
    {%- set part = cdp.character_class(['0040'] + var('cdp_trim_characters'), negated=true) ~ '+' -%}
    case
        when {{ email }} in ({{ cdp.placeholder_value_list() }}) then null
        when not {{ cdp.regex_matches(email, '^' ~ part ~ '@' ~ part ~ '\\.' ~ part ~ '$') }} then null
        {%- for pattern in var('cdp_placeholder_email_patterns') %}
        when {{ cdp.regex_matches(email, pattern) }} then null
        {%- endfor %}
        else {{ email }}
    end
{%- endmacro %}
