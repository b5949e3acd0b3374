-- hash_text is deterministic and distinguishes inputs; as_of_timestamp is a timestamp.
select 'hash_text' as failed_macro
where
    {{ cdp.hash_text("'email:a@b.io'") }} != {{ cdp.hash_text("'email:a@b.io'") }}
    or {{ cdp.hash_text("'email:a@b.io'") }} = {{ cdp.hash_text("'email:b@b.io'") }}
union all
select 'as_of_timestamp' as failed_macro
where {{ cdp.as_of_timestamp() }} is null
