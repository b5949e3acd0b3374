{# An ISO 3166 alpha-2 country code from a code or a common name ('USA', 'United Kingdom'); NULL otherwise. #}
{% macro clean_country(expression) -%}
    {%- set value = "upper(trim(" ~ expression ~ "))" -%}
    {%- set names = {
        'USA': 'US', 'UNITED STATES': 'US', 'UNITED STATES OF AMERICA': 'US', 'U.S.': 'US', 'U.S.A.': 'US',
        'UK': 'GB', 'GBR': 'GB', 'UNITED KINGDOM': 'GB', 'GREAT BRITAIN': 'GB', 'ENGLAND': 'GB',
        'DEU': 'DE', 'GERMANY': 'DE', 'DEUTSCHLAND': 'DE', 'FRA': 'FR', 'FRANCE': 'FR',
        'ESP': 'ES', 'SPAIN': 'ES', 'ITA': 'IT', 'ITALY': 'IT', 'NLD': 'NL', 'NETHERLANDS': 'NL',
        'CAN': 'CA', 'CANADA': 'CA', 'AUS': 'AU', 'AUSTRALIA': 'AU', 'JPN': 'JP', 'JAPAN': 'JP',
        'IRL': 'IE', 'IRELAND': 'IE', 'CHE': 'CH', 'SWITZERLAND': 'CH', 'AUT': 'AT', 'AUSTRIA': 'AT',
        'SWE': 'SE', 'SWEDEN': 'SE', 'BEL': 'BE', 'BELGIUM': 'BE', 'IND': 'IN', 'INDIA': 'IN',
        'BRA': 'BR', 'BRAZIL': 'BR', 'MEX': 'MX', 'MEXICO': 'MX', 'NZL': 'NZ', 'NEW ZEALAND': 'NZ'
    } -%}
    case
        {%- for name, code in names.items() %}
        when {{ value }} = '{{ name }}' then '{{ code }}'
        {%- endfor %}
        when {{ cdp.regex_matches(value, '^[A-Z]{2}$') }} then {{ value }}
    end
{%- endmacro %}
