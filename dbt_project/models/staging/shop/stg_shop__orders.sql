select {{ cdp.star(ref('base_shop__orders'), except=['_quarantine_reason']) }}
from {{ ref('base_shop__orders') }}
where _quarantine_reason is null
