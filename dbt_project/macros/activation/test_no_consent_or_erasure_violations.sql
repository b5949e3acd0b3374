{# Generic test: a row per payload person who must not leave, recounted from other sources than the payload filter. #}
{% test no_consent_or_erasure_violations(model, rules, consent, erasures, identity, suppression) %}
with

payload as (
    select segment_name, destination, person_id, email, phone from {{ model }}
),

rules as (
    select * from {{ rules }}
),

pairs as (
    select distinct segment_name, destination, is_known_only from rules
),

consent as (
    select * from {{ consent }}
),

erasures as (
    select * from {{ erasures }}
),

identity as (
    select * from {{ identity }}
),

suppression as (
    select * from {{ suppression }}
),

consent_missing as (
    -- The latest consent change per (person, purpose) must be a grant: none is no consent.
    select
        concat('consent_', rules.purpose, '_not_granted') as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    inner join rules
        on
            payload.segment_name = rules.segment_name
            and payload.destination = rules.destination
    left join consent
        on payload.person_id = consent.person_id and rules.purpose = consent.purpose
    where consent.consent_status is null or consent.consent_status != 'granted'
),

erased_identifier as (
    -- Any identifier of the person that a deletion request erased.
    select distinct
        'erased_identifier' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    inner join identity on payload.person_id = identity.person_id
    inner join erasures
        on
            identity.identifier_type = erasures.identifier_type
            and identity.identifier_value = erasures.identifier_value
),

payload_values as (
    select segment_name, destination, person_id, 'email' as identifier_type, email as identifier_value
    from payload
    where email is not null
    union all
    select segment_name, destination, person_id, 'phone' as identifier_type, phone as identifier_value
    from payload
    where phone is not null
),

erased_value as (
    -- The email or phone about to leave is erased or suppressed, whoever carries it
    -- (equi-joins on the value and on its hash).
    select
        payload_values.segment_name,
        payload_values.destination,
        payload_values.person_id
    from payload_values
    inner join erasures
        on
            payload_values.identifier_type = erasures.identifier_type
            and payload_values.identifier_value = erasures.identifier_value
    union all
    select
        payload_values.segment_name,
        payload_values.destination,
        payload_values.person_id
    from payload_values
    inner join suppression
        on {{ cdp.sha256_hex("concat(payload_values.identifier_type, ':', payload_values.identifier_value)") }}
        = suppression.identifier_hash
),

erased_or_suppressed_value as (
    select distinct
        'erased_or_suppressed_value' as kind,
        segment_name,
        destination,
        person_id
    from erased_value
),

mapped_persons as (
    select distinct person_id from identity
),

unknown_person as (
    -- Erased persons leave identity_map: a payload person not in it must not leave.
    select
        'person_not_in_identity_map' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    left join mapped_persons on payload.person_id = mapped_persons.person_id
    where mapped_persons.person_id is null
),

known_persons as (
    -- Known-ness re-derived: a customer id, contact id, email or phone that is not a hub.
    select distinct person_id
    from identity
    where
        identifier_type in ('customer_id', 'contact_id', 'email', 'phone')
        and not coalesce(is_hub, false)
),

anonymous as (
    select
        'anonymous_person' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    inner join pairs
        on
            payload.segment_name = pairs.segment_name
            and payload.destination = pairs.destination
    left join known_persons on payload.person_id = known_persons.person_id
    where pairs.is_known_only and known_persons.person_id is null
),

no_rule_for_pair as (
    select
        'no_rule_for_pair' as kind,
        payload.segment_name,
        payload.destination,
        payload.person_id
    from payload
    left join pairs
        on
            payload.segment_name = pairs.segment_name
            and payload.destination = pairs.destination
    where pairs.segment_name is null
),

violations as (
    select * from consent_missing
    union all
    select * from erased_identifier
    union all
    select * from erased_or_suppressed_value
    union all
    select * from unknown_person
    union all
    select * from anonymous
    union all
    select * from no_rule_for_pair
)

select * from violations
{% endtest %}
