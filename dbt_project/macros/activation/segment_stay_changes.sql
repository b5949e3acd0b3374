{# The change log tail of a generated segment model: who entered, whose open stay exited, as appended rows. #}
{% macro segment_stay_changes() -%}
{#-
    Reads the model's CTEs `as_of` (as_of_at), `segment` (segment_name, attributes) and
    `explained` (person_id, is_member, entered_because, exited_because); the open stays
    come from the log itself ({{ this }}) on an incremental build. Only new rows come out,
    so the model appends (no update, no merge: plain Parquet tables on Spark take it).
-#}
merged_persons as (
    -- Where a person id went when identity merged it into another.
    select
        old_person_id,
        {{ dbt.listagg(
            measure='new_person_id',
            delimiter_text="', '",
            order_by_clause='order by new_person_id'
        ) }} as merged_into
    from {{ ref('person_merges') }}
    group by old_person_id
),

open_stays as (
    {% if is_incremental() %}
        select
            person_id,
            entered_at
        from ({{ cdp.segment_stays(this) }}) as stays
        where exited_at is null
    {% else %}
        select
            cast(null as string) as person_id,
            cast(null as timestamp) as entered_at
        from as_of
        where false
    {% endif %}
),

entered as (
    select
        segment.segment_name,
        explained.person_id,
        'entered' as change_type,
        as_of.as_of_at as changed_at,
        as_of.as_of_at as entered_at,
        explained.entered_because as reason,
        segment.attributes,
        '{{ invocation_id }}' as invocation_id
    from explained
    cross join as_of
    cross join segment
    left join open_stays on explained.person_id = open_stays.person_id
    where explained.is_member and open_stays.person_id is null
),

exited as (
    select
        segment.segment_name,
        open_stays.person_id,
        'exited' as change_type,
        as_of.as_of_at as changed_at,
        open_stays.entered_at,
        case
            when explained.person_id is not null then explained.exited_because
            when merged_persons.merged_into is not null
                then concat('merged into ', merged_persons.merged_into)
            else 'no longer in customer_profiles (erased, or its identifiers now resolve elsewhere)'
        end as reason,
        segment.attributes,
        '{{ invocation_id }}' as invocation_id
    from open_stays
    cross join as_of
    cross join segment
    left join explained on open_stays.person_id = explained.person_id
    left join merged_persons on open_stays.person_id = merged_persons.old_person_id
    where not coalesce(explained.is_member, false)
),

changes as (
    select * from entered
    union all
    select * from exited
)

select * from changes
{%- endmacro %}


{# The stays of a segment change log: each entered row paired with the exited row of the same stay, if any. #}
{% macro segment_stays(log) -%}
    select
        entries.segment_name,
        entries.person_id,
        entries.entered_at,
        exits.changed_at as exited_at,
        entries.reason as entered_because,
        exits.reason as exited_because,
        entries.attributes,
        entries.invocation_id as entered_invocation_id,
        exits.invocation_id as exited_invocation_id
    from {{ log }} as entries
    left join {{ log }} as exits
        on
            entries.person_id = exits.person_id
            and entries.entered_at = exits.entered_at
            and exits.change_type = 'exited'
    where entries.change_type = 'entered'
{%- endmacro %}
