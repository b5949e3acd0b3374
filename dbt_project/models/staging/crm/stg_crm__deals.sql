select {{ cdp.star(ref('base_crm__deals'), except=['_quarantine_reason']) }}
from {{ ref('base_crm__deals') }}
where _quarantine_reason is null
