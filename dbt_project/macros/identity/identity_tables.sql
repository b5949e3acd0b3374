{# A relation from a Relation or a 'schema.name' / 'database.schema.name' string (run-operation passes strings): always qualified. #}
{% macro identity_relation(value) %}
    {%- if value is not string -%}
        {{ return(value) }}
    {%- endif -%}
    {%- set parts = value.split('.') -%}
    {%- if parts | length == 2 -%}
        {#- The target's database where the engine has one (DuckDB); none on Spark. -#}
        {{ return(api.Relation.create(database=target.get('database'), schema=parts[0], identifier=parts[1], type='table')) }}
    {%- elif parts | length == 3 -%}
        {{ return(api.Relation.create(database=parts[0], schema=parts[1], identifier=parts[2], type='table')) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        'identity: relation ' ~ value ~ ' must be qualified as schema.name (scratch tables live beside it)'
    ) }}
{% endmacro %}

{# A scratch table of a solve, beside `base` (same database and schema), named `<base>__<name>`. #}
{% macro identity_scratch_relation(base, name) %}
    {{ return(api.Relation.create(
        database=base.database,
        schema=base.schema,
        identifier=base.identifier ~ '__' ~ name,
        type='table'
    )) }}
{% endmacro %}

{# True when the relation exists in the warehouse (asked through the adapter, on every engine). #}
{% macro identity_table_exists(relation) %}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {{ return(found is not none) }}
{% endmacro %}

{# Create (or replace) a table from a select; runs it now. #}
{% macro identity_create_table(relation, sql) %}
    {% do adapter.dispatch('identity_create_table', 'cdp')(relation, sql) %}
{% endmacro %}

{% macro duckdb__identity_create_table(relation, sql) %}
    {%- set statement -%}
        create or replace table {{ relation }} as {{ sql }}
    {%- endset -%}
    {% do run_query(statement) %}
{% endmacro %}

{% macro default__identity_create_table(relation, sql) %}
    {#- Spark without a v2 table format has no `create or replace table ... as`. -#}
    {%- set drop_statement -%}
        drop table if exists {{ relation }}
    {%- endset -%}
    {%- set create_statement -%}
        create table {{ relation }} as {{ sql }}
    {%- endset -%}
    {% do run_query(drop_statement) %}
    {% do run_query(create_statement) %}
{% endmacro %}

{# Drop tables made by identity_create_table. #}
{% macro identity_drop_tables(relations) %}
    {%- for relation in relations -%}
        {%- set statement -%}
            drop table if exists {{ relation }}
        {%- endset -%}
        {% do run_query(statement) %}
    {%- endfor -%}
{% endmacro %}

{# The numbers a select of one row returns (e.g. several counts in one statement), as a list of ints. #}
{% macro identity_counts(sql) %}
    {%- set result = run_query(sql) -%}
    {%- set counts = [] -%}
    {%- for value in result.rows[0] -%}
        {%- do counts.append(value | int) -%}
    {%- endfor -%}
    {{ return(counts) }}
{% endmacro %}

{# The number of rows of a relation, optionally filtered by a where clause. #}
{% macro identity_count(relation, where=none) %}
    {%- set statement -%}
        select count(*) as row_count
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    {%- endset -%}
    {{ return(identity_counts(statement)[0]) }}
{% endmacro %}

{# Commit the work of the current connection where the engine has transactions (DuckDB); a no-op elsewhere (Spark). #}
{% macro identity_commit() %}
    {% do adapter.dispatch('identity_commit', 'cdp')() %}
{% endmacro %}

{% macro duckdb__identity_commit() %}
    {% do adapter.commit() %}
{% endmacro %}

{% macro default__identity_commit() %}
    {#- dbt-spark has no transactions: every statement is final. -#}
{% endmacro %}
