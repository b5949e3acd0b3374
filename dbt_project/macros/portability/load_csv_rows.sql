{# Seeds on Spark: insert the CSV rows as SQL literals, an empty cell as null. Overrides dbt-spark's loader, whose session cursor renders a bound None as the text 'None' and does not escape quotes (the link rules' empty conditions became 'None' and most rules never applied). #}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ cdp.seed_value_literal(value) }} as {{ types[loop.index0] }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {#- dbt renders the first statement into the compiled files. -#}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{# One CSV cell (as agate read it) as a SQL literal: null, true/false, a number, or quoted text. #}
{% macro seed_value_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        {{ cdp.text_literal(value | string) }}
    {%- endif -%}
{%- endmacro %}
