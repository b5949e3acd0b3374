{# An amount times an exchange rate as decimal(38, 10), exact to the 10th place on every engine (Spark would round a decimal(38, 10) product to 6 places). #}
{% macro money_times_rate(amount, rate) -%}
    {{ return(adapter.dispatch('money_times_rate', 'cdp')(amount, rate)) }}
{%- endmacro %}

{% macro default__money_times_rate(amount, rate) -%}
    cast({{ amount }} * {{ rate }} as decimal(38, 10))
{%- endmacro %}

{% macro spark__money_times_rate(amount, rate) -%}
    {#- decimal(22, 10) * decimal(15, 10) is decimal(38, 20): no precision loss. Amounts up to
        10^12 and rates up to 10^5 per unit fit. -#}
    cast(cast({{ amount }} as decimal(22, 10)) * cast({{ rate }} as decimal(15, 10)) as decimal(38, 10))
{%- endmacro %}
