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
    -#}
    {%- if not execute -%}
        {#- dbt renders hooks while parsing: run nothing then. -#}
        {{ return(none) }}
    {%- endif -%}
    {%- if max_passes < 1 -%}
        {{ exceptions.raise_compiler_error('connected_components: max_passes must be at least 1, got ' ~ max_passes) }}
    {%- endif -%}
    {%- set edges_relation = identity_relation(edges_relation) -%}
    {%- set output_relation = identity_relation(output_relation) -%}
    {%- set prefix = output_relation.identifier ~ '__cc' -%}
    {%- set started_at = modules.datetime.datetime.now() -%}
    {%- set state = namespace(edges=edges_relation, remaining=1, passes=0, nodes=0) -%}
    {%- set levels = [] -%}
    {%- set scratch = [] -%}

    {%- for pass in range(max_passes) -%}
        {%- set parents = identity_work_relation(prefix ~ '_parents_' ~ pass) -%}
        {%- do identity_create_table(parents, cc_min_neighbour_sql(state.edges)) -%}
        {%- set relabelled = identity_count(parents, 'parent <> node') -%}
        {%- set jumps = 0 -%}
        {%- if pass > 0 -%}
            {#- On the full graph one pointer jump costs more than it saves (measured); on
                the contracted graphs it collapses long hook chains (a 1,000-node path) at once. -#}
            {%- set jumped = cc_pointer_jump(parents, prefix ~ '_jump_' ~ pass) -%}
            {%- set parents = jumped['relation'] -%}
            {%- set jumps = jumped['jumps'] -%}
        {%- endif -%}
        {%- set contracted = identity_work_relation(prefix ~ '_edges_' ~ (pass + 1)) -%}
        {%- do identity_create_table(contracted, cc_contract_sql(state.edges, parents)) -%}
        {%- set state.remaining = identity_count(contracted) -%}
        {%- if pass == 0 -%}
            {%- set state.nodes = identity_count(parents) -%}
        {%- else -%}
            {%- do scratch.append(state.edges) -%}
        {%- endif -%}
        {%- do levels.append(parents) -%}
        {%- do scratch.append(parents) -%}
        {%- set state.edges = contracted -%}
        {%- set state.passes = pass + 1 -%}
        {%- do log(
            'connected_components: pass ' ~ (pass + 1) ~ ': ' ~ relabelled ~ ' nodes hooked to a smaller neighbour, '
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
        {%- set stars = cc_star_fallback(state.edges, prefix ~ '_star', max_fallback_passes) -%}
        {%- do levels.append(stars['relation']) -%}
        {%- do scratch.append(stars['relation']) -%}
        {%- set fallback_passes = stars['passes'] -%}
    {%- endif -%}

    {%- do cc_compose(levels, output_relation, prefix ~ '_labels') -%}
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
        select src as node, dst as neighbour from {{ edges_relation }}
        union all
        select dst as node, src as neighbour from {{ edges_relation }}
    ) as directed_edges
    group by node
{%- endmacro %}


{# Replace each parent by its parent's parent until no parent moves; returns the last table and the jump count. #}
{% macro cc_pointer_jump(parents_relation, prefix, max_jumps=64) %}
    {#- Each jump halves the depth of every hook tree: 64 jumps cover any bigint-sized tree. -#}
    {%- set state = namespace(relation=parents_relation, jumps=0) -%}
    {%- for jump in range(max_jumps) -%}
        {%- set jumped = identity_work_relation(prefix ~ '_' ~ jump) -%}
        {%- do identity_create_table(jumped,
            'select child.node, grandparent.parent, grandparent.parent <> child.parent as has_moved'
            ~ ' from ' ~ state.relation ~ ' as child'
            ~ ' inner join ' ~ state.relation ~ ' as grandparent on child.parent = grandparent.node'
        ) -%}
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


{# Solve (src < dst) edges by alternating large-star and small-star until the edge set stops changing. #}
{% macro cc_star_fallback(edges_relation, prefix, max_passes) %}
    {#- Kiveris et al. 2014: each component ends as a star around its smallest node. -#}
    {%- set state = namespace(edges=edges_relation, passes=0, converged=false) -%}
    {%- set scratch = [] -%}
    {%- for pass in range(max_passes) -%}
        {%- set large = identity_work_relation(prefix ~ '_large_' ~ pass) -%}
        {%- set small = identity_work_relation(prefix ~ '_small_' ~ pass) -%}
        {#- Large star: every larger neighbour of a node links to the node's smallest neighbour (or itself). -#}
        {%- do identity_create_table(large,
            'with directed_edges as ('
            ~ ' select src as node, dst as neighbour from ' ~ state.edges
            ~ ' union all select dst as node, src as neighbour from ' ~ state.edges ~ '),'
            ~ ' smallest as (select node, least(node, min(neighbour)) as root'
            ~ ' from directed_edges group by node)'
            ~ ' select distinct smallest.root as src, directed_edges.neighbour as dst'
            ~ ' from directed_edges inner join smallest on directed_edges.node = smallest.node'
            ~ ' where directed_edges.neighbour > directed_edges.node'
        ) -%}
        {#- Small star: a node and its smaller neighbours all link to the smallest of them. -#}
        {%- do identity_create_table(small,
            'with smallest as (select dst as node, min(src) as root from ' ~ large ~ ' group by dst)'
            ~ ' select distinct least(large_edges.src, smallest.root) as src,'
            ~ ' greatest(large_edges.src, smallest.root) as dst'
            ~ ' from ' ~ large ~ ' as large_edges inner join smallest on large_edges.dst = smallest.node'
            ~ ' where large_edges.src <> smallest.root'
            ~ ' union select root as src, node as dst from smallest'
        ) -%}
        {%- set changed = identity_count(
            '(select src, dst from ' ~ small ~ ' except select src, dst from ' ~ state.edges ~ ') as added'
        ) + identity_count(
            '(select src, dst from ' ~ state.edges ~ ' except select src, dst from ' ~ small ~ ') as removed'
        ) -%}
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
        {{ exceptions.raise_compiler_error(
            'connected_components: large-star/small-star did not converge in ' ~ max_passes
            ~ ' passes (max_fallback_passes)'
        ) }}
    {%- endif -%}
    {#- Converged: every edge is (smallest node of the component, other node). -#}
    {%- set labels = identity_work_relation(prefix ~ '_labels') -%}
    {%- do identity_create_table(labels,
        'select dst as node, src as parent from ' ~ state.edges
        ~ ' union select src as node, src as parent from ' ~ state.edges
    ) -%}
    {%- do identity_drop_tables([state.edges]) -%}
    {{ return({'relation': labels, 'passes': state.passes}) }}
{% endmacro %}


{# Compose the per-pass (node, parent) tables, last to first, into output (node, component). #}
{% macro cc_compose(levels, output_relation, prefix) %}
    {%- set state = namespace(labels=none) -%}
    {%- for level in levels | reverse -%}
        {%- set target_relation = output_relation if loop.last else identity_work_relation(prefix ~ '_' ~ loop.index) -%}
        {%- if state.labels is none -%}
            {%- set sql = 'select node, parent as component from ' ~ level -%}
        {%- else -%}
            {%- set sql = 'select level.node, coalesce(later.component, level.parent) as component'
                ~ ' from ' ~ level ~ ' as level'
                ~ ' left join ' ~ state.labels ~ ' as later on level.parent = later.node' -%}
        {%- endif -%}
        {%- do identity_create_table(target_relation, sql) -%}
        {%- if state.labels is not none -%}
            {%- do identity_drop_tables([state.labels]) -%}
        {%- endif -%}
        {%- set state.labels = target_relation -%}
    {%- endfor -%}
{% endmacro %}
