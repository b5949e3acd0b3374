{# A Jinja string as a SQL string literal, quoted for the engine's parser (Spark unescapes backslashes: a regex needs them doubled). #}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'cdp')(value)) }}
{%- endmacro %}

{% macro default__string_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__string_literal(value) -%}
    {#- Spark reads '\s' as 's' and '' as the end of one literal and the start of the next. -#}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
