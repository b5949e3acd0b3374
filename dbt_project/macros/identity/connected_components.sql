{# Label each node of an undirected (src, dst) bigint edge list with the smallest node id of its component. #}
{% macro connected_components(edges_relation, output_relation, max_passes=30, max_fallback_passes=200) %}
    {#-
        Min-label contraction (see docs/identity-algorithm.md). Each pass hooks every node to
        its smallest neighbour, compresses the hooks to their roots by pointer jumping (from
        the second pass on) and contracts the edge list onto the roots; a component is done
        when its edges have all become self-loops. After max_passes the edges still left
        are solved by large-star/small-star (max_fallback_passes rounds at most), then the
        labels are composed back from the last pass to the first.
        Self-loops are how isolated nodes are given; duplicate rows are harmless.
        Scratch tables live beside output_relation (`<output>__cc_*`) and are dropped.
    -#}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if max_passes < 1 -%}
        {{ exceptions.raise_compiler_error('connected_components: max_passes must be at least 1, got ' ~ max_passes) }}
    {%- endif -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set started_at = modules.datetime.datetime.now() -%}
    {%- set state = namespace(edges=edges_relation, remaining=1, passes=0, nodes=0) -%}
    {%- set levels = [] -%}
    {%- set scratch = [] -%}

    {%- for pass in range(max_passes) -%}
        {%- set parents = identity_scratch_relation(output_relation, 'cc_parents_' ~ pass) -%}
        {%- do identity_create_table(parents, cc_min_neighbour_sql(state.edges)) -%}
        {%- set jumps = 0 -%}
        {%- if pass > 0 -%}
            {#- On the full graph one pointer jump costs more than it saves (measured); on
                the contracted graphs it collapses long hook chains (a 1,000-node path) at once. -#}
            {%- set jumped = cc_pointer_jump(parents, identity_scratch_relation(output_relation, 'cc_jump_' ~ pass)) -%}
            {%- set parents = jumped['relation'] -%}
            {%- set jumps = jumped['jumps'] -%}
        {%- endif -%}
        {%- set contracted = identity_scratch_relation(output_relation, 'cc_edges_' ~ (pass + 1)) -%}
        {%- do identity_create_table(contracted, cc_contract_sql(state.edges, parents)) -%}
        {#- One statement counts what the pass left (and, in pass 1, the nodes). -#}
        {%- set counts = identity_counts(cc_pass_counts_sql(contracted, parents)) -%}
        {%- set state.remaining = counts[0] -%}
        {%- if pass == 0 -%}
            {%- set state.nodes = counts[1] -%}
        {%- else -%}
            {%- do scratch.append(state.edges) -%}
        {%- endif -%}
        {%- do levels.append(parents) -%}
        {%- do scratch.append(parents) -%}
        {%- set state.edges = contracted -%}
        {%- set state.passes = pass + 1 -%}
        {%- do log(
            'connected_components: pass ' ~ (pass + 1) ~ ': ' ~ counts[1] ~ ' nodes, '
            ~ jumps ~ ' pointer jumps, ' ~ state.remaining ~ ' edges left between roots',
            info=True
        ) -%}
        {%- if state.remaining == 0 -%}
            {%- break -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do scratch.append(state.edges) -%}

    {%- set fallback_passes = 0 -%}
    {%- if state.remaining > 0 -%}
        {%- do log(
            'connected_components: ' ~ state.remaining ~ ' edges left after ' ~ max_passes
            ~ ' passes (max_passes): switching to large-star/small-star', info=True
        ) -%}
        {%- set stars = cc_star_fallback(state.edges, identity_scratch_relation(output_relation, 'cc_star'), max_fallback_passes) -%}
        {%- if stars['relation'] is none -%}
            {#- Leave nothing behind: the scratch tables are real tables beside the output. -#}
            {%- do identity_drop_tables(scratch + levels) -%}
            {{ exceptions.raise_compiler_error(
                'connected_components: large-star/small-star did not converge in ' ~ max_fallback_passes
                ~ ' passes (max_fallback_passes)'
            ) }}
        {%- endif -%}
        {%- do levels.append(stars['relation']) -%}
        {%- do scratch.append(stars['relation']) -%}
        {%- set fallback_passes = stars['passes'] -%}
    {%- endif -%}

    {%- do cc_compose(levels, output_relation) -%}
    {%- do identity_drop_tables(scratch) -%}
    {%- set seconds = (modules.datetime.datetime.now() - started_at).total_seconds() -%}
    {%- do log(
        'connected_components: ' ~ output_relation ~ ' has ' ~ state.nodes ~ ' nodes after '
        ~ state.passes ~ ' passes and ' ~ fallback_passes ~ ' fallback passes in '
        ~ '%.2f' | format(seconds) ~ ' s', info=True
    ) -%}
    {{ return({
        'passes': state.passes,
        'fallback_passes': fallback_passes,
        'nodes': state.nodes,
        'seconds': seconds,
    }) }}
{% endmacro %}


{# Select each node with the smallest of itself and its neighbours (the hook of one pass). #}
{% macro cc_min_neighbour_sql(edges_relation) -%}
    select
        node,
        least(node, min(neighbour)) as parent
    from (
        select
            src as node,
            dst as neighbour
        from {{ edges_relation }}
        union all
        select
            dst as node,
            src as neighbour
        from {{ edges_relation }}
    ) as directed_edges
    group by node
{%- endmacro %}


{# Select the edges left between roots and the nodes of a pass, as one row (edges_left, nodes). #}
{% macro cc_pass_counts_sql(contracted_relation, parents_relation) -%}
    select
        (select count(*) from {{ contracted_relation }}) as edges_left,
        (select count(*) from {{ parents_relation }}) as nodes
{%- endmacro %}


{# Select one pointer jump: each node's parent replaced by its grandparent, and whether it moved. #}
{% macro cc_jump_sql(parents_relation) -%}
    select
        child.node,
        grandparent.parent,
        grandparent.parent <> child.parent as has_moved
    from {{ parents_relation }} as child
    inner join {{ parents_relation }} as grandparent on child.parent = grandparent.node
{%- endmacro %}


{# Replace each parent by its parent's parent until no parent moves; returns the last table and the jump count. #}
{% macro cc_pointer_jump(parents_relation, prefix_relation, max_jumps=64) %}
    {#- Each jump halves the depth of every hook tree: 64 jumps cover any bigint-sized tree. -#}
    {%- set state = namespace(relation=parents_relation, jumps=0) -%}
    {%- for jump in range(max_jumps) -%}
        {%- set jumped = identity_scratch_relation(prefix_relation, jump | string) -%}
        {%- do identity_create_table(jumped, cc_jump_sql(state.relation)) -%}
        {%- do identity_drop_tables([state.relation]) -%}
        {%- set state.relation = jumped -%}
        {%- set state.jumps = jump + 1 -%}
        {%- if identity_count(jumped, 'has_moved') == 0 -%}
            {%- break -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'relation': state.relation, 'jumps': state.jumps}) }}
{% endmacro %}


{# Select the edges between different roots, each once, as (smaller, larger). #}
{% macro cc_contract_sql(edges_relation, parents_relation) -%}
    select distinct
        least(src_parent.parent, dst_parent.parent) as src,
        greatest(src_parent.parent, dst_parent.parent) as dst
    from {{ edges_relation }} as edges
    inner join {{ parents_relation }} as src_parent on edges.src = src_parent.node
    inner join {{ parents_relation }} as dst_parent on edges.dst = dst_parent.node
    where src_parent.parent <> dst_parent.parent
{%- endmacro %}


{# Select the large-star step: every larger neighbour of a node links to the node's smallest neighbour (or itself). #}
{% macro cc_large_star_sql(edges_relation) -%}
    with

    directed_edges as (
        select
            src as node,
            dst as neighbour
        from {{ edges_relation }}
        union all
        select
            dst as node,
            src as neighbour
        from {{ edges_relation }}
    ),

    smallest as (
        select
            node,
            least(node, min(neighbour)) as root
        from directed_edges
        group by node
    )

    select distinct
        smallest.root as src,
        directed_edges.neighbour as dst
    from directed_edges
    inner join smallest on directed_edges.node = smallest.node
    where directed_edges.neighbour > directed_edges.node
{%- endmacro %}


{# Select the small-star step: a node and its smaller neighbours all link to the smallest of them. #}
{% macro cc_small_star_sql(large_relation) -%}
    with

    smallest as (
        select
            dst as node,
            min(src) as root
        from {{ large_relation }}
        group by dst
    ),

    relinked as (
        select distinct
            least(large_edges.src, smallest.root) as src,
            greatest(large_edges.src, smallest.root) as dst
        from {{ large_relation }} as large_edges
        inner join smallest on large_edges.dst = smallest.node
        where large_edges.src <> smallest.root
    )

    select
        src,
        dst
    from relinked
    union
    select
        root as src,
        node as dst
    from smallest
{%- endmacro %}


{# Select the number of edges in either edge list but not in both, as one row (one statement). #}
{% macro cc_changed_edges_sql(new_relation, old_relation) -%}
    select
        (
            select count(*) from (
                select
                    src,
                    dst
                from {{ new_relation }}
                except
                select
                    src,
                    dst
                from {{ old_relation }}
            ) as added
        )
        + (
            select count(*) from (
                select
                    src,
                    dst
                from {{ old_relation }}
                except
                select
                    src,
                    dst
                from {{ new_relation }}
            ) as removed
        ) as changed
{%- endmacro %}


{# Select the labels of a converged star edge list: each node with the star's centre (the smallest node). #}
{% macro cc_star_labels_sql(edges_relation) -%}
    select
        dst as node,
        src as parent
    from {{ edges_relation }}
    union
    select
        src as node,
        src as parent
    from {{ edges_relation }}
{%- endmacro %}


{# Solve (src < dst) edges by alternating large-star and small-star until the edge set stops changing; relation none when it did not within max_passes. #}
{% macro cc_star_fallback(edges_relation, prefix_relation, max_passes) %}
    {#- Kiveris et al. 2014: each component ends as a star around its smallest node. -#}
    {%- set state = namespace(edges=edges_relation, passes=0, converged=false) -%}
    {%- for pass in range(max_passes) -%}
        {%- set large = identity_scratch_relation(prefix_relation, 'large_' ~ pass) -%}
        {%- set small = identity_scratch_relation(prefix_relation, 'small_' ~ pass) -%}
        {%- do identity_create_table(large, cc_large_star_sql(state.edges)) -%}
        {%- do identity_create_table(small, cc_small_star_sql(large)) -%}
        {%- set changed = identity_counts(cc_changed_edges_sql(small, state.edges))[0] -%}
        {%- do log('connected_components: fallback pass ' ~ (pass + 1) ~ ': ' ~ changed ~ ' edges changed', info=True) -%}
        {%- do identity_drop_tables([large]) -%}
        {%- if pass > 0 -%}
            {%- do identity_drop_tables([state.edges]) -%}
        {%- endif -%}
        {%- set state.edges = small -%}
        {%- set state.passes = pass + 1 -%}
        {%- if changed == 0 -%}
            {%- set state.converged = true -%}
            {%- break -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not state.converged -%}
        {%- do identity_drop_tables([state.edges]) -%}
        {{ return({'relation': none, 'passes': state.passes}) }}
    {%- endif -%}
    {#- Converged: every edge is (smallest node of the component, other node). -#}
    {%- set labels = identity_scratch_relation(prefix_relation, 'labels') -%}
    {%- do identity_create_table(labels, cc_star_labels_sql(state.edges)) -%}
    {%- do identity_drop_tables([state.edges]) -%}
    {{ return({'relation': labels, 'passes': state.passes}) }}
{% endmacro %}


{# Select one level of the composition: a pass's (node, parent) labelled through the later passes' labels, if any. #}
{% macro cc_compose_sql(level_relation, later_relation=none) -%}
    {%- if later_relation is none -%}
    select
        node,
        parent as component
    from {{ level_relation }}
    {%- else -%}
    select
        pass_level.node,
        coalesce(later.component, pass_level.parent) as component
    from {{ level_relation }} as pass_level
    left join {{ later_relation }} as later on pass_level.parent = later.node
    {%- endif -%}
{%- endmacro %}


{# Compose the per-pass (node, parent) tables, last to first, into output (node, component). #}
{% macro cc_compose(levels, output_relation) %}
    {%- set state = namespace(labels=none) -%}
    {%- for level in levels | reverse -%}
        {%- set target_relation = output_relation if loop.last else identity_scratch_relation(output_relation, 'cc_labels_' ~ loop.index) -%}
        {%- do identity_create_table(target_relation, cc_compose_sql(level, state.labels)) -%}
        {%- if state.labels is not none -%}
            {%- do identity_drop_tables([state.labels]) -%}
        {%- endif -%}
        {%- set state.labels = target_relation -%}
    {%- endfor -%}
{% endmacro %}
