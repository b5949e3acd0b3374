{# A timestamp plus a number of days (negative: earlier), keeping its fraction of a second on every engine. #}
{% macro add_days(timestamp, days) -%}
    {{ return(adapter.dispatch('add_days', 'cdp')(timestamp, days)) }}
{%- endmacro %}

{% macro default__add_days(timestamp, days) -%}
    {{ dbt.dateadd('day', days, timestamp) }}
{%- endmacro %}

{% macro spark__add_days(timestamp, days) -%}
    {#- dbt-spark's dateadd goes through unix seconds and drops the milliseconds. -#}
    ({{ timestamp }} + make_dt_interval({{ days }}))
{%- endmacro %}
