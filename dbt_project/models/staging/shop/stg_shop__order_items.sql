select {{ cdp.star(ref('base_shop__order_items'), except=['_quarantine_reason']) }}
from {{ ref('base_shop__order_items') }}
where _quarantine_reason is null
