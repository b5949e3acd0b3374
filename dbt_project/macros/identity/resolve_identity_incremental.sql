{# resolve_identity that re-solves only the live components a change touched, keeping the previous labels elsewhere; equal to a full solve (docs/identity.md). #}
{% macro resolve_identity_incremental(nodes_relation, edges_relation, output_relation, previous_relation, state_prefix, src_column='src', dst_column='dst', tier_column='tier', full_refresh=false) %}
    {#-
        After hubs are removed, resolve_identity acts on each connected component of the
        live graph on its own. So a run solves only the components that hold a changed
        identifier (new, gone, first seen earlier, hub status flipped) or an end of a
        changed live link (new, gone, other tier), whole: such a set is closed under
        the live links, and every other component is exactly as it was.

        previous_relation: the labels of the last run (node_id, person_node_id, is_hub,
        component_id), usually the calling model itself; none on a first run. State kept
        between runs, beside state_prefix (a relation or 'schema.name'):
        <state_prefix>__nodes (node_id, first_seen_at, is_hub) and <state_prefix>__edges
        (the live links). output_relation (created): node_id, person_node_id, is_hub,
        component_id.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nodes_relation = identity_relation(nodes_relation) -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set state_prefix = identity_relation(state_prefix) -%}
    {%- set state_nodes = identity_scratch_relation(state_prefix, 'nodes') -%}
    {%- set state_edges = identity_scratch_relation(state_prefix, 'edges') -%}
    {%- set scratch = [] -%}

    {%- set has_state = previous_relation is not none
        and identity_table_exists(identity_relation(previous_relation))
        and identity_table_exists(state_nodes) and identity_table_exists(state_edges) -%}

    {#- The current graph: typed nodes, undirected edges, global hubs, live edges. -#}
    {%- set nodes = identity_scratch_relation(output_relation, 'inc_nodes') -%}
    {%- do identity_create_table(nodes, identity_typed_nodes_sql(nodes_relation)) -%}
    {%- set edges = identity_scratch_relation(output_relation, 'inc_edges') -%}
    {%- do identity_create_table(edges, identity_undirected_edges_sql(edges_relation, src_column, dst_column, tier_column)) -%}
    {%- set hubs = identity_scratch_relation(output_relation, 'inc_hubs') -%}
    {%- do identity_create_table(hubs, identity_hubs_sql(nodes, edges, var('cdp_identity_hub_threshold'))) -%}
    {%- set live = identity_scratch_relation(output_relation, 'inc_live') -%}
    {%- do identity_create_table(live, identity_live_pairs_sql(edges, hubs)) -%}
    {%- set current_state = identity_scratch_relation(output_relation, 'inc_state') -%}
    {%- do identity_create_table(current_state, identity_node_state_sql(nodes, hubs)) -%}
    {%- do scratch.extend([nodes, edges, hubs, live, current_state]) -%}

    {%- set affected = identity_scratch_relation(output_relation, 'inc_affected') -%}
    {%- if full_refresh or not has_state -%}
        {%- set previous_relation = none -%}
        {%- do identity_create_table(affected, identity_node_ids_sql(nodes)) -%}
        {%- set mode = 'full' -%}
    {%- else -%}
        {%- set previous_relation = identity_relation(previous_relation) -%}
        {%- set changed = identity_scratch_relation(output_relation, 'inc_changed') -%}
        {%- do identity_create_table(changed, identity_changed_nodes_sql(current_state, state_nodes, live, state_edges)) -%}
        {%- do identity_create_table(affected, identity_affected_nodes_sql(nodes, changed, previous_relation)) -%}
        {%- do scratch.append(changed) -%}
        {%- set mode = 'incremental' -%}
    {%- endif -%}
    {%- do scratch.append(affected) -%}

    {#- Solve the affected part (closed under live links) with the global hubs. -#}
    {%- set part_nodes = identity_scratch_relation(output_relation, 'inc_part_nodes') -%}
    {%- do identity_create_table(part_nodes, identity_part_nodes_sql(nodes, affected)) -%}
    {%- set part_edges = identity_scratch_relation(output_relation, 'inc_part_edges') -%}
    {%- do identity_create_table(part_edges, identity_part_edges_sql(edges, affected)) -%}
    {%- set part_labels = identity_scratch_relation(output_relation, 'inc_part_labels') -%}
    {%- do resolve_identity(part_nodes, part_edges, part_labels, hubs_relation=hubs) -%}
    {%- set part_components_input = identity_scratch_relation(output_relation, 'inc_part_cc_input') -%}
    {%- do identity_create_table(part_components_input, identity_part_component_edges_sql(live, affected)) -%}
    {%- set part_components = identity_scratch_relation(output_relation, 'inc_part_components') -%}
    {%- do connected_components(part_components_input, part_components) -%}
    {%- do scratch.extend([part_nodes, part_edges, part_labels, part_components_input, part_components]) -%}

    {#- The new labels: the solved part, and the previous labels everywhere else. -#}
    {%- do identity_create_table(output_relation,
        identity_incremental_labels_sql(part_labels, part_components, previous_relation, nodes, affected)) -%}

    {#- Remember this run's inputs for the next one; count the work in one statement. -#}
    {%- do identity_create_table(state_nodes, identity_select_all_sql(current_state)) -%}
    {%- do identity_create_table(state_edges, identity_select_all_sql(live)) -%}
    {%- set counts = identity_counts(identity_solved_counts_sql(affected, nodes)) -%}
    {%- do identity_drop_tables(scratch) -%}
    {#- Commit the solve and the state: adapter.get_relation opened a transaction that
        run-operation would otherwise roll back (a materialization's commit follows). -#}
    {%- do identity_commit() -%}
    {%- do log('resolve_identity_incremental: ' ~ mode ~ ' run, re-solved ' ~ counts[0] ~ ' of ' ~ counts[1] ~ ' identifiers', info=True) -%}
    {{ return({'mode': mode, 'solved': counts[0], 'total': counts[1]}) }}
{% endmacro %}


{# Select every column of a relation. #}
{% macro identity_select_all_sql(relation) -%}
    select * from {{ relation }}
{%- endmacro %}


{# Select the live links (src, dst, tier): edges with no hub end. #}
{% macro identity_live_pairs_sql(edges, hubs) -%}
    select
        src,
        dst,
        tier
    from {{ edges }}
    where
        src not in (select hubs.node_id from {{ hubs }} as hubs)
        and dst not in (select hubs.node_id from {{ hubs }} as hubs)
{%- endmacro %}


{# Select what a run remembers of each identifier: node_id, first_seen_at, is_hub. #}
{% macro identity_node_state_sql(nodes, hubs) -%}
    select
        nodes.node_id,
        nodes.first_seen_at,
        nodes.node_id in (select hubs.node_id from {{ hubs }} as hubs) as is_hub
    from {{ nodes }} as nodes
{%- endmacro %}


{# Select the changed identifiers: new, gone, first seen at another time, hub status flipped, or an end of a changed live link. #}
{% macro identity_changed_nodes_sql(current_state, state_nodes, live, state_edges) -%}
    with

    node_changes as (
        select coalesce(now_state.node_id, then_state.node_id) as node_id
        from {{ current_state }} as now_state
        full outer join {{ state_nodes }} as then_state on now_state.node_id = then_state.node_id
        where
            now_state.node_id is null
            or then_state.node_id is null
            or now_state.first_seen_at is distinct from then_state.first_seen_at
            or now_state.is_hub <> then_state.is_hub
    ),

    edge_changes as (
        select
            coalesce(now_edges.src, then_edges.src) as src,
            coalesce(now_edges.dst, then_edges.dst) as dst
        from {{ live }} as now_edges
        full outer join {{ state_edges }} as then_edges
            on now_edges.src = then_edges.src and now_edges.dst = then_edges.dst
        where
            now_edges.src is null
            or then_edges.src is null
            or now_edges.tier <> then_edges.tier
    )

    select node_id from node_changes
    union
    select src as node_id from edge_changes
    union
    select dst as node_id from edge_changes
{%- endmacro %}


{# Select the identifiers to solve again: the changed ones and every identifier of a previous component holding one. #}
{% macro identity_affected_nodes_sql(nodes, changed, previous) -%}
    select nodes.node_id
    from {{ nodes }} as nodes
    where
        nodes.node_id in (select changed.node_id from {{ changed }} as changed)
        or nodes.node_id in (
            select previous.node_id
            from {{ previous }} as previous
            where previous.component_id in (
                select touched.component_id
                from {{ previous }} as touched
                where touched.node_id in (select changed.node_id from {{ changed }} as changed)
            )
        )
{%- endmacro %}


{# Select the nodes (node_id, identifier_type, identifier_value, first_seen_at) of the affected part. #}
{% macro identity_part_nodes_sql(nodes, affected) -%}
    select
        nodes.node_id,
        nodes.identifier_type,
        nodes.identifier_value,
        nodes.first_seen_at
    from {{ nodes }} as nodes
    where nodes.node_id in (select affected.node_id from {{ affected }} as affected)
{%- endmacro %}


{# Select the edges (src, dst, tier) with both ends in the affected part. #}
{% macro identity_part_edges_sql(edges, affected) -%}
    select
        edges.src,
        edges.dst,
        edges.tier
    from {{ edges }} as edges
    where
        edges.src in (select affected.node_id from {{ affected }} as affected)
        and edges.dst in (select affected.node_id from {{ affected }} as affected)
{%- endmacro %}


{# Select the live-graph input of the affected part's components: its live links and a self-loop per identifier. #}
{% macro identity_part_component_edges_sql(live, affected) -%}
    select
        live.src,
        live.dst
    from {{ live }} as live
    where live.src in (select affected.node_id from {{ affected }} as affected)
    union all
    select
        affected.node_id as src,
        affected.node_id as dst
    from {{ affected }} as affected
{%- endmacro %}


{# Select the new labels: the solved part with its components, and (incremental) the previous labels of every other identifier. #}
{% macro identity_incremental_labels_sql(part_labels, part_components, previous, nodes, affected) -%}
    select
        labels.node_id,
        labels.person_node_id,
        labels.is_hub,
        components.component as component_id
    from {{ part_labels }} as labels
    inner join {{ part_components }} as components on labels.node_id = components.node
    {%- if previous is not none %}
    union all
    select
        previous.node_id,
        previous.person_node_id,
        previous.is_hub,
        previous.component_id
    from {{ previous }} as previous
    where
        previous.node_id in (select nodes.node_id from {{ nodes }} as nodes)
        and previous.node_id not in (select affected.node_id from {{ affected }} as affected)
    {%- endif %}
{%- endmacro %}


{# Select (solved, total): the identifiers solved again and all identifiers, as one row. #}
{% macro identity_solved_counts_sql(affected, nodes) -%}
    select
        (select count(*) from {{ affected }}) as solved,
        (select count(*) from {{ nodes }}) as total
{%- endmacro %}
