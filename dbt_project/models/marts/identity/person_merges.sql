{{ config(materialized='incremental', on_schema_change='append_new_columns') }}

-- How person ids changed since the previous run, so syncs can follow: old -> new, when
-- and why. Appended each run; empty on the first run and after a full refresh (there is
-- no previous map to compare with). Erased identifiers are not followed.
with

current_map as (
    select
        identifier_type,
        identifier_value,
        person_id
    from {{ ref('int_identity_persons') }}
),

previous_map as (
    {{ cdp.previous_identity_map(ref('int_identity_persons')) }}
),

-- every (old person, new person) pair an identifier connects, moved or not
links as (
    select
        previous_map.person_id as old_person_id,
        current_map.person_id as new_person_id
    from previous_map
    inner join current_map
        on
            previous_map.identifier_type = current_map.identifier_type
            and previous_map.identifier_value = current_map.identifier_value
),

moves as (
    select
        old_person_id,
        new_person_id,
        count(*) as identifiers_moved
    from links
    where old_person_id <> new_person_id
    group by old_person_id, new_person_id
),

fan_in as (
    select
        new_person_id,
        count(distinct old_person_id) as old_persons
    from links
    group by new_person_id
),

fan_out as (
    select
        old_person_id,
        count(distinct new_person_id) as new_persons
    from links
    group by old_person_id
)

select
    moves.old_person_id,
    moves.new_person_id,
    case
        when fan_in.old_persons > 1 then 'merged'
        when fan_out.new_persons > 1 then 'split'
        else 'renamed'
    end as change_reason,
    cast(moves.identifiers_moved as {{ dbt.type_bigint() }}) as identifiers_moved,
    {{ cdp.run_started_timestamp() }} as changed_at
from moves
left join fan_in on moves.new_person_id = fan_in.new_person_id
left join fan_out on moves.old_person_id = fan_out.old_person_id
