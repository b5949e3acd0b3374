{# A timestamp plus a number of seconds (negative: earlier), keeping its fraction of a second on every engine. #}
{% macro add_seconds(timestamp, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'cdp')(timestamp, seconds)) }}
{%- endmacro %}

{% macro default__add_seconds(timestamp, seconds) -%}
    {{ dbt.dateadd('second', seconds, timestamp) }}
{%- endmacro %}

{% macro spark__add_seconds(timestamp, seconds) -%}
    {#- dbt-spark's dateadd goes through unix seconds and drops the milliseconds. -#}
    ({{ timestamp }} + make_dt_interval(0, 0, 0, {{ seconds }}))
{%- endmacro %}
