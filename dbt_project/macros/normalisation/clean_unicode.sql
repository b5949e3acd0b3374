{# Full-width forms folded to ASCII, invisible characters removed, Unicode whitespace trimmed from both ends (vars cdp_width_folding, cdp_invisible_characters, cdp_trim_characters; orchestration/identifiers.py clean_unicode reads the same). #}
{% macro clean_unicode(expression) -%}
    {%- set folding = var('cdp_width_folding') -%}
    {%- set folded = "translate(" ~ expression ~ ", " ~ cdp.text_literal(folding['from']) ~ ", " ~ cdp.text_literal(folding['to']) ~ ")" -%}
    {%- set space = cdp.character_class(var('cdp_trim_characters')) -%}
    {%- set visible = cdp.regex_replace_all(folded, cdp.character_class(var('cdp_invisible_characters')), '') -%}
    {{ cdp.regex_replace_all(visible, '^' ~ space ~ '+|' ~ space ~ '+$', '') }}
{%- endmacro %}

{# A regular-expression character class of code points (hex strings), as \x{...} escapes: the same in RE2 (DuckDB) and Java (Spark). #}
{% macro character_class(code_points, negated=false) -%}
    [{{ '^' if negated }}{% for code in code_points %}\x{ {{- code -}} }{% endfor %}]
{%- endmacro %}
