{# A phone in E.164 read with the record's country (else var cdp_default_country); NULL when invalid or a placeholder. #}
{% macro normalize_phone(expression, country_expression='null') -%}
    {%- set digits = cdp.regex_replace_all("trim(" ~ expression ~ ")", "[^0-9]", "") -%}
    case
        when lower(trim({{ expression }})) in ({{ cdp.placeholder_value_list() }}) then null
        {%- for pattern in var('cdp_placeholder_phone_patterns') %}
        when {{ cdp.regex_matches(digits, pattern) }} then null
        {%- endfor %}
        else {{ adapter.dispatch('phone_to_e164', 'cdp')(expression, country_expression) }}
    end
{%- endmacro %}

{# DuckDB: Google's libphonenumber (python `phonenumbers`) through the UDF registered by orchestration/dbt_udfs.py. #}
{% macro duckdb__phone_to_e164(expression, country_expression) -%}
    cdp_normalize_phone(trim({{ expression }}), {{ country_expression }}, '{{ var("cdp_default_country") }}')
{%- endmacro %}

{# Portable approximation for engines without the UDF: +/00 prefixes kept, national numbers get the country code. #}
{% macro default__phone_to_e164(expression, country_expression) -%}
    {%- set raw = "trim(" ~ expression ~ ")" -%}
    {%- set digits = cdp.regex_replace_all(raw, "[^0-9]", "") -%}
    {%- set country = "coalesce(upper(trim(" ~ country_expression ~ ")), '" ~ var('cdp_default_country') ~ "')" -%}
    {%- set calling_codes = {'US': '1', 'CA': '1', 'GB': '44', 'DE': '49', 'FR': '33', 'ES': '34', 'IT': '39', 'NL': '31', 'BE': '32', 'AT': '43', 'CH': '41', 'SE': '46', 'NO': '47', 'DK': '45', 'IE': '353', 'AU': '61', 'NZ': '64', 'JP': '81', 'IN': '91', 'BR': '55', 'MX': '52'} -%}
    case
        when {{ raw }} like '+%' then concat('+', {{ digits }})
        when {{ digits }} like '00%' then concat('+', substring({{ digits }}, 3))
        {%- for code, prefix in calling_codes.items() %}
        when {{ country }} = '{{ code }}' then concat('+{{ prefix }}', {% if prefix == '1' %}case when length({{ digits }}) = 11 and {{ digits }} like '1%' then substring({{ digits }}, 2) else {{ digits }} end{% else %}regexp_replace({{ digits }}, '^0', ''){% endif %})
        {%- endfor %}
    end
{%- endmacro %}
