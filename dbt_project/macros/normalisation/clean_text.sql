{# Trimmed text, NULL when empty or a generic placeholder from var cdp_placeholder_values ('n/a', 'unknown', ...). #}
{% macro clean_text(expression) -%}
    case
        when lower(trim({{ expression }})) in ({{ cdp.placeholder_value_list() }}) then null
        else trim({{ expression }})
    end
{%- endmacro %}

{# The generic placeholder values as a SQL list of lower-cased literals. #}
{% macro placeholder_value_list() -%}
    {%- for value in var('cdp_placeholder_values') -%}
        {{ cdp.text_literal(value | lower) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
