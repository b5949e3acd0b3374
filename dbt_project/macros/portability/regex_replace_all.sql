{# Every match of the regular expression replaced (DuckDB needs the 'g' flag; Spark replaces all by default). #}
{% macro regex_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'cdp')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro duckdb__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ cdp.text_literal(pattern) }}, {{ cdp.text_literal(replacement) }}, 'g')
{%- endmacro %}

{% macro default__regex_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ cdp.text_literal(pattern) }}, {{ cdp.text_literal(replacement) }})
{%- endmacro %}
