-- Current members of every segment: the open stays of the generated `seg_<name>` change
-- logs (an `entered` row without its `exited` row; one log per segment YAML, the list is
-- the generated macro `segment_models()`).
{%- set segments = cdp.segment_models() %}

with

{% if segments %}
    {% for segment in segments %}
        {{ segment.model }} as (
            select
                segment_name,
                person_id,
                entered_at,
                attributes
            from ({{ cdp.segment_stays(ref(segment.model)) }}) as stays
            where exited_at is null
        ),

    {% endfor %}
{% endif %}

members as (
    {% for segment in segments %}
        select * from {{ segment.model }}
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select
            cast(null as string) as segment_name,
            cast(null as string) as person_id,
            cast(null as timestamp) as entered_at,
            cast(null as string) as attributes
        from {{ ref('int_as_of') }}
        where false
    {% endfor %}
)

select * from members
