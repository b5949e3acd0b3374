{# Select, for every row of a staging CTE and every link rule of its source (seed identity_link_rules), the pair of identifiers the rule names and whether the rule's condition holds. #}
{% macro identity_rule_links(relation, rules_relation, source_table, observed_at, columns) -%}
    select
        rules.rule,
        rules.tier,
        rules.left_type,
        {{ identity_column_value(relation, 'rules.left_column', columns) }} as left_value,
        rules.right_type,
        {{ identity_column_value(relation, 'rules.right_column', columns) }} as right_value,
        '{{ source_table }}' as source_table,
        {{ observed_at }} as observed_at,
        (
            rules.condition_column is null
            or (
                (
                    rules.condition_equals is null
                    or {{ identity_column_value(relation, 'rules.condition_column', columns) }}
                    = rules.condition_equals
                )
                and (
                    rules.condition_not_equals is null
                    or {{ identity_column_value(relation, 'rules.condition_column', columns) }}
                    <> rules.condition_not_equals
                )
            )
        )
        and (
            rules.requires_null_column is null
            or {{ identity_column_value(relation, 'rules.requires_null_column', columns) }} is null
        ) as is_applicable
    from {{ relation }}
    inner join {{ rules_relation }} as rules on rules.source_table = '{{ source_table }}'
{%- endmacro %}

{# SQL: the value of the column of `relation` whose name the expression holds (one of `columns`), as text. #}
{% macro identity_column_value(relation, name_expression, columns) -%}
    case {{ name_expression }}
        {%- for column in columns %}
        when '{{ column }}' then cast({{ relation }}.{{ column }} as string)
        {%- endfor %}
    end
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

{# The columns of each staging source a link rule may name (int_identity_edges exposes these; the seed's data test checks every rule against them). #}
{% macro identity_rule_columns() -%}
    {{ return({
        'events': ['anonymous_id', 'previous_id', 'user_id', 'email', 'phone', 'device_id', 'event_type'],
        'crm_contacts': ['contact_id', 'email', 'phone'],
        'shop_customers': ['customer_id', 'email', 'phone'],
        'shop_orders': ['customer_id', 'email', 'phone'],
    }) }}
{%- endmacro %}
