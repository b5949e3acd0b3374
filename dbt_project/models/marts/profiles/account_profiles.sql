-- One row per account (B2B): the CRM's accounts, and the accounts that only Segment group
-- calls name (firmographics from the group traits). Contacts and how many are engaged, open
-- pipeline and won revenue in USD, support load and last activity. Erased contacts do not
-- count.
{%- set now = cdp.as_of_timestamp() %}

with

crm_accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

group_accounts as (
    select * from {{ ref('int_account_groups') }}
),

accounts as (
    select
        account_id,
        account_name,
        domain,  -- noqa: RF04
        industry,
        employee_count,
        annual_revenue,
        country,
        created_at,
        'crm' as account_source
    from crm_accounts
    union all
    -- The CRM, curated by sales, wins: group traits only for accounts it does not have.
    select
        group_accounts.account_id,
        group_accounts.account_name,
        group_accounts.account_domain as domain,  -- noqa: RF04
        group_accounts.industry,
        group_accounts.employee_count,
        cast(null as decimal(38, 10)) as annual_revenue,
        group_accounts.country,
        group_accounts.first_grouped_at as created_at,
        'events' as account_source
    from group_accounts
    left join crm_accounts on group_accounts.account_id = crm_accounts.account_id
    where crm_accounts.account_id is null
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where not {{ cdp.is_erased('contact_id', 'contact_id') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
),

rates as (
    select * from {{ ref('int_fx_rates_valid') }}
),

account_groups as (
    select * from {{ ref('int_profile_groups') }}
),

contact_persons as (
    select
        contacts.account_id,
        contacts.contact_id,
        identity.person_id
    from contacts
    {{ cdp.join_person('identity', 'contact_id', 'contacts.contact_id') }}
),

engagement as (
    select
        contact_persons.account_id,
        count(distinct contact_persons.contact_id) as contacts,
        count(distinct contact_persons.person_id) as known_persons,
        count(
            distinct case
                when behaviour.events_30d > 0 or behaviour.email_clicks_30d > 0
                    then contact_persons.contact_id
            end
        ) as engaged_contacts_30d,
        max(behaviour.last_event_at) as last_contact_activity_at
    from contact_persons
    left join {{ ref('int_profile_behaviour') }} as behaviour
        on contact_persons.person_id = behaviour.person_id
    group by contact_persons.account_id
),

-- Persons whose latest Segment group call names the account (with or without a CRM contact).
grouped as (
    select
        group_id as account_id,
        count(distinct person_id) as grouped_persons
    from account_groups
    group by group_id
),

deals_in_usd as (
    select
        deals.*,
        deals.closed_at is not null or deals.deal_stage like 'closed%' as is_closed,
        {{ cdp.money_times_rate("deals.amount", "rates.rate_to_usd") }} as amount_usd
    from deals
    left join rates
        on
            deals.currency = rates.currency
            and cast(coalesce(deals.closed_at, deals.created_at) as date) >= rates.valid_from
            and (
                rates.valid_until is null
                or cast(coalesce(deals.closed_at, deals.created_at) as date) < rates.valid_until
            )
),

pipeline as (
    select
        account_id,
        count(*) as deals_total,
        count(case when not is_closed then 1 end) as deals_open,
        count(case when is_won then 1 end) as deals_won,
        coalesce(sum(case when not is_closed then amount_usd end), 0) as open_pipeline_usd,
        coalesce(sum(case when is_won then amount_usd end), 0) as won_revenue_usd,
        max(updated_at) as last_deal_activity_at
    from deals_in_usd
    group by account_id
),

support as (
    select
        contacts.account_id,
        count(*) as tickets_total,
        count(
            case when coalesce(tickets.ticket_status, '') not in ('resolved', 'closed') then 1 end
        ) as tickets_open,
        avg(tickets.csat_score) as average_csat,
        max(tickets.created_at) as last_ticket_at
    from tickets
    inner join contacts on tickets.contact_id = contacts.contact_id
    group by contacts.account_id
)

select
    accounts.account_id,
    accounts.account_name,
    accounts.domain,
    accounts.industry,
    accounts.employee_count,
    accounts.annual_revenue,
    accounts.country,
    accounts.created_at,
    accounts.account_source,
    cast(coalesce(engagement.contacts, 0) as {{ dbt.type_bigint() }}) as contacts,
    cast(coalesce(engagement.known_persons, 0) as {{ dbt.type_bigint() }}) as known_persons,
    cast(coalesce(grouped.grouped_persons, 0) as {{ dbt.type_bigint() }}) as grouped_persons,
    cast(coalesce(engagement.engaged_contacts_30d, 0) as {{ dbt.type_bigint() }})
        as engaged_contacts_30d,
    cast(coalesce(pipeline.deals_total, 0) as {{ dbt.type_bigint() }}) as deals_total,
    cast(coalesce(pipeline.deals_open, 0) as {{ dbt.type_bigint() }}) as deals_open,
    cast(coalesce(pipeline.deals_won, 0) as {{ dbt.type_bigint() }}) as deals_won,
    cast(coalesce(pipeline.open_pipeline_usd, 0) as decimal(38, 10)) as open_pipeline_usd,
    cast(coalesce(pipeline.won_revenue_usd, 0) as decimal(38, 10)) as won_revenue_usd,
    cast(coalesce(support.tickets_total, 0) as {{ dbt.type_bigint() }}) as tickets_total,
    cast(coalesce(support.tickets_open, 0) as {{ dbt.type_bigint() }}) as tickets_open,
    cast(support.average_csat as double) as average_csat,
    {{ cdp.greatest_non_null(
        cdp.greatest_non_null('engagement.last_contact_activity_at', 'pipeline.last_deal_activity_at'),
        'support.last_ticket_at'
    ) }} as last_activity_at,
    coalesce(engagement.engaged_contacts_30d, 0) > 0 as is_engaged_30d,
    {{ now }} as measured_at
from accounts
left join engagement on accounts.account_id = engagement.account_id
left join grouped on accounts.account_id = grouped.account_id
left join pipeline on accounts.account_id = pipeline.account_id
left join support on accounts.account_id = support.account_id
