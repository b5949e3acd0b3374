{# The moment "now" means for this build: CDP_AS_OF (ISO-8601, UTC) if set, else the current UTC time. #}
{% macro as_of_timestamp() -%}
    {%- set as_of = env_var('CDP_AS_OF', '') -%}
    {%- if as_of -%}
        {{ cdp.to_utc_timestamp("'" ~ as_of ~ "'") }}
    {%- else -%}
        {{ cdp.current_utc_timestamp() }}
    {%- endif -%}
{%- endmacro %}

{# The current time in UTC, without zone. #}
{% macro current_utc_timestamp() -%}
    {{ return(adapter.dispatch('current_utc_timestamp', 'cdp')()) }}
{%- endmacro %}

{% macro duckdb__current_utc_timestamp() -%}
    (current_timestamp at time zone 'UTC')
{%- endmacro %}

{% macro default__current_utc_timestamp() -%}
    current_timestamp()
{%- endmacro %}

{# The start of this dbt invocation as a timestamp literal (UTC): one value shared by every model of the run. #}
{% macro run_started_timestamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
