{# The relation's columns as a select list, without those in `except` ('*' before the relation exists, e.g. at parse). #}
{% macro star(relation, except=[]) -%}
    {%- if not execute -%}
        *
    {%- else -%}
        {%- set excluded = except | map('lower') | list -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- set kept = [] -%}
        {%- for column in columns if column.name | lower not in excluded -%}
            {%- do kept.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {{ kept | join(',\n    ') if kept else '*' }}
    {%- endif -%}
{%- endmacro %}
