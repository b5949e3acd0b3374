{# Generic test on the link rules: fails for every column a rule names (left, right, condition or required-null column) that its source does not expose (identity_rule_columns); such a rule would silently link nothing. #}
{% test identity_rule_columns_exposed(model) %}
    {%- set exposed = [] -%}
    {%- for source_table, columns in cdp.identity_rule_columns().items() -%}
        {%- for column in columns -%}
            {%- do exposed.append((source_table, column)) -%}
        {%- endfor -%}
    {%- endfor %}
    with

    rules as (
        select * from {{ model }}
    ),

    exposed_columns as (
        {%- for source_table, column in exposed %}
        select '{{ source_table }}' as source_table, '{{ column }}' as column_name
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    named_columns as (
        {%- for field in ['left_column', 'right_column', 'condition_column', 'requires_null_column'] %}
        select
            rule,
            source_table,
            '{{ field }}' as field,
            {{ field }} as column_name
        from rules
        -- An empty cell is no column (dbt loads it as null, a unit test fixture as '').
        where nullif({{ field }}, '') is not null
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ),

    unknown_columns as (
        select named_columns.*
        from named_columns
        left join exposed_columns
            on
                named_columns.source_table = exposed_columns.source_table
                and named_columns.column_name = exposed_columns.column_name
        where exposed_columns.column_name is null
    )

    select * from unknown_columns
{% endtest %}
