{# One select per link rule over a staging CTE: the pairs of non-null identifiers a row holds, with the rule's name and tier. #}
{% macro identity_links(relation, observed_at, source_table, rules) -%}
    {%- for left_type, left_column, right_type, right_column, rule, tier, condition in rules %}
    select
        '{{ left_type }}' as left_type,
        {{ left_column }} as left_value,
        '{{ right_type }}' as right_type,
        {{ right_column }} as right_value,
        concat('{{ left_type }}', ':', {{ left_column }}) as left_key,
        concat('{{ right_type }}', ':', {{ right_column }}) as right_key,
        '{{ rule }}' as rule,
        {{ tier }} as tier,
        '{{ source_table }}' as source_table,
        {{ observed_at }} as observed_at
    from {{ relation }}
    where {{ left_column }} is not null and {{ right_column }} is not null and ({{ condition }})
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# One select per identifier column over a staging CTE: each non-null identifier a row holds, with when it was seen. #}
{% macro identity_observations(relation, observed_at, source_table, columns) -%}
    {%- for identifier_type, column in columns %}
    select
        '{{ identifier_type }}' as identifier_type,
        {{ column }} as identifier_value,
        '{{ source_table }}' as source_table,
        {{ observed_at }} as observed_at
    from {{ relation }}
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
