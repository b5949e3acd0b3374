-- GENERATED from orchestration/activation/segments/*.yml and destinations.yml
-- by `uv run cdp segments compile`: do not edit. Change the YAML and run the command
-- (a test fails while the two differ).
-- One row per (segment, destination, consent purpose the pair requires): the rules
-- audience_payloads applies and its violation test re-checks.
with

rules as (
    select
        'abandoned_cart' as segment_name,
        'webhook' as destination,
        'webhook' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'email_marketing' as purpose
    union all
    select
        'abandoned_cart_sms' as segment_name,
        'webhook' as destination,
        'webhook' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'sms_marketing' as purpose
    union all
    select
        'churn_risk' as segment_name,
        'webhook' as destination,
        'webhook' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'email_marketing' as purpose
    union all
    select
        'churn_risk' as segment_name,
        'file' as destination,
        'file' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'email_marketing' as purpose
    union all
    select
        'engaged_b2b_accounts' as segment_name,
        'webhook' as destination,
        'webhook' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'email_marketing' as purpose
    union all
    select
        'high_value_customers' as segment_name,
        'google_ads' as destination,
        'google_ads_customer_match' as destination_type,
        true as is_ad_platform,
        true as is_known_only,
        'advertising' as purpose
    union all
    select
        'high_value_customers' as segment_name,
        'meta' as destination,
        'meta_custom_audiences' as destination_type,
        true as is_ad_platform,
        true as is_known_only,
        'advertising' as purpose
    union all
    select
        'lapsed_customers' as segment_name,
        'meta' as destination,
        'meta_custom_audiences' as destination_type,
        true as is_ad_platform,
        true as is_known_only,
        'advertising' as purpose
    union all
    select
        'lapsed_customers' as segment_name,
        'file' as destination,
        'file' as destination_type,
        false as is_ad_platform,
        true as is_known_only,
        'advertising' as purpose
    union all
    select
        'pricing_page_visitors_no_purchase' as segment_name,
        'webhook' as destination,
        'webhook' as destination_type,
        false as is_ad_platform,
        false as is_known_only,
        'advertising' as purpose
)

select * from rules
