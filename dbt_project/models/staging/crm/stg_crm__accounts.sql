select {{ cdp.star(ref('base_crm__accounts'), except=['_quarantine_reason']) }}
from {{ ref('base_crm__accounts') }}
where _quarantine_reason is null
