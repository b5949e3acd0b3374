{# Resolve text identifier edges into (identifier, node, component) through hash_bigint and connected_components. #}
{% macro resolve_identifier_graph(edges_relation, output_relation, src_column='src_identifier', dst_column='dst_identifier', max_passes=30, hash_modulus=none) %}
    {#-
        Identifiers are hashed to bigint nodes (solving on integers is ~8x faster than on
        text), solved, and mapped back. A row with one identifier null stands for the other
        identifier alone. Two identifiers with the same hash would silently become one
        person, so the output is checked to hold exactly one identifier per node and is
        dropped, with an error naming them, when it does not.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set started_at = modules.datetime.datetime.now() -%}
    {%- do log('resolve_identifier_graph: start ' ~ output_relation, info=True) -%}
    {%- set node_edges = identity_scratch_relation(output_relation, 'node_edges') -%}
    {%- do identity_create_table(node_edges,
        identifier_graph_node_edges_sql(edges_relation, src_column, dst_column, hash_modulus)) -%}
    {%- set components = identity_scratch_relation(output_relation, 'components') -%}
    {%- set solved = connected_components(node_edges, components, max_passes=max_passes) -%}
    {%- do identity_create_table(output_relation,
        identifier_graph_labels_sql(edges_relation, components, src_column, dst_column, hash_modulus)) -%}
    {%- do identity_drop_tables([node_edges, components]) -%}
    {%- do assert_one_identifier_per_node(output_relation, solved['nodes']) -%}
    {%- set seconds = (modules.datetime.datetime.now() - started_at).total_seconds() -%}
    {%- do log(
        'resolve_identifier_graph: done ' ~ output_relation ~ ': ' ~ solved['nodes'] ~ ' identifiers, '
        ~ solved['passes'] ~ ' passes, ' ~ solved['fallback_passes'] ~ ' fallback passes, '
        ~ '%.2f' | format(seconds) ~ ' s', info=True
    ) -%}
    {{ return({
        'passes': solved['passes'],
        'fallback_passes': solved['fallback_passes'],
        'nodes': solved['nodes'],
        'seconds': seconds,
    }) }}
{% endmacro %}


{# Select the identifier pairs of an edge relation, a row with one side null standing for the other identifier alone. #}
{% macro identifier_graph_pairs_sql(edges_relation, src_column, dst_column) -%}
    select
        coalesce({{ src_column }}, {{ dst_column }}) as src_identifier,
        coalesce({{ dst_column }}, {{ src_column }}) as dst_identifier
    from {{ edges_relation }}
    where coalesce({{ src_column }}, {{ dst_column }}) is not null
{%- endmacro %}


{# Select the identifier pairs as hash_bigint node edges (src, dst). #}
{% macro identifier_graph_node_edges_sql(edges_relation, src_column, dst_column, hash_modulus=none) -%}
    select
        {{ cdp.hash_bigint('src_identifier', hash_modulus) }} as src,
        {{ cdp.hash_bigint('dst_identifier', hash_modulus) }} as dst
    from ({{ identifier_graph_pairs_sql(edges_relation, src_column, dst_column) }}) as identifier_edges
{%- endmacro %}


{# Select each distinct identifier with its node and its node's component. #}
{% macro identifier_graph_labels_sql(edges_relation, components_relation, src_column, dst_column, hash_modulus=none) -%}
    {#- The pairs are read twice as subqueries (not one CTE): DuckDB would materialise it. -#}
    with

    distinct_identifiers as (
        select src_side.src_identifier as identifier
        from ({{ identifier_graph_pairs_sql(edges_relation, src_column, dst_column) }}) as src_side
        union
        select dst_side.dst_identifier as identifier
        from ({{ identifier_graph_pairs_sql(edges_relation, src_column, dst_column) }}) as dst_side
    ),

    identifiers as (
        select
            identifier,
            {{ cdp.hash_bigint('identifier', hash_modulus) }} as node
        from distinct_identifiers
    )

    select
        identifiers.identifier,
        identifiers.node,
        components.component
    from identifiers
    inner join {{ components_relation }} as components on identifiers.node = components.node
{%- endmacro %}


{# Select up to five nodes that more than one identifier of a relation (identifier, node) shares. #}
{% macro identifier_collisions_sql(relation) -%}
    select
        node,
        min(identifier) as first_identifier,
        max(identifier) as last_identifier,
        count(*) as identifiers
    from {{ relation }}
    group by node
    having count(*) > 1
    order by node
    limit 5
{%- endmacro %}


{# Raise (and drop the relation) unless it holds exactly `nodes` rows, i.e. no two identifiers share a node. #}
{% macro assert_one_identifier_per_node(relation, nodes) %}
    {%- set rows = identity_count(relation) -%}
    {%- if rows != nodes -%}
        {%- set collisions = run_query(identifier_collisions_sql(relation)) -%}
        {%- set examples = [] -%}
        {%- for row in collisions.rows -%}
            {%- do examples.append(
                "'" ~ row[1] ~ "' and '" ~ row[2] ~ "' (" ~ row[3] ~ ' identifiers) -> node ' ~ row[0]
            ) -%}
        {%- endfor -%}
        {%- do identity_drop_tables([relation]) -%}
        {{ exceptions.raise_compiler_error(
            'hash_bigint collision: ' ~ (rows - nodes) ~ ' identifier(s) share a node with another one, '
            ~ 'so they would be merged into one person. ' ~ relation ~ ' was dropped. Examples: '
            ~ examples | join('; ')
        ) }}
    {%- endif -%}
{% endmacro %}
