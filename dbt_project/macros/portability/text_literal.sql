{# A Jinja string as a SQL string literal, quoted for the engine's parser (Spark unescapes backslashes: a regex needs them doubled). Not named string_literal: dbt's own cross-database macro of that name (used by unit-test fixtures) would dispatch to ours. #}
{% macro text_literal(value) -%}
    {{ return(adapter.dispatch('text_literal', 'cdp')(value)) }}
{%- endmacro %}

{% macro default__text_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__text_literal(value) -%}
    {#- Spark reads '\s' as 's' and '' as the end of one literal and the start of the next. -#}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
