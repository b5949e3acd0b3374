{# The non-null values of a group joined by a delimiter, in ascending order on every engine (dbt-spark's listagg drops the order). #}
{% macro sorted_string_agg(expression, delimiter="','") -%}
    {{ return(adapter.dispatch('sorted_string_agg', 'cdp')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__sorted_string_agg(expression, delimiter) -%}
    {{ dbt.listagg(expression, delimiter, "order by " ~ expression) }}
{%- endmacro %}

{% macro spark__sorted_string_agg(expression, delimiter) -%}
    case when count({{ expression }}) > 0 then array_join(array_sort(collect_list({{ expression }})), {{ delimiter }}) end
{%- endmacro %}
