{# Resolve identifiers into persons with the over-merge guards (hubs, per-type limits, strong evidence first); the rules of cdp_dev/reference.py. #}
{% macro resolve_identity(nodes_relation, edges_relation, output_relation, limits=none, hub_threshold=none, src_column='src', dst_column='dst', tier_column='tier', hubs_relation=none) %}
    {#-
        nodes_relation: node_id bigint, identifier_type, identifier_value, first_seen_at
        edges_relation: src bigint, dst bigint, tier int (1: a record asserts the pair,
                        2: the pair co-occurs; only read between two strong identifiers);
                        other column names through src_column, dst_column, tier_column
        output_relation (created): node_id, person_node_id (the founder's node_id), is_hub
        Scratch tables live beside output_relation (`<output>__ri_*`) and are dropped.

        Steps (docs/identity.md): hubs -> identifiers merged tier by tier within the
        limits (strong record pairs, strong co-occurrences, then weak links) -> founders.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set limits = limits if limits is not none else var('cdp_identity_limits') -%}
    {%- set hub_threshold = hub_threshold if hub_threshold is not none else var('cdp_identity_hub_threshold') -%}
    {%- set nodes_relation = identity_relation(nodes_relation) -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set started_at = modules.datetime.datetime.now() -%}
    {%- set scratch = [] -%}

    {#- 0. Typed nodes and undirected, de-duplicated edges (the strongest tier per pair). -#}
    {%- set nodes = identity_scratch_relation(output_relation, 'ri_nodes') -%}
    {%- do identity_create_table(nodes, identity_typed_nodes_sql(nodes_relation)) -%}
    {%- set edges = identity_scratch_relation(output_relation, 'ri_edges') -%}
    {%- do identity_create_table(edges, identity_undirected_edges_sql(edges_relation, src_column, dst_column, tier_column)) -%}
    {%- do scratch.extend([nodes, edges]) -%}

    {#- 1. Hubs: a shareable identifier linked to more than hub_threshold identifiers of one
        strong type. Given by the caller when solving part of a graph (hub status is global). -#}
    {%- set hubs = identity_scratch_relation(output_relation, 'ri_hubs') -%}
    {%- if hubs_relation is none -%}
        {%- do identity_create_table(hubs, identity_hubs_sql(nodes, edges, hub_threshold)) -%}
    {%- else -%}
        {%- do identity_create_table(hubs, identity_node_ids_sql(identity_relation(hubs_relation))) -%}
    {%- endif -%}
    {%- do scratch.append(hubs) -%}

    {#- 2. Live edges (no hub end), classified by the strength of their ends. -#}
    {%- set live = identity_scratch_relation(output_relation, 'ri_live') -%}
    {%- do identity_create_table(live, identity_live_edges_sql(nodes, edges, hubs)) -%}
    {%- do scratch.append(live) -%}

    {#- 3. Tiers within the limits: strong pairs asserted by a record (1), strong pairs that
        co-occur (2), then every link with a weak end (3): weak evidence decides last. -#}
    {%- set clusters = identity_scratch_relation(output_relation, 'ri_clusters_0') -%}
    {%- do identity_create_table(clusters, identity_singleton_clusters_sql(nodes)) -%}
    {%- do scratch.append(clusters) -%}
    {#- A namespace: a plain `set` inside a for loop does not outlive the loop in Jinja. -#}
    {%- set state = namespace(clusters=clusters) -%}
    {%- for tier in [1, 2, 3] -%}
        {%- set state.clusters = identity_merge_tier(
            nodes, live, state.clusters, tier,
            identity_scratch_relation(output_relation, 'ri_t' ~ tier), limits, scratch
        ) -%}
    {%- endfor -%}

    {#- 4. Persons are named after their founder: seen first, then strong types, then the value. -#}
    {%- do identity_create_table(output_relation, identity_founders_sql(state.clusters, nodes, hubs)) -%}
    {%- do identity_drop_tables(scratch) -%}
    {%- set seconds = (modules.datetime.datetime.now() - started_at).total_seconds() -%}
    {%- do log('resolve_identity: ' ~ output_relation ~ ' resolved in ' ~ '%.2f' | format(seconds) ~ ' s', info=True) -%}
    {{ return({'seconds': seconds}) }}
{% endmacro %}


{# One tier: merge the clusters its edges connect when the group respects the limits; otherwise only unlimited clusters join their single limited neighbour. Returns the new clusters relation. #}
{% macro identity_merge_tier(nodes, live, clusters, tier, prefix_relation, limits, scratch) %}
    {%- set cluster_edges = identity_scratch_relation(prefix_relation, 'cluster_edges') -%}
    {%- do identity_create_table(cluster_edges, identity_cluster_edges_sql(live, clusters, tier)) -%}
    {%- do scratch.append(cluster_edges) -%}
    {%- if identity_count(cluster_edges) == 0 -%}
        {{ return(clusters) }}
    {%- endif -%}
    {%- set groups = identity_scratch_relation(prefix_relation, 'groups') -%}
    {%- do connected_components(cluster_edges, groups) -%}

    {#- Limited identifiers per cluster and per group; a group over a limit is "violating". -#}
    {%- set group_state = identity_scratch_relation(prefix_relation, 'group_state') -%}
    {%- do identity_create_table(group_state, identity_group_state_sql(nodes, clusters, groups, limits)) -%}
    {%- do scratch.extend([groups, group_state]) -%}

    {#- In violating groups: connected sets of unanchored clusters, and their anchored neighbours. -#}
    {%- set free_edges = identity_scratch_relation(prefix_relation, 'free_edges') -%}
    {%- do identity_create_table(free_edges, identity_free_edges_sql(cluster_edges, group_state)) -%}
    {%- set free_sets = identity_scratch_relation(prefix_relation, 'free_sets') -%}
    {%- do connected_components(free_edges, free_sets) -%}
    {%- set free_anchor = identity_scratch_relation(prefix_relation, 'free_anchor') -%}
    {%- do identity_create_table(free_anchor, identity_free_anchor_sql(cluster_edges, free_sets, group_state)) -%}
    {%- do scratch.extend([free_edges, free_sets, free_anchor]) -%}

    {#- The new cluster of every identifier. -#}
    {%- set merged = identity_scratch_relation(prefix_relation, 'clusters') -%}
    {%- do identity_create_table(merged, identity_merged_clusters_sql(clusters, group_state, free_sets, free_anchor)) -%}
    {%- do scratch.append(merged) -%}
    {{ return(merged) }}
{% endmacro %}


{# Identifier types that identify a person on their own. #}
{% macro identity_strong_types() %}{{ return(['customer_id', 'contact_id', 'email', 'phone']) }}{% endmacro %}

{# Identifier types several people can share (subject to the hub guard). #}
{% macro identity_shareable_types() %}{{ return(['email', 'phone', 'anonymous_id', 'device_id']) }}{% endmacro %}

{# SQL: is the type expression one of the given types. #}
{% macro identity_type_in(expression, types) -%}
    ({{ expression }} in ('{{ types | join("', '") }}'))
{%- endmacro %}

{# SQL: the founder tie-break rank of an identifier type (customer_id first, device_id last). #}
{% macro identity_type_priority(expression) -%}
    case {{ expression }}
        {%- for identifier_type in ['customer_id', 'contact_id', 'email', 'phone', 'anonymous_id', 'device_id'] %}
        when '{{ identifier_type }}' then {{ loop.index0 }}
        {%- endfor %}
        else 9
    end
{%- endmacro %}


{# Select the node ids of a relation. #}
{% macro identity_node_ids_sql(relation) -%}
    select node_id from {{ relation }}
{%- endmacro %}


{# Select typed nodes (is_strong, is_shareable, type_priority) from a nodes relation. #}
{% macro identity_typed_nodes_sql(nodes_relation) -%}
    select
        node_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        {{ identity_type_in('identifier_type', identity_strong_types()) }} as is_strong,
        {{ identity_type_in('identifier_type', identity_shareable_types()) }} as is_shareable,
        {{ identity_type_priority('identifier_type') }} as type_priority
    from {{ nodes_relation }}
{%- endmacro %}


{# Select an edge relation as undirected (src < dst) pairs at their strongest tier, without self-loops. #}
{% macro identity_undirected_edges_sql(edges_relation, src_column='src', dst_column='dst', tier_column='tier') -%}
    select
        least({{ src_column }}, {{ dst_column }}) as src,
        greatest({{ src_column }}, {{ dst_column }}) as dst,
        min({{ tier_column }}) as tier
    from {{ edges_relation }}
    where {{ src_column }} <> {{ dst_column }}
    group by least({{ src_column }}, {{ dst_column }}), greatest({{ src_column }}, {{ dst_column }})
{%- endmacro %}


{# Select the hubs (node_id) of a graph: shareable identifiers linked to more than `threshold` identifiers of one strong type. #}
{% macro identity_hubs_sql(nodes, edges, threshold) -%}
    with

    directed as (
        select
            src as node_id,
            dst as neighbour_id
        from {{ edges }}
        union all
        select
            dst as node_id,
            src as neighbour_id
        from {{ edges }}
    ),

    per_type as (
        select
            directed.node_id,
            neighbour.identifier_type,
            count(distinct directed.neighbour_id) as linked
        from directed
        inner join {{ nodes }} as neighbour on directed.neighbour_id = neighbour.node_id
        where neighbour.is_strong
        group by directed.node_id, neighbour.identifier_type
    )

    select
        per_type.node_id,
        max(per_type.linked) as max_linked_per_type
    from per_type
    inner join {{ nodes }} as node on per_type.node_id = node.node_id
    where node.is_shareable
    group by per_type.node_id
    having max(per_type.linked) > {{ threshold }}
{%- endmacro %}


{# Select the live edges (no hub end) with the kind of their ends: strong, weak_strong or weak_weak. #}
{% macro identity_live_edges_sql(nodes, edges, hubs) -%}
    select
        edges.src,
        edges.dst,
        edges.tier,
        case
            when src_node.is_strong and dst_node.is_strong then 'strong'
            when src_node.is_strong or dst_node.is_strong then 'weak_strong'
            else 'weak_weak'
        end as kind
    from {{ edges }} as edges
    inner join {{ nodes }} as src_node on edges.src = src_node.node_id
    inner join {{ nodes }} as dst_node on edges.dst = dst_node.node_id
    where
        edges.src not in (select hubs.node_id from {{ hubs }} as hubs)
        and edges.dst not in (select hubs.node_id from {{ hubs }} as hubs)
{%- endmacro %}


{# Select every node as its own cluster (before tier 1). #}
{% macro identity_singleton_clusters_sql(nodes) -%}
    select
        node_id,
        node_id as cluster_id
    from {{ nodes }}
{%- endmacro %}


{# SQL: the live edges a tier applies (1: strong, asserted; 2: strong, co-occurring; 3: a weak end). #}
{% macro identity_tier_filter(live_alias, tier) -%}
    {%- if tier == 1 -%}
        {{ live_alias }}.kind = 'strong' and {{ live_alias }}.tier = 1
    {%- elif tier == 2 -%}
        {{ live_alias }}.kind = 'strong' and {{ live_alias }}.tier = 2
    {%- else -%}
        {{ live_alias }}.kind <> 'strong'
    {%- endif -%}
{%- endmacro %}


{# Select the edges a tier adds between different clusters, each once as (smaller, larger). #}
{% macro identity_cluster_edges_sql(live, clusters, tier) -%}
    select distinct
        least(src_cluster.cluster_id, dst_cluster.cluster_id) as src,
        greatest(src_cluster.cluster_id, dst_cluster.cluster_id) as dst
    from {{ live }} as live
    inner join {{ clusters }} as src_cluster on live.src = src_cluster.node_id
    inner join {{ clusters }} as dst_cluster on live.dst = dst_cluster.node_id
    where
        ({{ identity_tier_filter('live', tier) }})
        and src_cluster.cluster_id <> dst_cluster.cluster_id
{%- endmacro %}


{# Select each cluster a tier touches with its group, whether it holds a limited identifier and whether its group breaks a limit. #}
{% macro identity_group_state_sql(nodes, clusters, groups, limits) -%}
    with

    per_cluster as (
        select
            clusters.cluster_id
            {%- for identifier_type in limits %},
            count(case when nodes.identifier_type = '{{ identifier_type }}' then 1 end) as n_{{ identifier_type }}
            {%- endfor %}
        from {{ clusters }} as clusters
        inner join {{ nodes }} as nodes on clusters.node_id = nodes.node_id
        where clusters.cluster_id in (select cluster_groups.node from {{ groups }} as cluster_groups)
        group by clusters.cluster_id
    ),

    with_group as (
        select
            per_cluster.*,
            cluster_groups.component as group_id,
            {% for identifier_type in limits -%}
            per_cluster.n_{{ identifier_type }} > 0 or
            {% endfor -%}
            false as is_anchored
        from per_cluster
        inner join {{ groups }} as cluster_groups on per_cluster.cluster_id = cluster_groups.node
    ),

    violating as (
        select group_id
        from with_group
        group by group_id
        having
            {% for identifier_type, limit in limits.items() -%}
            sum(n_{{ identifier_type }}) > {{ limit }} or
            {% endfor -%}
            false
    )

    select
        cluster_id,
        group_id,
        is_anchored,
        group_id in (select violating.group_id from violating) as is_violating
    from with_group
{%- endmacro %}


{# Select the edges between unanchored clusters of violating groups, each such cluster also as a self-loop. #}
{% macro identity_free_edges_sql(cluster_edges, group_state) -%}
    select
        cluster_edges.src,
        cluster_edges.dst
    from {{ cluster_edges }} as cluster_edges
    inner join {{ group_state }} as src_state on cluster_edges.src = src_state.cluster_id
    inner join {{ group_state }} as dst_state on cluster_edges.dst = dst_state.cluster_id
    where src_state.is_violating and not src_state.is_anchored and not dst_state.is_anchored
    union all
    select
        cluster_id as src,
        cluster_id as dst
    from {{ group_state }}
    where is_violating and not is_anchored
{%- endmacro %}


{# Select each free set with the number of anchored clusters it touches and the smallest of them. #}
{% macro identity_free_anchor_sql(cluster_edges, free_sets, group_state) -%}
    with

    touching as (
        select
            free_sets.component,
            anchor.cluster_id as anchor_id
        from {{ cluster_edges }} as cluster_edges
        inner join {{ free_sets }} as free_sets on cluster_edges.src = free_sets.node
        inner join {{ group_state }} as anchor
            on cluster_edges.dst = anchor.cluster_id and anchor.is_anchored
        union all
        select
            free_sets.component,
            anchor.cluster_id as anchor_id
        from {{ cluster_edges }} as cluster_edges
        inner join {{ free_sets }} as free_sets on cluster_edges.dst = free_sets.node
        inner join {{ group_state }} as anchor
            on cluster_edges.src = anchor.cluster_id and anchor.is_anchored
    )

    select
        component,
        count(distinct anchor_id) as anchors,
        min(anchor_id) as anchor_id
    from touching
    group by component
{%- endmacro %}


{# Select every node's cluster after a tier: the group when it is within the limits, else the rules for violating groups. #}
{% macro identity_merged_clusters_sql(clusters, group_state, free_sets, free_anchor) -%}
    with

    relabel as (
        select
            group_state.cluster_id,
            case
                when not group_state.is_violating then group_state.group_id
                when group_state.is_anchored then group_state.cluster_id
                when free_anchor.anchors = 1 then free_anchor.anchor_id
                else free_sets.component
            end as new_cluster_id
        from {{ group_state }} as group_state
        left join {{ free_sets }} as free_sets on group_state.cluster_id = free_sets.node
        left join {{ free_anchor }} as free_anchor on free_sets.component = free_anchor.component
    )

    select
        clusters.node_id,
        coalesce(relabel.new_cluster_id, clusters.cluster_id) as cluster_id
    from {{ clusters }} as clusters
    left join relabel on clusters.cluster_id = relabel.cluster_id
{%- endmacro %}


{# Select each node with its person's founder (seen first, then by type, value, node id) and whether it is a hub. #}
{% macro identity_founders_sql(clusters, nodes, hubs) -%}
    with

    ranked as (
        select
            clusters.node_id,
            clusters.cluster_id,
            row_number() over (
                partition by clusters.cluster_id
                order by
                    nodes.first_seen_at asc nulls last,
                    nodes.type_priority asc,
                    nodes.identifier_value asc,
                    nodes.node_id asc
            ) as founder_rank
        from {{ clusters }} as clusters
        inner join {{ nodes }} as nodes on clusters.node_id = nodes.node_id
    ),

    founders as (
        select
            cluster_id,
            node_id as person_node_id
        from ranked
        where founder_rank = 1
    )

    select
        ranked.node_id,
        founders.person_node_id,
        ranked.node_id in (select hubs.node_id from {{ hubs }} as hubs) as is_hub
    from ranked
    inner join founders on ranked.cluster_id = founders.cluster_id
{%- endmacro %}
