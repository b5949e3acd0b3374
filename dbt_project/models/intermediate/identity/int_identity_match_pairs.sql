-- The pairs of candidate records the probabilistic model scored (source
-- identity_matching.match_pairs, written by the Dagster asset identity/match_pairs), with
-- each record's source and own identifier, so a pair can become a link between two
-- identifiers of the graph. Until the asset has run once the table is absent and this
-- model is empty (a fixture warehouse, a first `dbt build` on its own).
-- match_status says what the pair does: `linked` at or above the match threshold (var
-- cdp_identity_match_threshold) when both records' sources take part
-- (cdp_identity_probabilistic_sources), `review` in the grey band below it (from
-- cdp_identity_review_min_probability), else `below`. A reviewer's decision (seed
-- identity_match_decisions, the pair in either order) wins over the probability:
-- `rejected` never links, `accepted` links.
{%- set scored = source('identity_matching', 'match_pairs') %}
{#- A unit test's fixture stands in for the source as a CTE. #}
{%- set has_scored = execute and (scored.is_cte or adapter.get_relation(
    database=scored.database, schema=scored.schema, identifier=scored.identifier
) is not none) %}

with

candidates as (
    select * from {{ ref('int_identity_match_candidates') }}
),

decisions as (
    select
        decision,
        least(match_record_id_l, match_record_id_r) as first_record_id,
        greatest(match_record_id_l, match_record_id_r) as second_record_id
    from {{ ref('identity_match_decisions') }}
),

scored_pairs as (
    {%- if has_scored %}
    select
        match_record_id_l,
        match_record_id_r,
        match_probability,
        match_weight,
        weight_first_name,
        weight_last_name,
        weight_postal_code,
        weight_city,
        weight_email_local_part,
        weight_phone_last_digits,
        model_version
    from {{ scored }}
    {%- else %}
        select
            cast(null as string) as match_record_id_l,
            cast(null as string) as match_record_id_r,
            cast(null as double) as match_probability,
            cast(null as double) as match_weight,
            cast(null as double) as weight_first_name,
            cast(null as double) as weight_last_name,
            cast(null as double) as weight_postal_code,
            cast(null as double) as weight_city,
            cast(null as double) as weight_email_local_part,
            cast(null as double) as weight_phone_last_digits,
            cast(null as string) as model_version
        from candidates
        where false
    {%- endif %}
),

pairs as (
    select
        scored_pairs.match_record_id_l,
        scored_pairs.match_record_id_r,
        left_record.source_table as source_table_l,
        left_record.record_identifier_type as identifier_type_l,
        left_record.record_identifier_value as identifier_value_l,
        right_record.source_table as source_table_r,
        right_record.record_identifier_type as identifier_type_r,
        right_record.record_identifier_value as identifier_value_r,
        scored_pairs.match_probability,
        scored_pairs.match_weight,
        scored_pairs.weight_first_name,
        scored_pairs.weight_last_name,
        scored_pairs.weight_postal_code,
        scored_pairs.weight_city,
        scored_pairs.weight_email_local_part,
        scored_pairs.weight_phone_last_digits,
        scored_pairs.model_version,
        -- An empty list is `in (null)`: null, so no source takes part.
        coalesce(
            left_record.source_table in {{ cdp.identity_probabilistic_sources() }}
            and right_record.source_table in {{ cdp.identity_probabilistic_sources() }},
            false
        ) as is_source_enabled,
        decisions.decision
    from scored_pairs
    -- Inner joins: a pair scored on records that have since left staging links nothing.
    inner join candidates as left_record
        on scored_pairs.match_record_id_l = left_record.match_record_id
    inner join candidates as right_record
        on scored_pairs.match_record_id_r = right_record.match_record_id
    left join decisions
        on
            least(scored_pairs.match_record_id_l, scored_pairs.match_record_id_r)
            = decisions.first_record_id
            and greatest(scored_pairs.match_record_id_l, scored_pairs.match_record_id_r)
            = decisions.second_record_id
),

classified as (
    select
        match_record_id_l,
        match_record_id_r,
        source_table_l,
        identifier_type_l,
        identifier_value_l,
        source_table_r,
        identifier_type_r,
        identifier_value_r,
        match_probability,
        match_weight,
        weight_first_name,
        weight_last_name,
        weight_postal_code,
        weight_city,
        weight_email_local_part,
        weight_phone_last_digits,
        model_version,
        decision,
        case
            when not is_source_enabled then 'source_disabled'
            when decision = 'reject' then 'rejected'
            when decision = 'accept' then 'accepted'
            when match_probability >= {{ var('cdp_identity_match_threshold') }} then 'linked'
            when match_probability >= {{ var('cdp_identity_review_min_probability') }}
                then 'review'
            else 'below'
        end as match_status
    from pairs
)

select * from classified
