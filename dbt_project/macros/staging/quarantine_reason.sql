{# The '; '-joined reasons whose condition holds for the row, or NULL for a clean row. checks: list of (condition, reason). #}
{% macro quarantine_reason(checks) -%}
    nullif(concat_ws('; '
    {%- for condition, reason in checks %},
        case when {{ condition }} then {{ cdp.text_literal(reason) }} end
    {%- endfor %}
    ), '')
{%- endmacro %}
