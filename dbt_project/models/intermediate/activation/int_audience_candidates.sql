-- Every member of every segment for every destination the segment names, with what the
-- payload filter decides: a profile, each required consent purpose granted, known when
-- the pair demands it, email and phone not suppressed. `held_back_because` is the first
-- rule that fails (NULL: may leave).
with

membership as (
    select * from {{ ref('segment_membership') }}
),

rules as (
    select * from {{ ref('int_audience_rules') }}
),

profiles as (
    select * from {{ ref('customer_profiles') }}
),

suppression as (
    select * from {{ ref('suppression_list') }}
),

pairs as (
    select
        segment_name,
        destination,
        destination_type,
        is_ad_platform,
        is_known_only,
        {{ dbt.listagg(
            measure='purpose', delimiter_text="','", order_by_clause='order by purpose'
        ) }} as required_purposes
    from rules
    group by segment_name, destination, destination_type, is_ad_platform, is_known_only
),

consent_missing as (
    -- A member without `granted` for some purpose the pair requires (none recorded,
    -- denied and withdrawn are not consent; no profile is no consent).
    select distinct
        rules.segment_name,
        rules.destination,
        membership.person_id
    from membership
    inner join rules on membership.segment_name = rules.segment_name
    left join profiles on membership.person_id = profiles.person_id
    where
        coalesce(
            case rules.purpose
                {% for purpose in var('cdp_consent_purposes') %}
                    when '{{ purpose }}' then profiles.consent_{{ purpose }}
                {% endfor %}
            end,
            'none'
        ) != 'granted'
),

profile_hashes as (
    -- The suppression list's key: the SHA-256 of '<type>:<value>' of the normal form.
    select
        person_id,
        {{ cdp.sha256_hex("concat('email', ':', email)") }} as identifier_hash
    from profiles
    where email is not null
    union all
    select
        person_id,
        {{ cdp.sha256_hex("concat('phone', ':', phone)") }} as identifier_hash
    from profiles
    where phone is not null
),

suppressed as (
    select distinct profile_hashes.person_id
    from profile_hashes
    inner join suppression on profile_hashes.identifier_hash = suppression.identifier_hash
),

candidates as (
    select
        pairs.segment_name,
        pairs.destination,
        pairs.destination_type,
        pairs.is_ad_platform,
        pairs.is_known_only,
        pairs.required_purposes,
        membership.person_id,
        membership.entered_at,
        membership.attributes,
        profiles.is_known,
        profiles.email,
        profiles.phone,
        profiles.first_name,
        profiles.last_name,
        profiles.city,
        profiles.postal_code,
        profiles.country,
        case
            when profiles.person_id is null then 'no_profile'
            when consent_missing.person_id is not null then 'no_consent'
            when pairs.is_known_only and not coalesce(profiles.is_known, false) then 'anonymous'
            when suppressed.person_id is not null then 'suppressed'
        end as held_back_because
    from membership
    inner join pairs on membership.segment_name = pairs.segment_name
    left join profiles on membership.person_id = profiles.person_id
    left join consent_missing
        on
            pairs.segment_name = consent_missing.segment_name
            and pairs.destination = consent_missing.destination
            and membership.person_id = consent_missing.person_id
    left join suppressed on membership.person_id = suppressed.person_id
)

select * from candidates
