{# resolve_identity that re-solves only the live components a change touched, keeping the previous labels elsewhere; equal to a full solve (docs/identity.md). #}
{% macro resolve_identity_incremental(nodes_relation, edges_relation, output_relation, previous_relation, state_prefix, src_column='src', dst_column='dst', tier_column='tier', full_refresh=false) %}
    {#-
        After hubs are removed, resolve_identity acts on each connected component of the
        live graph on its own. So a run solves only the components that hold a changed
        identifier (new, gone, first seen earlier, hub status flipped) or an end of a
        changed live link (new, gone, other tier), whole: such a set is closed under
        the live links, and every other component is exactly as it was.

        previous_relation: the labels of the last run (node_id, person_node_id, is_hub,
        component_id), usually the calling model itself. State kept between runs:
        <state_prefix>_nodes (node_id, first_seen_at, is_hub) and <state_prefix>_edges
        (the live links). output_relation (created): node_id, person_node_id, is_hub,
        component_id.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nodes_relation = identity_relation(nodes_relation) -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set previous_relation = identity_relation(previous_relation) -%}
    {%- set state_nodes = identity_relation(state_prefix ~ '_nodes') -%}
    {%- set state_edges = identity_relation(state_prefix ~ '_edges') -%}
    {%- set prefix = output_relation.identifier ~ '__inc' -%}
    {%- set scratch = [] -%}

    {#- Existence by query on this connection: adapter.get_relation may fill dbt's
        relation cache on another connection, which drops run-operation's transaction. -#}
    {%- set has_state = identity_table_exists(state_nodes) and identity_table_exists(state_edges)
        and identity_table_exists(previous_relation) -%}

    {#- The current graph: typed nodes, undirected edges, global hubs, live edges. -#}
    {%- set nodes = identity_work_relation(prefix ~ '_nodes') -%}
    {%- do identity_create_table(nodes, identity_typed_nodes_sql(nodes_relation)) -%}
    {%- set edges = identity_work_relation(prefix ~ '_edges') -%}
    {%- do identity_create_table(edges, identity_undirected_edges_sql(edges_relation, src_column, dst_column, tier_column)) -%}
    {%- set hubs = identity_work_relation(prefix ~ '_hubs') -%}
    {%- do identity_create_table(hubs, identity_hubs_sql(nodes, edges, var('cdp_identity_hub_threshold'))) -%}
    {%- set live = identity_work_relation(prefix ~ '_live') -%}
    {%- do identity_create_table(live,
        'select src, dst, tier from ' ~ edges
        ~ ' where src not in (select node_id from ' ~ hubs ~ ') and dst not in (select node_id from ' ~ hubs ~ ')'
    ) -%}
    {%- set current_state = identity_work_relation(prefix ~ '_state') -%}
    {%- do identity_create_table(current_state,
        'select nodes.node_id, nodes.first_seen_at, nodes.node_id in (select node_id from ' ~ hubs ~ ') as is_hub'
        ~ ' from ' ~ nodes ~ ' as nodes'
    ) -%}
    {%- do scratch.extend([nodes, edges, live, current_state]) -%}

    {%- if full_refresh or not has_state -%}
        {#- Solve everything. -#}
        {%- set affected = identity_work_relation(prefix ~ '_affected') -%}
        {%- do identity_create_table(affected, 'select node_id from ' ~ nodes) -%}
        {%- set mode = 'full' -%}
    {%- else -%}
        {#- Changed identifiers, and the ends of changed live links. -#}
        {%- set changed = identity_work_relation(prefix ~ '_changed') -%}
        {%- do identity_create_table(changed,
            'select coalesce(now_state.node_id, then_state.node_id) as node_id'
            ~ ' from ' ~ current_state ~ ' as now_state'
            ~ ' full outer join ' ~ state_nodes ~ ' as then_state on now_state.node_id = then_state.node_id'
            ~ ' where now_state.node_id is null or then_state.node_id is null'
            ~ ' or now_state.first_seen_at is distinct from then_state.first_seen_at'
            ~ ' or now_state.is_hub <> then_state.is_hub'
            ~ ' union select coalesce(now_edges.src, then_edges.src) from ' ~ live ~ ' as now_edges'
            ~ ' full outer join ' ~ state_edges ~ ' as then_edges'
            ~ ' on now_edges.src = then_edges.src and now_edges.dst = then_edges.dst'
            ~ ' where now_edges.src is null or then_edges.src is null or now_edges.tier <> then_edges.tier'
            ~ ' union select coalesce(now_edges.dst, then_edges.dst) from ' ~ live ~ ' as now_edges'
            ~ ' full outer join ' ~ state_edges ~ ' as then_edges'
            ~ ' on now_edges.src = then_edges.src and now_edges.dst = then_edges.dst'
            ~ ' where now_edges.src is null or then_edges.src is null or now_edges.tier <> then_edges.tier'
        ) -%}
        {#- Their whole previous components, restricted to identifiers that still exist. -#}
        {%- set affected = identity_work_relation(prefix ~ '_affected') -%}
        {%- do identity_create_table(affected,
            'select node_id from ' ~ nodes ~ ' where node_id in (select node_id from ' ~ changed ~ ')'
            ~ ' or node_id in (select previous.node_id from ' ~ previous_relation ~ ' as previous'
            ~ ' where previous.component_id in (select touched.component_id from ' ~ previous_relation ~ ' as touched'
            ~ ' where touched.node_id in (select node_id from ' ~ changed ~ ')))'
        ) -%}
        {%- do scratch.append(changed) -%}
        {%- set mode = 'incremental' -%}
    {%- endif -%}
    {%- do scratch.append(affected) -%}

    {#- Solve the affected part (closed under live links) with the global hubs. -#}
    {%- set part_nodes = identity_work_relation(prefix ~ '_part_nodes') -%}
    {%- do identity_create_table(part_nodes,
        'select node_id, identifier_type, identifier_value, first_seen_at from ' ~ nodes
        ~ ' where node_id in (select node_id from ' ~ affected ~ ')'
    ) -%}
    {%- set part_edges = identity_work_relation(prefix ~ '_part_edges') -%}
    {%- do identity_create_table(part_edges,
        'select src, dst, tier from ' ~ edges
        ~ ' where src in (select node_id from ' ~ affected ~ ') and dst in (select node_id from ' ~ affected ~ ')'
    ) -%}
    {%- set part_labels = identity_work_relation(prefix ~ '_part_labels') -%}
    {%- do resolve_identity(part_nodes, part_edges, part_labels, hubs_relation=hubs) -%}
    {%- set part_components_input = identity_work_relation(prefix ~ '_part_cc_input') -%}
    {%- do identity_create_table(part_components_input,
        'select src, dst from ' ~ live ~ ' where src in (select node_id from ' ~ affected ~ ')'
        ~ ' union all select node_id as src, node_id as dst from ' ~ affected
    ) -%}
    {%- set part_components = identity_work_relation(prefix ~ '_part_components') -%}
    {%- do connected_components(part_components_input, part_components) -%}
    {%- do scratch.extend([part_nodes, part_edges, part_labels, part_components_input, part_components]) -%}

    {#- The new labels: the solved part, and the previous labels everywhere else. -#}
    {%- set kept_sql = '' -%}
    {%- if mode == 'incremental' -%}
        {%- set kept_sql = ' union all select previous.node_id, previous.person_node_id, previous.is_hub, previous.component_id'
            ~ ' from ' ~ previous_relation ~ ' as previous'
            ~ ' where previous.node_id in (select node_id from ' ~ nodes ~ ')'
            ~ ' and previous.node_id not in (select node_id from ' ~ affected ~ ')' -%}
    {%- endif -%}
    {%- do identity_create_table(output_relation,
        'select labels.node_id, labels.person_node_id, labels.is_hub, components.component as component_id'
        ~ ' from ' ~ part_labels ~ ' as labels'
        ~ ' inner join ' ~ part_components ~ ' as components on labels.node_id = components.node'
        ~ kept_sql
    ) -%}

    {#- Remember this run's inputs for the next one. -#}
    {%- do identity_create_table(state_nodes, 'select * from ' ~ current_state) -%}
    {%- do identity_create_table(state_edges, 'select * from ' ~ live) -%}
    {%- set solved = identity_count(affected) -%}
    {%- set total = identity_count(nodes) -%}
    {%- do identity_drop_tables(scratch) -%}
    {%- do log('resolve_identity_incremental: ' ~ mode ~ ' run, re-solved ' ~ solved ~ ' of ' ~ total ~ ' identifiers', info=True) -%}
    {{ return({'mode': mode, 'solved': solved, 'total': total}) }}
{% endmacro %}


{# True when a table exists, asked on the current connection (information_schema). #}
{% macro identity_table_exists(relation) %}
    {{ return(adapter.dispatch('identity_table_exists', 'cdp')(relation)) }}
{% endmacro %}

{% macro spark__identity_table_exists(relation) %}
    {#- Spark's session catalog has no information_schema. -#}
    {%- set found = run_query("show tables in " ~ relation.schema ~ " like '" ~ relation.identifier ~ "'") -%}
    {{ return(found.rows | length > 0) }}
{% endmacro %}

{% macro default__identity_table_exists(relation) %}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_schema = '" ~ relation.schema
        ~ "' and table_name = '" ~ relation.identifier ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0] | int > 0) }}
{% endmacro %}
