select {{ cdp.star(ref('base_finance__fx_rates'), except=['_quarantine_reason']) }}
from {{ ref('base_finance__fx_rates') }}
where _quarantine_reason is null
