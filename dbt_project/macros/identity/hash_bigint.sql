{# A text expression as a positive BIGINT surrogate key, the same on every engine (modulus: shrink the hash space, for tests only). #}
{% macro hash_bigint(expr, modulus=none) -%}
    {{ return(adapter.dispatch('hash_bigint', 'cdp')(expr, modulus)) }}
{%- endmacro %}

{#- The first 15 hex digits (60 bits) of the md5 digest as a number: below 2^63, so a
    positive BIGINT, and engines agree on md5 where their native hashes differ. -#}
{% macro duckdb__hash_bigint(expr, modulus=none) -%}
    {%- set value -%}
        cast('0x' || substring(md5(cast({{ expr }} as varchar)), 1, 15) as bigint)
    {%- endset -%}
    {%- if modulus is none -%}
        {{ value }}
    {%- else -%}
        ({{ value }} % {{ modulus }})
    {%- endif -%}
{%- endmacro %}

{% macro default__hash_bigint(expr, modulus=none) -%}
    {%- set value -%}
        cast(conv(substring(md5(cast({{ expr }} as string)), 1, 15), 16, 10) as bigint)
    {%- endset -%}
    {%- if modulus is none -%}
        {{ value }}
    {%- else -%}
        ({{ value }} % {{ modulus }})
    {%- endif -%}
{%- endmacro %}
