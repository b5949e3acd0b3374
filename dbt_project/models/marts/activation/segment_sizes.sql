-- One row per segment per build (appended): its members now and how many entered and
-- exited in this dbt invocation. Every segment gets a row, empty ones included.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        full_refresh=false
    )
}}
{%- set segments = cdp.segment_models() %}

with

history as (
    select * from {{ ref('segment_membership_history') }}
),

segments as (
    {% for segment in segments %}
        select '{{ segment.segment_name }}' as segment_name
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select cast(null as string) as segment_name
        from {{ ref('int_as_of') }}
        where false
    {% endfor %}
),

counted as (
    select
        segments.segment_name,
        sum(case when history.person_id is not null and history.exited_at is null then 1 else 0 end)
            as member_count,
        sum(case when history.entered_invocation_id = '{{ invocation_id }}' then 1 else 0 end)
            as entered_count,
        sum(case when history.exited_invocation_id = '{{ invocation_id }}' then 1 else 0 end)
            as exited_count
    from segments
    left join history on segments.segment_name = history.segment_name
    group by segments.segment_name
),

sized as (
    select
        segment_name,
        {{ cdp.current_utc_timestamp() }} as computed_at,
        cast(member_count as bigint) as member_count,
        cast(entered_count as bigint) as entered_count,
        cast(exited_count as bigint) as exited_count,
        '{{ invocation_id }}' as run_id
    from counted
)

select * from sized
