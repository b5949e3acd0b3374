{# GENERATED from orchestration/activation/segments/*.yml by `uv run cdp segments compile`: the segment models the union models read. #}
{% macro segment_models() -%}
    {{ return([
        {'segment_name': 'abandoned_cart', 'model': 'seg_abandoned_cart'},
        {'segment_name': 'abandoned_cart_sms', 'model': 'seg_abandoned_cart_sms'},
        {'segment_name': 'churn_risk', 'model': 'seg_churn_risk'},
        {'segment_name': 'engaged_b2b_accounts', 'model': 'seg_engaged_b2b_accounts'},
        {'segment_name': 'high_value_customers', 'model': 'seg_high_value_customers'},
        {'segment_name': 'lapsed_customers', 'model': 'seg_lapsed_customers'},
        {'segment_name': 'pricing_page_visitors_no_purchase', 'model': 'seg_pricing_page_visitors_no_purchase'},
    ]) }}
{%- endmacro %}
