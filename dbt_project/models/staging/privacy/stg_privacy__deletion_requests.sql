select {{ cdp.star(ref('base_privacy__deletion_requests'), except=['_quarantine_reason']) }}
from {{ ref('base_privacy__deletion_requests') }}
where _quarantine_reason is null
