-- A contact whose newest version is soft-deleted in the CRM is gone: it no longer
-- links identities or feeds profiles.
select {{ cdp.star(ref('base_crm__contacts'), except=['_quarantine_reason', 'is_deleted']) }}
from {{ ref('base_crm__contacts') }}
where
    _quarantine_reason is null
    and not is_deleted
