{# row_number() that ranks a key's newest version first (CDC): newest version column, then the last delivered row. #}
{% macro latest_version_rank(key_columns, version_column=none) -%}
    row_number() over (
        partition by {{ cdp.version_partition(key_columns) }}
        order by
            {%- if version_column %} {{ version_column }} desc nulls last,{% endif %}
            _loaded_at desc, _file desc, _row_number desc
    )
{%- endmacro %}

{# The partition of a key's versions; a row whose key is incomplete is a partition of its own, so such rows are each quarantined, never collapsed. #}
{% macro version_partition(key_columns) -%}
    {%- set checks = [] -%}
    {%- for column in key_columns -%}{%- do checks.append(column ~ ' is null') -%}{%- endfor -%}
    {{ key_columns | join(', ') }},
    case when {{ checks | join(' or ') }} then _file end,
    case when {{ checks | join(' or ') }} then _row_number end
{%- endmacro %}
