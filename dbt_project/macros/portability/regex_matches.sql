{# True when the text matches the regular expression (RE2 syntax: no back-references). #}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'cdp')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ cdp.text_literal(pattern) }})
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ cdp.text_literal(pattern) }})
{%- endmacro %}

{# A Jinja list of strings as a SQL list of quoted literals: 'a', 'b'. #}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        {{ cdp.text_literal(value) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
