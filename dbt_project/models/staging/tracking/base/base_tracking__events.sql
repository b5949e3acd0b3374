with

source as (
    -- group_id, name and category joined the contract later: a table landed before lacks them.
    select * from {{ cdp.raw_source('tracking', 'events', optional={
        'group_id': dbt.type_string(),
        'name': dbt.type_string(),
        'category': dbt.type_string(),
    }) }}
),

renamed as (
    select
        nullif(trim(cast(message_id as {{ dbt.type_string() }})), '') as message_id,
        lower({{ cdp.clean_text('type') }}) as event_type,
        {{ cdp.clean_text('event') }} as event_name,
        -- SDK bugs send 'undefined' / 'null' as ids: placeholders never identify anyone.
        {{ cdp.clean_id('anonymous_id') }} as anonymous_id,
        {{ cdp.clean_id('user_id') }} as user_id,
        {{ cdp.clean_id('previous_id') }} as previous_id,
        {{ cdp.clean_id('group_id') }} as group_id,
        -- Page and screen calls name the page at the top level (analytics.page(category, name)).
        {{ cdp.clean_text('name') }} as call_name,
        {{ cdp.clean_text('category') }} as call_category,
        lower({{ cdp.clean_text('source') }}) as event_source,
        {{ cdp.to_utc_timestamp('timestamp') }} as event_timestamp,
        {{ cdp.to_utc_timestamp('sent_at') }} as sent_at,
        {{ cdp.to_utc_timestamp('received_at') }} as received_at,
        cast(context as {{ dbt.type_string() }}) as context,
        cast(properties as {{ dbt.type_string() }}) as properties,
        cast(traits as {{ dbt.type_string() }}) as traits,
        -- A group call's `traits` describe the company (its name, email, phone, country),
        -- not the person: they never feed the person's traits or identifiers.
        case
            when coalesce(lower({{ cdp.clean_text('type') }}), '') <> 'group'
                then cast(traits as {{ dbt.type_string() }})
        end as person_traits,
        _file,
        _row_number,
        _loaded_at
    from source
),

parsed as (
    select
        message_id,
        event_type,
        event_name,
        anonymous_id,
        user_id,
        previous_id,
        group_id,
        event_source,
        {{ cdp.event_time('event_timestamp', 'sent_at', 'received_at') }} as event_at,
        event_timestamp as original_timestamp,
        sent_at,
        received_at,
        -- Segment puts page fields in `properties` for page calls and in `context.page`
        -- for every call: take either.
        coalesce(
            {{ cdp.json_value('properties', '$.path') }},
            {{ cdp.json_value('context', '$.page.path') }}
        ) as page_path,
        coalesce(
            {{ cdp.json_value('properties', '$.url') }},
            {{ cdp.json_value('context', '$.page.url') }}
        ) as page_url,
        coalesce(
            {{ cdp.json_value('properties', '$.referrer') }},
            {{ cdp.json_value('context', '$.page.referrer') }}
        ) as page_referrer,
        coalesce(
            {{ cdp.json_value('properties', '$.title') }},
            {{ cdp.json_value('context', '$.page.title') }}
        ) as page_title,
        -- A page or screen call's name and category: the top-level fields (analytics.js,
        -- RudderStack), else `properties` (Segment copies them there), else `context.page`.
        case
            when event_type in ('page', 'screen')
                then coalesce(
                    call_name,
                    {{ cdp.json_value('properties', '$.name') }},
                    {{ cdp.json_value('context', '$.page.name') }}
                )
        end as page_name,
        case
            when event_type in ('page', 'screen')
                then coalesce(
                    call_category,
                    {{ cdp.json_value('properties', '$.category') }},
                    {{ cdp.json_value('context', '$.page.category') }}
                )
        end as page_category,
        {{ cdp.json_value('context', '$.campaign.source') }} as utm_source,
        {{ cdp.json_value('context', '$.campaign.medium') }} as utm_medium,
        {{ cdp.json_value('context', '$.campaign.name') }} as utm_campaign,
        {{ cdp.json_value('context', '$.campaign.term') }} as utm_term,
        {{ cdp.json_value('context', '$.campaign.content') }} as utm_content,
        {{ cdp.clean_id(cdp.json_value('context', '$.device.id')) }} as device_id,
        lower({{ cdp.json_value('context', '$.device.type') }}) as device_type,
        {{ cdp.json_value('context', '$.userAgent') }} as user_agent,
        coalesce(
            {{ cdp.json_value('properties', '$.product_id') }},
            {{ cdp.json_value('properties', '$.productId') }}
        ) as product_id,
        {{ cdp.json_value('properties', '$.sku') }} as product_sku,
        {{ cdp.json_value('properties', '$.category') }} as product_category,
        {{ dbt.safe_cast(cdp.json_value('properties', '$.price'), 'decimal(38, 10)') }}
            as product_price,
        {{ dbt.safe_cast(cdp.json_value('properties', '$.quantity'), dbt.type_bigint()) }}
            as quantity,
        coalesce(
            {{ cdp.json_value('properties', '$.order_id') }},
            {{ cdp.json_value('properties', '$.orderId') }}
        ) as order_id,
        {{ dbt.safe_cast(
            "coalesce(" ~ cdp.json_value('properties', '$.revenue') ~ ", "
            ~ cdp.json_value('properties', '$.total') ~ ")",
            'decimal(38, 10)'
        ) }} as revenue,
        upper({{ cdp.json_value('properties', '$.currency') }}) as currency,
        -- Identity traits: identify calls carry `traits`, and SDKs (RudderStack, mobile)
        -- put them in `context.traits` on any call. Per trait, top-level `traits` wins over
        -- `context.traits` (what the call itself says over what the SDK cached); email
        -- engagement events name the recipient in properties.
        coalesce(
            {{ cdp.json_value('person_traits', '$.email') }},
            {{ cdp.json_value('context', '$.traits.email') }},
            case
                when event_name like 'Email %'
                    then {{ cdp.json_value('properties', '$.email') }}
            end
        ) as raw_email,
        coalesce(
            {{ cdp.json_value('person_traits', '$.phone') }},
            {{ cdp.json_value('context', '$.traits.phone') }}
        ) as raw_phone,
        coalesce(
            {{ cdp.json_value('person_traits', '$.first_name') }},
            {{ cdp.json_value('person_traits', '$.firstName') }},
            {{ cdp.json_value('context', '$.traits.first_name') }},
            {{ cdp.json_value('context', '$.traits.firstName') }}
        ) as raw_first_name,
        coalesce(
            {{ cdp.json_value('person_traits', '$.last_name') }},
            {{ cdp.json_value('person_traits', '$.lastName') }},
            {{ cdp.json_value('context', '$.traits.last_name') }},
            {{ cdp.json_value('context', '$.traits.lastName') }}
        ) as raw_last_name,
        -- The country a national phone is read with; the IP's location comes last.
        coalesce(
            {{ cdp.json_value('person_traits', '$.country') }},
            {{ cdp.json_value('person_traits', '$.address.country') }},
            {{ cdp.json_value('context', '$.traits.country') }},
            {{ cdp.json_value('context', '$.traits.address.country') }},
            {{ cdp.json_value('context', '$.location.country') }}
        ) as raw_country,
        context,
        properties,
        traits,
        _file,
        _row_number,
        _loaded_at
    from renamed
),

normalised as (
    select
        *,
        {{ cdp.normalize_email('raw_email') }} as email,
        {{ cdp.normalize_phone('raw_phone', cdp.clean_country('raw_country')) }} as phone,
        {{ cdp.clean_text('raw_first_name') }} as first_name,
        {{ cdp.clean_text('raw_last_name') }} as last_name,
        {{ cdp.clean_country('raw_country') }} as country
    from parsed
),

deduplicated as (
    select
        *,
        -- At-least-once delivery: the first delivery of a message_id is the one kept.
        row_number() over (
            partition by {{ cdp.version_partition(['message_id']) }}
            order by _loaded_at, _file, _row_number
        ) as _delivery_rank,
        count(*) over (partition by {{ cdp.version_partition(['message_id']) }}) as _version_count
    from normalised
),

validated as (
    select
        *,
        cast(event_at as date) as event_date,
        case when event_type = 'screen' then page_name end as screen_name,
        coalesce(event_name like 'Email %', false) as is_email_event,
        {{ cdp.quarantine_reason([
            ("message_id is null", "missing key: message_id"),
            ("coalesce(event_type, '') not in ('track', 'page', 'screen', 'identify', 'group', 'alias')", "unknown event type"),
            ("event_type = 'track' and event_name is null", "track call without event name"),
            ("event_type = 'alias' and (previous_id is null or user_id is null)", "alias without previous_id and user_id"),
            ("event_type = 'group' and group_id is null", "group call without group_id"),
            ("event_at is null", "missing timestamp"),
            (cdp.is_future('event_at'), "timestamp in the future"),
        ]) }} as _quarantine_reason
    from deduplicated
    where _delivery_rank = 1
)

select
    message_id,
    event_type,
    event_name,
    anonymous_id,
    user_id,
    previous_id,
    group_id,
    event_source,
    event_at,
    event_date,
    original_timestamp,
    sent_at,
    received_at,
    page_path,
    page_url,
    page_referrer,
    page_title,
    page_name,
    page_category,
    screen_name,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    device_id,
    device_type,
    user_agent,
    product_id,
    product_sku,
    product_category,
    product_price,
    quantity,
    order_id,
    revenue,
    currency,
    email,
    phone,
    first_name,
    last_name,
    country,
    is_email_event,
    context,
    properties,
    traits,
    _version_count,
    _quarantine_reason,
    _file,
    _row_number,
    _loaded_at
from validated
