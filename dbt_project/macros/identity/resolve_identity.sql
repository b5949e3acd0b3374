{# Resolve identifiers into persons with the over-merge guards (hubs, per-type limits, strong evidence first); the rules of cdp_dev/reference.py. #}
{% macro resolve_identity(nodes_relation, edges_relation, output_relation, limits=none, hub_threshold=none, src_column='src', dst_column='dst', tier_column='tier', hubs_relation=none) %}
    {#-
        nodes_relation: node_id bigint, identifier_type, identifier_value, first_seen_at
        edges_relation: src bigint, dst bigint, tier int (1: a record asserts the pair,
                        2: the pair co-occurs; only read between two strong identifiers);
                        other column names through src_column, dst_column, tier_column
        output_relation (created): node_id, person_node_id (the founder's node_id), is_hub

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
    {%- set prefix = output_relation.identifier ~ '__ri' -%}
    {%- set started_at = modules.datetime.datetime.now() -%}
    {%- set scratch = [] -%}

    {#- 0. Typed nodes and undirected, de-duplicated edges (the strongest tier per pair). -#}
    {%- set nodes = identity_work_relation(prefix ~ '_nodes') -%}
    {%- do identity_create_table(nodes, identity_typed_nodes_sql(nodes_relation)) -%}
    {%- set edges = identity_work_relation(prefix ~ '_edges') -%}
    {%- do identity_create_table(edges, identity_undirected_edges_sql(edges_relation, src_column, dst_column, tier_column)) -%}
    {%- do scratch.extend([nodes, edges]) -%}

    {#- 1. Hubs: a shareable identifier linked to more than hub_threshold identifiers of one
        strong type. Given by the caller when solving part of a graph (hub status is global). -#}
    {%- set hubs = identity_work_relation(prefix ~ '_hubs') -%}
    {%- if hubs_relation is none -%}
        {%- do identity_create_table(hubs, identity_hubs_sql(nodes, edges, hub_threshold)) -%}
    {%- else -%}
        {%- do identity_create_table(hubs, 'select node_id from ' ~ identity_relation(hubs_relation)) -%}
    {%- endif -%}
    {%- do scratch.append(hubs) -%}

    {#- 2. Live edges (no hub end), classified by the strength of their ends. -#}
    {%- set live = identity_work_relation(prefix ~ '_live') -%}
    {%- do identity_create_table(live,
        'select edges.src, edges.dst, edges.tier, case'
        ~ " when src_node.is_strong and dst_node.is_strong then 'strong'"
        ~ " when src_node.is_strong or dst_node.is_strong then 'weak_strong'"
        ~ " else 'weak_weak' end as kind"
        ~ ' from ' ~ edges ~ ' as edges'
        ~ ' inner join ' ~ nodes ~ ' as src_node on edges.src = src_node.node_id'
        ~ ' inner join ' ~ nodes ~ ' as dst_node on edges.dst = dst_node.node_id'
        ~ ' where edges.src not in (select node_id from ' ~ hubs ~ ')'
        ~ ' and edges.dst not in (select node_id from ' ~ hubs ~ ')'
    ) -%}
    {%- do scratch.append(live) -%}

    {#- 3. Tiers within the limits: strong pairs asserted by a record (1), strong pairs that
        co-occur (2), then every link with a weak end (3): weak evidence decides last. -#}
    {%- set clusters = identity_work_relation(prefix ~ '_clusters_0') -%}
    {%- do identity_create_table(clusters, 'select node_id, node_id as cluster_id from ' ~ nodes) -%}
    {%- do scratch.append(clusters) -%}
    {#- A namespace: a plain `set` inside a for loop does not outlive the loop in Jinja. -#}
    {%- set state = namespace(clusters=clusters) -%}
    {%- for tier, edge_filter in [
        (1, "live.kind = 'strong' and live.tier = 1"),
        (2, "live.kind = 'strong' and live.tier = 2"),
        (3, "live.kind <> 'strong'"),
    ] -%}
        {%- set state.clusters = identity_merge_tier(nodes, live, state.clusters, edge_filter, prefix ~ '_t' ~ tier, limits, scratch) -%}
    {%- endfor -%}

    {#- 5. Persons are named after their founder: seen first, then strong types, then the value. -#}
    {%- set labelled = state.clusters -%}
    {%- do identity_create_table(output_relation,
        'with ranked as (select labelled.node_id, labelled.cluster_id, row_number() over ('
        ~ ' partition by labelled.cluster_id order by nodes.first_seen_at nulls last,'
        ~ ' nodes.type_priority, nodes.identifier_value, nodes.node_id) as founder_rank'
        ~ ' from ' ~ labelled ~ ' as labelled'
        ~ ' inner join ' ~ nodes ~ ' as nodes on labelled.node_id = nodes.node_id),'
        ~ ' founders as (select cluster_id, node_id as person_node_id from ranked where founder_rank = 1)'
        ~ ' select ranked.node_id, founders.person_node_id,'
        ~ ' ranked.node_id in (select node_id from ' ~ hubs ~ ') as is_hub'
        ~ ' from ranked inner join founders on ranked.cluster_id = founders.cluster_id'
    ) -%}
    {%- do identity_drop_tables(scratch) -%}
    {%- set seconds = (modules.datetime.datetime.now() - started_at).total_seconds() -%}
    {%- do log('resolve_identity: ' ~ output_relation ~ ' resolved in ' ~ '%.2f' | format(seconds) ~ ' s', info=True) -%}
    {{ return({'seconds': seconds}) }}
{% endmacro %}


{# One tier: merge the clusters its edges connect when the group respects the limits; otherwise only unlimited clusters join their single limited neighbour. Returns the new clusters relation. #}
{% macro identity_merge_tier(nodes, live, clusters, edge_filter, prefix, limits, scratch) %}
    {%- set cluster_edges = identity_work_relation(prefix ~ '_cluster_edges') -%}
    {%- do identity_create_table(cluster_edges,
        'select distinct least(src_cluster.cluster_id, dst_cluster.cluster_id) as src,'
        ~ ' greatest(src_cluster.cluster_id, dst_cluster.cluster_id) as dst'
        ~ ' from ' ~ live ~ ' as live'
        ~ ' inner join ' ~ clusters ~ ' as src_cluster on live.src = src_cluster.node_id'
        ~ ' inner join ' ~ clusters ~ ' as dst_cluster on live.dst = dst_cluster.node_id'
        ~ ' where (' ~ edge_filter ~ ')'
        ~ ' and src_cluster.cluster_id <> dst_cluster.cluster_id'
    ) -%}
    {%- do scratch.append(cluster_edges) -%}
    {%- if identity_count(cluster_edges) == 0 -%}
        {{ return(clusters) }}
    {%- endif -%}
    {%- set groups = identity_work_relation(prefix ~ '_groups') -%}
    {%- do connected_components(cluster_edges, groups) -%}

    {#- Limited identifiers per cluster and per group; a group over a limit is "violating". -#}
    {%- set limit_columns = [] -%}
    {%- set over_limit = [] -%}
    {%- for identifier_type, limit in limits.items() -%}
        {%- do limit_columns.append(
            "count(case when nodes.identifier_type = '" ~ identifier_type ~ "' then 1 end) as n_" ~ identifier_type) -%}
        {%- do over_limit.append('sum(n_' ~ identifier_type ~ ') > ' ~ limit) -%}
    {%- endfor -%}
    {%- set anchored_test = [] -%}
    {%- for identifier_type in limits -%}
        {%- do anchored_test.append('n_' ~ identifier_type ~ ' > 0') -%}
    {%- endfor -%}
    {%- set group_state = identity_work_relation(prefix ~ '_group_state') -%}
    {%- do identity_create_table(group_state,
        'with per_cluster as (select clusters.cluster_id, ' ~ (limit_columns | join(', ') if limit_columns else '0 as n_none')
        ~ ' from ' ~ clusters ~ ' as clusters'
        ~ ' inner join ' ~ nodes ~ ' as nodes on clusters.node_id = nodes.node_id'
        ~ ' where clusters.cluster_id in (select node from ' ~ groups ~ ')'
        ~ ' group by clusters.cluster_id),'
        ~ ' with_group as (select per_cluster.*, groups.component as group_id,'
        ~ ' ' ~ (anchored_test | join(' or ') if anchored_test else 'false') ~ ' as is_anchored'
        ~ ' from per_cluster inner join ' ~ groups ~ ' as groups on per_cluster.cluster_id = groups.node),'
        ~ ' violating as (select group_id from with_group group by group_id'
        ~ (' having ' ~ over_limit | join(' or ') if over_limit else ' having false') ~ ')'
        ~ ' select cluster_id, group_id, is_anchored,'
        ~ ' group_id in (select group_id from violating) as is_violating from with_group'
    ) -%}
    {%- do scratch.extend([groups, group_state]) -%}

    {#- In violating groups: connected sets of unanchored clusters, and their anchored neighbours. -#}
    {%- set free_edges = identity_work_relation(prefix ~ '_free_edges') -%}
    {%- do identity_create_table(free_edges,
        'select cluster_edges.src, cluster_edges.dst from ' ~ cluster_edges ~ ' as cluster_edges'
        ~ ' inner join ' ~ group_state ~ ' as src_state on cluster_edges.src = src_state.cluster_id'
        ~ ' inner join ' ~ group_state ~ ' as dst_state on cluster_edges.dst = dst_state.cluster_id'
        ~ ' where src_state.is_violating and not src_state.is_anchored and not dst_state.is_anchored'
        ~ ' union all select cluster_id as src, cluster_id as dst from ' ~ group_state
        ~ ' where is_violating and not is_anchored'
    ) -%}
    {%- set free_sets = identity_work_relation(prefix ~ '_free_sets') -%}
    {%- do connected_components(free_edges, free_sets) -%}
    {%- set free_anchor = identity_work_relation(prefix ~ '_free_anchor') -%}
    {%- do identity_create_table(free_anchor,
        'with touching as ('
        ~ ' select free_sets.component, anchor.cluster_id as anchor_id'
        ~ ' from ' ~ cluster_edges ~ ' as cluster_edges'
        ~ ' inner join ' ~ free_sets ~ ' as free_sets on cluster_edges.src = free_sets.node'
        ~ ' inner join ' ~ group_state ~ ' as anchor on cluster_edges.dst = anchor.cluster_id and anchor.is_anchored'
        ~ ' union all select free_sets.component, anchor.cluster_id as anchor_id'
        ~ ' from ' ~ cluster_edges ~ ' as cluster_edges'
        ~ ' inner join ' ~ free_sets ~ ' as free_sets on cluster_edges.dst = free_sets.node'
        ~ ' inner join ' ~ group_state ~ ' as anchor on cluster_edges.src = anchor.cluster_id and anchor.is_anchored)'
        ~ ' select component, count(distinct anchor_id) as anchors, min(anchor_id) as anchor_id'
        ~ ' from touching group by component'
    ) -%}
    {%- do scratch.extend([free_edges, free_sets, free_anchor]) -%}

    {#- The new cluster of every strong identifier. -#}
    {%- set merged = identity_work_relation(prefix ~ '_clusters') -%}
    {%- do identity_create_table(merged,
        'with relabel as (select group_state.cluster_id, case'
        ~ ' when not group_state.is_violating then group_state.group_id'
        ~ ' when group_state.is_anchored then group_state.cluster_id'
        ~ ' when free_anchor.anchors = 1 then free_anchor.anchor_id'
        ~ ' else free_sets.component end as new_cluster_id'
        ~ ' from ' ~ group_state ~ ' as group_state'
        ~ ' left join ' ~ free_sets ~ ' as free_sets on group_state.cluster_id = free_sets.node'
        ~ ' left join ' ~ free_anchor ~ ' as free_anchor on free_sets.component = free_anchor.component)'
        ~ ' select clusters.node_id, coalesce(relabel.new_cluster_id, clusters.cluster_id) as cluster_id'
        ~ ' from ' ~ clusters ~ ' as clusters'
        ~ ' left join relabel on clusters.cluster_id = relabel.cluster_id'
    ) -%}
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


{# resolve_identity on the part of a graph whose nodes pass a filter (edges kept when both ends pass), e.g. a graph without erased identifiers. #}
{% macro resolve_identity_subgraph(nodes_relation, edges_relation, node_filter, output_relation, src_column='src', dst_column='dst', tier_column='tier') %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set nodes = identity_work_relation(output_relation.identifier ~ '__sub_nodes') -%}
    {%- set edges = identity_work_relation(output_relation.identifier ~ '__sub_edges') -%}
    {%- do identity_create_table(nodes,
        'select node_id, identifier_type, identifier_value, first_seen_at from ' ~ identity_relation(nodes_relation)
        ~ ' where ' ~ node_filter
    ) -%}
    {%- do identity_create_table(edges,
        'select ' ~ src_column ~ ' as src, ' ~ dst_column ~ ' as dst, ' ~ tier_column ~ ' as tier'
        ~ ' from ' ~ identity_relation(edges_relation)
        ~ ' where ' ~ src_column ~ ' in (select node_id from ' ~ nodes ~ ')'
        ~ ' and ' ~ dst_column ~ ' in (select node_id from ' ~ nodes ~ ')'
    ) -%}
    {%- do resolve_identity(nodes, edges, output_relation) -%}
    {%- do identity_drop_tables([nodes, edges]) -%}
{% endmacro %}


{# SQL selecting the hubs (node_id) of a graph: shareable identifiers linked to more than `threshold` identifiers of one strong type. Nodes need is_strong and is_shareable (as resolve_identity types them). #}
{% macro identity_hubs_sql(nodes, edges, threshold) -%}
    {{ return(
        'with directed as ('
        ~ ' select src as node_id, dst as neighbour_id from ' ~ edges
        ~ ' union all select dst as node_id, src as neighbour_id from ' ~ edges ~ '),'
        ~ ' per_type as ('
        ~ ' select directed.node_id, neighbour.identifier_type, count(distinct directed.neighbour_id) as linked'
        ~ ' from directed inner join ' ~ nodes ~ ' as neighbour on directed.neighbour_id = neighbour.node_id'
        ~ ' where neighbour.is_strong group by directed.node_id, neighbour.identifier_type)'
        ~ ' select per_type.node_id, max(per_type.linked) as max_linked_per_type'
        ~ ' from per_type inner join ' ~ nodes ~ ' as node on per_type.node_id = node.node_id'
        ~ ' where node.is_shareable group by per_type.node_id'
        ~ ' having max(per_type.linked) > ' ~ threshold
    ) }}
{%- endmacro %}

{# SQL selecting typed nodes (is_strong, is_shareable, type_priority) from a nodes relation. #}
{% macro identity_typed_nodes_sql(nodes_relation) -%}
    {{ return(
        'select node_id, identifier_type, identifier_value, first_seen_at, '
        ~ identity_type_in('identifier_type', identity_strong_types()) ~ ' as is_strong, '
        ~ identity_type_in('identifier_type', identity_shareable_types()) ~ ' as is_shareable, '
        ~ identity_type_priority('identifier_type') ~ ' as type_priority '
        ~ 'from ' ~ nodes_relation
    ) }}
{%- endmacro %}

{# SQL selecting an edge relation as undirected (src < dst) pairs at their strongest tier, without self-loops. #}
{% macro identity_undirected_edges_sql(edges_relation, src_column='src', dst_column='dst', tier_column='tier') -%}
    {{ return(
        'select least(' ~ src_column ~ ', ' ~ dst_column ~ ') as src, greatest(' ~ src_column ~ ', ' ~ dst_column ~ ') as dst, '
        ~ 'min(' ~ tier_column ~ ') as tier from ' ~ edges_relation ~ ' where ' ~ src_column ~ ' <> ' ~ dst_column
        ~ ' group by least(' ~ src_column ~ ', ' ~ dst_column ~ '), greatest(' ~ src_column ~ ', ' ~ dst_column ~ ')'
    ) }}
{%- endmacro %}
