select {{ cdp.star(ref('base_privacy__consent_changes'), except=['_quarantine_reason']) }}
from {{ ref('base_privacy__consent_changes') }}
where _quarantine_reason is null
