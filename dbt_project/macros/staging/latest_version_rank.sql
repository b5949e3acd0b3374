{# row_number() that ranks a key's newest version first (CDC): newest version column, then the last delivered row. #}
{% macro latest_version_rank(key_columns, version_column=none) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {%- if version_column %} {{ version_column }} desc nulls last,{% endif %}
            _loaded_at desc, _file desc, _row_number desc
    )
{%- endmacro %}
