select {{ cdp.star(ref('base_tracking__events'), except=['_quarantine_reason']) }}
from {{ ref('base_tracking__events') }}
where _quarantine_reason is null
