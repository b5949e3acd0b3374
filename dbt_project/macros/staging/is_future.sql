{# True when a timestamp is later than its row's load time plus var cdp_future_tolerance_hours. #}
{% macro is_future(timestamp_expression, loaded_at_expression='_loaded_at') -%}
    ({{ timestamp_expression }} > {{ dbt.dateadd('hour', var('cdp_future_tolerance_hours'), loaded_at_expression) }})
{%- endmacro %}
