{# The named RFM segment of recency and frequency scores (1-5): champions, loyal, potential loyalist, new, need attention, at risk, hibernating; NULL for non-buyers. #}
{% macro rfm_segment(recency_score, frequency_score) -%}
    case
        when {{ recency_score }} is null then null
        when {{ recency_score }} >= 4 and {{ frequency_score }} >= 4 then 'champions'
        when {{ recency_score }} >= 3 and {{ frequency_score }} >= 3 then 'loyal'
        when {{ recency_score }} >= 4 and {{ frequency_score }} = 1 then 'new_customers'
        when {{ recency_score }} >= 4 then 'potential_loyalists'
        when {{ recency_score }} <= 2 and {{ frequency_score }} >= 3 then 'at_risk'
        when {{ recency_score }} <= 2 then 'hibernating'
        else 'need_attention'
    end
{%- endmacro %}

{# A 1-5 quintile score by position in an ordering; tied values share the lowest position's score. #}
{% macro quintile_score(order_by) -%}
    cast(least(5, 1 + floor(5 * percent_rank() over (order by {{ order_by }}))) as integer)
{%- endmacro %}

{# Aggregate: the sorted, comma-separated identity sources seen across a person's identifiers (each a comma list). #}
{% macro sources_seen(sources_column) -%}
    concat_ws(','
    {%- for source_table in ['crm_contacts', 'events', 'shop_customers', 'shop_orders'] %},
        case when max(case when {{ sources_column }} like '%{{ source_table }}%' then 1 else 0 end) = 1
            then '{{ source_table }}' end
    {%- endfor %}
    )
{%- endmacro %}

{# One row per person with a consent_<purpose> status column per purpose, from (person_id, purpose, consent_status) rows. #}
{% macro consent_pivot(relation, purposes) -%}
    select
        person_id
        {%- for purpose in purposes %},
        max(case when purpose = '{{ purpose }}' then consent_status end) as consent_{{ purpose }}
        {%- endfor %}
    from {{ relation }}
    group by person_id
{%- endmacro %}
