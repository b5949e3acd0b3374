-- Each fx rate with the days it applies to: from its rate_date until the next rate of
-- the same currency (weekends and holidays fall back to the latest earlier rate). The
-- reporting currency is always 1.
with

rates as (
    select * from {{ ref('stg_finance__fx_rates') }}
    where currency <> '{{ var("cdp_reporting_currency") }}'
),

ranged as (
    select
        currency,
        rate_to_usd,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_until
    from rates
),

reporting_currency as (
    select
        '{{ var("cdp_reporting_currency") }}' as currency,
        cast(1 as decimal(38, 10)) as rate_to_usd,
        cast('1900-01-01' as date) as valid_from,
        cast(null as date) as valid_until
)

select * from ranged
union all
select * from reporting_currency
