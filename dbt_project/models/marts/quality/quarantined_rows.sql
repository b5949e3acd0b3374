-- Every row held back on its way in, with the reason: nothing is dropped silently.
-- Ingestion rejects (could not be typed) and staging rejects (typed, but breaking a
-- rule: negative money, unknown status, future timestamp, ...). The ingestion log is
-- absent when an EL tool lands the raw tables; then only staging rejects are listed.

with

staging_rejects as (
    {{ cdp.union_staging_rejects() }}
),

ingestion_rejects as (
    {{ cdp.ingestion_rejects() }}
),

unioned as (
    select * from staging_rejects
    union all
    select * from ingestion_rejects
)

select * from unioned
