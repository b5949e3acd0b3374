{# A relation from a Relation or a '[database.][schema.]name' string (run-operation passes strings). #}
{% macro identity_relation(value) %}
    {%- if value is string -%}
        {#- dbt-spark has no target.database (and SparkRelation refuses one). -#}
        {%- set database = none if target.type == 'spark' else target.database -%}
        {%- set parts = value.split('.') -%}
        {%- if parts | length == 1 -%}
            {%- do return(api.Relation.create(database=database, schema=target.schema, identifier=parts[0], type='table')) -%}
        {%- elif parts | length == 2 -%}
            {%- do return(api.Relation.create(database=database, schema=parts[0], identifier=parts[1], type='table')) -%}
        {%- else -%}
            {%- do return(api.Relation.create(database=parts[0], schema=parts[1], identifier=parts[2], type='table')) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(value) -%}
{% endmacro %}

{# A scratch table for one step of an iterative macro: private to the session where the engine allows it. #}
{% macro identity_work_relation(name) %}
    {{ return(adapter.dispatch('identity_work_relation', 'cdp')(name)) }}
{% endmacro %}

{% macro duckdb__identity_work_relation(name) %}
    {#- No schema: DuckDB creates it as a temporary table of this connection (in memory). -#}
    {{ return(api.Relation.create(identifier=name, type='table')) }}
{% endmacro %}

{% macro default__identity_work_relation(name) %}
    {{ return(api.Relation.create(database=target.database, schema=target.schema, identifier=name, type='table')) }}
{% endmacro %}

{% macro spark__identity_work_relation(name) %}
    {#- target.schema is `default` on Spark (profiles.yml): the database unqualified names read. -#}
    {{ return(api.Relation.create(schema=target.schema, identifier=name, type='table')) }}
{% endmacro %}

{# Create (or replace) a table from a select, temporary when the relation has no schema; runs it now. #}
{% macro identity_create_table(relation, sql) %}
    {% do adapter.dispatch('identity_create_table', 'cdp')(relation, sql) %}
{% endmacro %}

{% macro duckdb__identity_create_table(relation, sql) %}
    {% do run_query(
        'create or replace ' ~ ('temporary ' if relation.schema is none else '')
        ~ 'table ' ~ relation ~ ' as ' ~ sql
    ) %}
{% endmacro %}

{% macro default__identity_create_table(relation, sql) %}
    {% do run_query('drop table if exists ' ~ relation) %}
    {% do run_query('create table ' ~ relation ~ ' as ' ~ sql) %}
{% endmacro %}

{# Drop scratch tables made by identity_create_table. #}
{% macro identity_drop_tables(relations) %}
    {% for relation in relations %}
        {% do run_query('drop table if exists ' ~ relation) %}
    {% endfor %}
{% endmacro %}

{# The number of rows of a relation, optionally filtered by a where clause. #}
{% macro identity_count(relation, where=none) %}
    {% set result = run_query('select count(*) from ' ~ relation ~ (' where ' ~ where if where else '')) %}
    {{ return(result.columns[0].values()[0] | int) }}
{% endmacro %}
