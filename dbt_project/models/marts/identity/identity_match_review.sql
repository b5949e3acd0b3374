-- The clerical-review queue of probabilistic matching: one row per scored pair of records
-- in the grey band (from cdp_identity_review_min_probability up to, not including,
-- cdp_identity_match_threshold), with both records side by side, the match probability,
-- the per-comparison weights (why the model scored it so), the persons the two records
-- belong to now and the reviewer's decision so far. A reviewer adds `accept` or `reject`
-- to the seed identity_match_decisions; the next run honours it. A pair with a record
-- that holds an erased identifier (its own id, e-mail or phone) is not listed.
with

pairs as (
    select * from {{ ref('int_identity_match_pairs') }}
),

candidates as (
    select * from {{ ref('int_identity_match_candidates') }}
),

identity as (
    select * from {{ ref('identity_map') }}
),

erasures as (
    select * from {{ ref('int_identity_erasures') }}
),

visible_candidates as (
    -- Right to erasure: a record is shown only when none of its identifiers was erased.
    select candidates.*
    from candidates
    left join erasures as erased_record
        on
            candidates.record_identifier_type = erased_record.identifier_type
            and candidates.record_identifier_value = erased_record.identifier_value
    left join erasures as erased_email
        on
            erased_email.identifier_type = 'email'
            and candidates.email = erased_email.identifier_value
    left join erasures as erased_phone
        on
            erased_phone.identifier_type = 'phone'
            and candidates.phone = erased_phone.identifier_value
    where
        erased_record.identifier_value is null
        and erased_email.identifier_value is null
        and erased_phone.identifier_value is null
),

grey_band as (
    select *
    from pairs
    where
        match_status <> 'source_disabled'
        and match_probability >= {{ var('cdp_identity_review_min_probability') }}
        and match_probability < {{ var('cdp_identity_match_threshold') }}
),

review as (
    select
        grey_band.match_record_id_l,
        grey_band.match_record_id_r,
        grey_band.match_probability,
        grey_band.match_weight,
        grey_band.weight_first_name,
        grey_band.weight_last_name,
        grey_band.weight_postal_code,
        grey_band.weight_city,
        grey_band.weight_email_local_part,
        grey_band.weight_phone_last_digits,
        grey_band.model_version,
        grey_band.decision,
        left_record.source_table as source_table_l,
        left_record.first_name as first_name_l,
        left_record.last_name as last_name_l,
        left_record.city as city_l,
        left_record.postal_code as postal_code_l,
        left_record.country as country_l,
        left_record.email as email_l,
        left_record.phone as phone_l,
        left_person.person_id as person_id_l,
        right_record.source_table as source_table_r,
        right_record.first_name as first_name_r,
        right_record.last_name as last_name_r,
        right_record.city as city_r,
        right_record.postal_code as postal_code_r,
        right_record.country as country_r,
        right_record.email as email_r,
        right_record.phone as phone_r,
        right_person.person_id as person_id_r,
        case
            when grey_band.decision = 'accept' then 'accepted'
            when grey_band.decision = 'reject' then 'rejected'
            else 'pending'
        end as review_status,
        left_person.person_id = right_person.person_id as is_same_person
    from grey_band
    inner join visible_candidates as left_record
        on grey_band.match_record_id_l = left_record.match_record_id
    inner join visible_candidates as right_record
        on grey_band.match_record_id_r = right_record.match_record_id
    inner join identity as left_person
        on
            grey_band.identifier_type_l = left_person.identifier_type
            and grey_band.identifier_value_l = left_person.identifier_value
    inner join identity as right_person
        on
            grey_band.identifier_type_r = right_person.identifier_type
            and grey_band.identifier_value_r = right_person.identifier_value
)

select
    match_record_id_l,
    match_record_id_r,
    cast(match_probability as double) as match_probability,
    cast(match_weight as double) as match_weight,
    cast(weight_first_name as double) as weight_first_name,
    cast(weight_last_name as double) as weight_last_name,
    cast(weight_postal_code as double) as weight_postal_code,
    cast(weight_city as double) as weight_city,
    cast(weight_email_local_part as double) as weight_email_local_part,
    cast(weight_phone_last_digits as double) as weight_phone_last_digits,
    review_status,
    is_same_person,
    source_table_l,
    first_name_l,
    last_name_l,
    city_l,
    postal_code_l,
    country_l,
    email_l,
    phone_l,
    person_id_l,
    source_table_r,
    first_name_r,
    last_name_r,
    city_r,
    postal_code_r,
    country_r,
    email_r,
    phone_r,
    person_id_r,
    model_version
from review
