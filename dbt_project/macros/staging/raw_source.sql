{# A raw source table with the lineage columns staging needs (_loaded_at, _file, _row_number), and any `optional` contract columns, defaulted when an EL tool's table lacks them. #}
{% macro raw_source(source_name, table_name, optional={}) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = (adapter.get_columns_in_relation(relation) if execute else []) | map(attribute='name') | map('lower') | list -%}
    {%- set defaults = {
        '_loaded_at': cdp.current_utc_timestamp(),
        '_file': "'" ~ relation.identifier ~ "'",
        '_row_number': 'cast(0 as ' ~ dbt.type_bigint() ~ ')',
    } -%}
    {#- Columns the contract added later (a table landed before then lacks them): NULL. -#}
    {%- for column, data_type in optional.items() -%}
        {%- do defaults.update({column: 'cast(null as ' ~ data_type ~ ')'}) -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in defaults if existing and column not in existing -%}
        {%- do missing.append(defaults[column] ~ ' as ' ~ column) -%}
    {%- endfor -%}
    {#- No columns known (parse time, or a unit test's mocked input): use the source as is. -#}
    {%- if missing -%}
        (select *, {{ missing | join(', ') }} from {{ relation }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
