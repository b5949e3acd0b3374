{# The identity map of the previous run (identifier_type, identifier_value, person_id), or no rows on a first or full-refresh run. #}
{% macro previous_identity_map(current_relation) -%}
    {%- set previous = adapter.get_relation(
        database=this.database, schema=this.schema, identifier='identity_map'
    ) if execute else none -%}
    {%- if is_incremental() and previous is not none -%}
    select identifier_type, identifier_value, person_id from {{ previous }}
    {%- else -%}
    select identifier_type, identifier_value, person_id from {{ current_relation }} where false
    {%- endif -%}
{%- endmacro %}

{# Per person, the count of each limited identifier type (n_<type>), from a relation with person_id and identifier_type. #}
{% macro identity_limit_counts(relation) -%}
    select
        person_id
        {%- for identifier_type in var('cdp_identity_limits') %},
        count(case when identifier_type = '{{ identifier_type }}' then 1 end) as n_{{ identifier_type }}
        {%- endfor %}
    from {{ relation }}
    group by person_id
{%- endmacro %}

{# SQL CASE naming the guard that stopped a link between two persons, given their limit counts (see identity_conflicts). #}
{% macro identity_blocking_guard(touches_hub, left_limits, right_limits) -%}
    case
        when {{ touches_hub }} then 'hub'
        {%- for identifier_type, limit in var('cdp_identity_limits').items() %}
        when {{ left_limits }}.n_{{ identifier_type }} + {{ right_limits }}.n_{{ identifier_type }} > {{ limit }}
            then 'identifier_limit:{{ identifier_type }}'
        {%- endfor %}
        else 'several_limited_persons'
    end
{%- endmacro %}

{# Rows (metric 'persons_over_limit', dimension type, count) for every limited type, from a relation of (person_id, identifier_type, identifiers). #}
{% macro identity_over_limit_metrics(per_type_relation) -%}
    {%- for identifier_type, limit in var('cdp_identity_limits').items() %}
    select
        'persons_over_limit' as metric,
        '{{ identifier_type }}' as dimension,
        count(case when identifier_type = '{{ identifier_type }}' and identifiers > {{ limit }} then 1 end) as metric_value
    from {{ per_type_relation }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{# The identifier limits (var cdp_identity_limits) as rows (identifier_type, max_identifiers). #}
{% macro identity_limits_table() -%}
    {%- for identifier_type, limit in var('cdp_identity_limits').items() %}
    select
        '{{ identifier_type }}' as identifier_type,
        {{ limit }} as max_identifiers
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
