select {{ cdp.star(ref('base_shop__customers'), except=['_quarantine_reason']) }}
from {{ ref('base_shop__customers') }}
where _quarantine_reason is null
