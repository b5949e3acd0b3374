-- No person holds more identifiers of a limited type than var cdp_identity_limits allows
-- (default: one customer_id). Blocks activation when it fails.
{%- for identifier_type, limit in var('cdp_identity_limits').items() %}
select
    person_id,
    '{{ identifier_type }}' as identifier_type,
    count(*) as identifiers
from {{ ref('identity_map') }}
where identifier_type = '{{ identifier_type }}'
group by person_id
having count(*) > {{ limit }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
