{# The staging base models with their dbt source, raw table and key: the one list the quality models loop over. #}
{% macro staged_tables() -%}
    {{ return([
        {'source': 'crm', 'raw_table': 'crm_accounts', 'base': 'base_crm__accounts', 'staged': 'stg_crm__accounts', 'key': 'account_id'},
        {'source': 'crm', 'raw_table': 'crm_contacts', 'base': 'base_crm__contacts', 'staged': 'stg_crm__contacts', 'key': 'contact_id', 'soft_delete': 'is_deleted'},
        {'source': 'crm', 'raw_table': 'crm_deals', 'base': 'base_crm__deals', 'staged': 'stg_crm__deals', 'key': 'deal_id'},
        {'source': 'crm', 'raw_table': 'crm_tickets', 'base': 'base_crm__tickets', 'staged': 'stg_crm__tickets', 'key': 'ticket_id'},
        {'source': 'shop', 'raw_table': 'shop_customers', 'base': 'base_shop__customers', 'staged': 'stg_shop__customers', 'key': 'customer_id'},
        {'source': 'shop', 'raw_table': 'shop_orders', 'base': 'base_shop__orders', 'staged': 'stg_shop__orders', 'key': 'order_id'},
        {'source': 'shop', 'raw_table': 'shop_order_items', 'base': 'base_shop__order_items', 'staged': 'stg_shop__order_items', 'key': "concat(order_id, '#', cast(line_number as " ~ dbt.type_string() ~ "))"},
        {'source': 'finance', 'raw_table': 'fx_rates', 'base': 'base_finance__fx_rates', 'staged': 'stg_finance__fx_rates', 'key': "concat(cast(rate_date as " ~ dbt.type_string() ~ "), '/', currency)"},
        {'source': 'tracking', 'raw_table': 'events', 'base': 'base_tracking__events', 'staged': 'stg_tracking__events', 'key': 'message_id'},
        {'source': 'privacy', 'raw_table': 'consent', 'base': 'base_privacy__consent_changes', 'staged': 'stg_privacy__consent_changes', 'key': 'consent_change_id'},
        {'source': 'privacy', 'raw_table': 'deletion_requests', 'base': 'base_privacy__deletion_requests', 'staged': 'stg_privacy__deletion_requests', 'key': 'request_id'},
    ]) }}
{%- endmacro %}
