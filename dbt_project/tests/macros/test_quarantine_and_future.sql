-- Tied to the model that relies on the macro most: Dagster shows it as a check there.
-- depends_on: {{ ref('base_shop__orders') }}

-- quarantine_reason joins the reasons that hold (NULL when none); is_future uses the load
-- time plus var cdp_future_tolerance_hours (24).
with

cases as (
    select
        cases.amount,
        cases.event_at_text,
        cases.expected
    from (
        values
        (-5, '2026-03-01 00:00:00', 'negative money'),
        (-5, '2026-03-05 00:00:00', 'negative money; in the future'),
        (5, '2026-03-02 23:00:00', null),
        (5, '2026-03-03 01:00:00', 'in the future')
    ) as cases (amount, event_at_text, expected)
),

typed as (
    select
        amount,
        expected,
        cast(event_at_text as {{ dbt.type_timestamp() }}) as event_at,
        cast('2026-03-02 00:00:00' as {{ dbt.type_timestamp() }}) as _loaded_at
    from cases
)

select *
from typed
where
    {{ cdp.quarantine_reason([
        ("amount < 0", "negative money"),
        (cdp.is_future('event_at'), "in the future"),
    ]) }} is distinct from expected
