-- Every stay of a person in a segment, open or closed: the `entered` and `exited` rows of
-- the generated `seg_<name>` change logs paired by (person_id, entered_at), the logs side
-- by side. Each log is append-only incremental and keeps its own changes, so a segment
-- rule can read another segment's history (`entered_segment`) without a cycle through here.
{%- set segments = cdp.segment_models() %}

with

{% for segment in segments %}
    {{ segment.model }} as (
        select
            segment_name,
            person_id,
            entered_at,
            exited_at,
            entered_because,
            exited_because,
            entered_invocation_id,
            exited_invocation_id
        from ({{ cdp.segment_stays(ref(segment.model)) }}) as stays
    ),

{% endfor %}

stays as (
    {% for segment in segments %}
        select * from {{ segment.model }}
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select
            cast(null as string) as segment_name,
            cast(null as string) as person_id,
            cast(null as timestamp) as entered_at,
            cast(null as timestamp) as exited_at,
            cast(null as string) as entered_because,
            cast(null as string) as exited_because,
            cast(null as string) as entered_invocation_id,
            cast(null as string) as exited_invocation_id
        from {{ ref('int_as_of') }}
        where false
    {% endfor %}
)

select * from stays
