{# A timestamp in UTC without zone from a timestamp or ISO-8601 text (offset honoured; none = UTC); NULL when unparseable. #}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'cdp')(expression)) }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expression) -%}
    {#- A plain cast to timestamp would drop a '+01:00' offset: go through timestamptz. -#}
    (try_cast({{ expression }} as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro spark__to_utc_timestamp(expression) -%}
    {#- Spark parses the offset of ISO text; with spark.sql.session.timeZone=UTC this is UTC. -#}
    try_cast({{ expression }} as timestamp)
{%- endmacro %}

{% macro default__to_utc_timestamp(expression) -%}
    {{ dbt.safe_cast(expression, api.Column.translate_type('timestamp')) }}
{%- endmacro %}
