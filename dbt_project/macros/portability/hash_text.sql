{# A stable hex digest of a text expression (md5), for surrogate keys that must survive a rebuild. #}
{% macro hash_text(expression) -%}
    {{ return(adapter.dispatch('hash_text', 'cdp')(expression)) }}
{%- endmacro %}

{% macro default__hash_text(expression) -%}
    md5(cast({{ expression }} as {{ api.Column.translate_type('string') }}))
{%- endmacro %}
