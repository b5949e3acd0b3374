{# Materialization: the model's SQL is an identity graph (node rows and link rows); the table is its resolution (node_id, person_node_id, is_hub[, component_id]). #}
{% materialization identity_resolution, default %}
    {#-
        identity_resolution(): config
          identity_incremental (default true): re-solve only the live components a change
            touched (resolve_identity_incremental, state in <this>__state__nodes/edges);
            false: solve the whole graph every run (resolve_identity).
        The model selects node_id, identifier_type, identifier_value, first_seen_at,
        linked_node_id, tier: a node row has linked_node_id null; a link row has the node
        ids of its two ends in node_id and linked_node_id, and its tier.
        Every scratch table is created beside the model (same database and schema,
        named <this>__*), read qualified and dropped; the model's table is replaced at
        the end, so downstream models never see a half-solved graph.
    -#}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = adapter.get_relation(
        database=this.database, schema=this.schema, identifier=this.identifier
    ) -%}
    {%- set graph = identity_scratch_relation(target_relation, 'graph') -%}
    {%- set nodes = identity_scratch_relation(target_relation, 'nodes') -%}
    {%- set edges = identity_scratch_relation(target_relation, 'edges') -%}
    {%- set solved = identity_scratch_relation(target_relation, 'solved') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- do identity_create_table(graph, sql) -%}
    {%- do identity_create_table(nodes, identity_graph_nodes_sql(graph)) -%}
    {%- do identity_create_table(edges, identity_graph_links_sql(graph)) -%}
    {%- if config.get('identity_incremental', true) -%}
        {%- do resolve_identity_incremental(
            nodes, edges, solved,
            previous_relation=existing_relation,
            state_prefix=identity_scratch_relation(target_relation, 'state'),
            full_refresh=should_full_refresh()
        ) -%}
    {%- else -%}
        {%- do resolve_identity(nodes, edges, solved) -%}
    {%- endif -%}

    {#- The statement dbt reports for the model; then the solved table takes the model's name. -#}
    {% call statement('main') -%}
        {{ identity_select_all_sql(solved) }} limit 0
    {%- endcall %}
    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(solved, target_relation) -%}
    {%- do identity_drop_tables([graph, nodes, edges]) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- do persist_docs(target_relation, model) -%}
    {%- do identity_commit() -%}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{# Select the node rows of an identity graph (node_id, identifier_type, identifier_value, first_seen_at). #}
{% macro identity_graph_nodes_sql(graph) -%}
    select
        node_id,
        identifier_type,
        identifier_value,
        first_seen_at
    from {{ graph }}
    where linked_node_id is null
{%- endmacro %}


{# Select the link rows of an identity graph as edges (src, dst, tier). #}
{% macro identity_graph_links_sql(graph) -%}
    select
        node_id as src,
        linked_node_id as dst,
        tier
    from {{ graph }}
    where linked_node_id is not null
{%- endmacro %}
