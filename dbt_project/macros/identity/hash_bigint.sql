{# A text expression as a BIGINT surrogate key (modulus: shrink the hash space, for tests only). #}
{% macro hash_bigint(expr, modulus=none) -%}
    {{ return(adapter.dispatch('hash_bigint', 'cdp')(expr, modulus)) }}
{%- endmacro %}

{% macro duckdb__hash_bigint(expr, modulus=none) -%}
    {#- hash() is a UBIGINT: shift it into the signed range, keeping all 64 bits. -#}
    {%- if modulus is none -%}
        cast(cast(hash({{ expr }}) as hugeint) - 9223372036854775808 as bigint)
    {%- else -%}
        cast(hash({{ expr }}) % {{ modulus }} as bigint)
    {%- endif -%}
{%- endmacro %}

{% macro default__hash_bigint(expr, modulus=none) -%}
    {#- Spark (and Databricks): xxhash64 is already a signed BIGINT. -#}
    {%- if modulus is none -%}
        xxhash64({{ expr }})
    {%- else -%}
        pmod(xxhash64({{ expr }}), {{ modulus }})
    {%- endif -%}
{%- endmacro %}
