{# "Now" for this build's time windows: the one value of model int_as_of (CDP_AS_OF, else the data's latest event or order, capped at the wall clock). #}
{% macro as_of_timestamp() -%}
    (select as_of_at from {{ ref('int_as_of') }})
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

{# The larger of two timestamps where either may be NULL. #}
{% macro greatest_non_null(left, right) -%}
    case
        when {{ left }} is null then {{ right }}
        when {{ right }} is null then {{ left }}
        when {{ left }} >= {{ right }} then {{ left }}
        else {{ right }}
    end
{%- endmacro %}

{# The CDP_AS_OF environment variable as a UTC timestamp, or a typed NULL when it is not set. #}
{% macro as_of_override() -%}
    {%- set as_of = env_var('CDP_AS_OF', '') -%}
    {%- if as_of -%}
        {{ cdp.to_utc_timestamp("'" ~ as_of ~ "'") }}
    {%- else -%}
        cast(null as {{ dbt.type_timestamp() }})
    {%- endif -%}
{%- endmacro %}
