-- Where every raw row went, per source table. The invariant (tested):
-- raw_rows = staged_rows + quarantined_rows + superseded_rows + soft_deleted_rows.
with

counted as (
    {{ cdp.union_row_accounting() }}
)

select
    source_table,
    cast(raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
    cast(staged_rows as {{ dbt.type_bigint() }}) as staged_rows,
    cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
    cast(superseded_rows as {{ dbt.type_bigint() }}) as superseded_rows,
    cast(soft_deleted_rows as {{ dbt.type_bigint() }}) as soft_deleted_rows
from counted
