{# A phone in E.164 read with the record's country (else var cdp_default_country); NULL when invalid or a placeholder. The value is cleaned first (cdp.clean_unicode: full-width digits, invisible characters, Unicode whitespace). Python: orchestration.identifiers.identity_phone. #}
{% macro normalize_phone(expression, country_expression='null') -%}
    {%- set cleaned = cdp.clean_unicode(expression) -%}
    {%- set digits = cdp.regex_replace_all(cleaned, "[^0-9]", "") -%}
    case
        when lower({{ cleaned }}) in ({{ cdp.placeholder_value_list() }}) then null
        {%- for pattern in var('cdp_placeholder_phone_patterns') %}
        when {{ cdp.regex_matches(digits, pattern) }} then null
        {%- endfor %}
        else {{ adapter.dispatch('phone_to_e164', 'cdp')(cleaned, country_expression) }}
    end
{%- endmacro %}

{# Google's libphonenumber (python `phonenumbers`) as the UDF cdp_normalize_phone, registered by orchestration/dbt_udfs.py (DuckDB) and orchestration/spark.py (Spark): the same rules on every engine. #}
{% macro default__phone_to_e164(expression, country_expression) -%}
    cdp_normalize_phone(trim({{ expression }}), {{ country_expression }}, {{ cdp.text_literal(var("cdp_default_country")) }})
{%- endmacro %}
