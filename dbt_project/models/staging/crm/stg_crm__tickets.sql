select {{ cdp.star(ref('base_crm__tickets'), except=['_quarantine_reason']) }}
from {{ ref('base_crm__tickets') }}
where _quarantine_reason is null
