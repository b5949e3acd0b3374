{# The BIGINT surrogate of an identifier (type and normalised value), the node id the identity graph is solved on. #}
{% macro identity_node_id(type_expression, value_expression) -%}
    {{ cdp.hash_bigint("concat(" ~ type_expression ~ ", ':', " ~ value_expression ~ ")") }}
{%- endmacro %}

{# The stable text id of a person: a digest of its founder identifier (type and value). #}
{% macro identity_person_id(type_expression, value_expression) -%}
    concat('p_', substring({{ cdp.hash_text("concat(" ~ type_expression ~ ", ':', " ~ value_expression ~ ")") }}, 1, 20))
{%- endmacro %}
