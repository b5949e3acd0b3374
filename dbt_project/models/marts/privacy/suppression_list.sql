-- The erased: one row per identifier a deletion request erased, as a SHA-256 digest of
-- its normal form ('email:ann@x.io') and nothing else. Activation checks every payload
-- against it; the identity graph never links these identifiers again.
with

erasures as (
    select * from {{ ref('int_identity_erasures') }}
)

select
    identifier_type,
    {{ cdp.sha256_hex("concat(identifier_type, ':', identifier_value)") }} as identifier_hash,
    request_id,
    requested_at
from erasures
