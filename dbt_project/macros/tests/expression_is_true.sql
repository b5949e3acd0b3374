{# Generic test: fails on every row of the model where the SQL expression is not true. #}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
