-- No person has more identifiers than var cdp_identity_max_cluster_size: a giant person
-- is an over-merge, and an over-merge must never reach an ad platform.
select
    person_id,
    count(*) as identifiers
from {{ ref('identity_map') }}
group by person_id
having count(*) > {{ var('cdp_identity_max_cluster_size') }}
