{# The scalar at a JSONPath ('$.a.b') of a JSON text column, as text; NULL when absent or not JSON. #}
{% macro json_value(json_expression, path) -%}
    {{ return(adapter.dispatch('json_value', 'cdp')(json_expression, path)) }}
{%- endmacro %}

{% macro duckdb__json_value(json_expression, path) -%}
    {#- json_extract_string raises on malformed JSON text: try_cast makes it NULL instead. -#}
    json_extract_string(try_cast({{ json_expression }} as json), '{{ path }}')
{%- endmacro %}

{% macro default__json_value(json_expression, path) -%}
    get_json_object({{ json_expression }}, '{{ path }}')
{%- endmacro %}
