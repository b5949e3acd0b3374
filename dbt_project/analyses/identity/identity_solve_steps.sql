-- sqlfluff:ignore_templated_areas:False
-- Every SQL step of the identity solve rendered once on placeholder relation names, so
-- that sqlfluff lints the SQL the identity_resolution materialization runs. Never run.
{% set limits = {'customer_id': 1} %}

{{ cdp.identity_graph_nodes_sql('solve_graph') }};

{{ cdp.identity_graph_links_sql('solve_graph') }};

{{ cdp.identity_typed_nodes_sql('solve_input_nodes') }};

{{ cdp.identity_undirected_edges_sql('solve_input_edges') }};

{{ cdp.identity_hubs_sql('solve_nodes', 'solve_edges', 3) }};

{{ cdp.identity_live_edges_sql('solve_nodes', 'solve_edges', 'solve_hubs') }};

{{ cdp.identity_singleton_clusters_sql('solve_nodes') }};

{{ cdp.identity_cluster_edges_sql('solve_live', 'solve_clusters', 1) }};

{{ cdp.identity_cluster_edges_sql('solve_live', 'solve_clusters', 3) }};

{{ cdp.identity_group_state_sql('solve_nodes', 'solve_clusters', 'solve_groups', limits) }};

{{ cdp.identity_free_edges_sql('solve_cluster_edges', 'solve_group_state') }};

{{ cdp.identity_free_anchor_sql('solve_cluster_edges', 'solve_free_sets', 'solve_group_state') }};

{{ cdp.identity_merged_clusters_sql(
    'solve_clusters', 'solve_group_state', 'solve_free_sets', 'solve_free_anchor'
) }};

{{ cdp.identity_founders_sql('solve_clusters', 'solve_nodes', 'solve_hubs') }};

{{ cdp.identity_live_pairs_sql('solve_edges', 'solve_hubs') }};

{{ cdp.identity_node_state_sql('solve_nodes', 'solve_hubs') }};

{{ cdp.identity_changed_nodes_sql(
    'solve_current_state', 'solve_state_nodes', 'solve_live', 'solve_state_edges'
) }};

{{ cdp.identity_affected_nodes_sql('solve_nodes', 'solve_changed', 'solve_previous') }};

{{ cdp.identity_part_nodes_sql('solve_nodes', 'solve_affected') }};

{{ cdp.identity_part_edges_sql('solve_edges', 'solve_affected') }};

{{ cdp.identity_part_component_edges_sql('solve_live', 'solve_affected') }};

{{ cdp.identity_incremental_labels_sql(
    'solve_part_labels', 'solve_part_components', 'solve_previous', 'solve_nodes', 'solve_affected'
) }};

{{ cdp.identity_solved_counts_sql('solve_affected', 'solve_nodes') }};

{{ cdp.cc_min_neighbour_sql('solve_edges') }};

{{ cdp.cc_pass_counts_sql('solve_contracted', 'solve_parents') }};

{{ cdp.cc_jump_sql('solve_parents') }};

{{ cdp.cc_contract_sql('solve_edges', 'solve_parents') }};

{{ cdp.cc_large_star_sql('solve_edges') }};

{{ cdp.cc_small_star_sql('solve_large') }};

{{ cdp.cc_changed_edges_sql('solve_small', 'solve_edges') }};

{{ cdp.cc_star_labels_sql('solve_edges') }};

{{ cdp.cc_compose_sql('solve_level') }};

{{ cdp.cc_compose_sql('solve_level', 'solve_later') }};

{{ cdp.identifier_graph_node_edges_sql('solve_text_edges', 'src_identifier', 'dst_identifier') }};

{{ cdp.identifier_graph_labels_sql(
    'solve_text_edges', 'solve_components', 'src_identifier', 'dst_identifier'
) }};

{{ cdp.identifier_collisions_sql('solve_identifiers') }}
