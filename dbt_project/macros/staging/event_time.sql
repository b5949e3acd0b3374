{#
    When an event happened, corrected for a device clock that is wrong.

    A tracking SDK stamps `timestamp` (Segment's originalTimestamp) and `sent_at` with the
    device's clock and the collector stamps `received_at` with its own. When the two clocks
    disagree by more than var `cdp_clock_skew_tolerance_seconds`, the device's clock is
    off by about that difference, and the event time is Segment's and RudderStack's
    correction: received_at - (sent_at - timestamp). Within the tolerance (network
    latency, a retry) the device's time is kept as it is. No `timestamp`: `sent_at` stands
    in for it; no `sent_at`: nothing to measure the skew by, so the time is taken as
    given, else `received_at`. The var set to null turns the correction off (for exports
    whose `timestamp` is already corrected; docs/own-data.md).
#}
{% macro event_time(timestamp, sent_at, received_at) -%}
    {%- set tolerance = var('cdp_clock_skew_tolerance_seconds', none) -%}
    {%- if tolerance is none -%}
        coalesce({{ timestamp }}, {{ sent_at }}, {{ received_at }})
    {%- else -%}
        case
            when
                {{ received_at }} > {{ cdp.add_seconds(sent_at, tolerance) }}
                or {{ received_at }} < {{ cdp.add_seconds(sent_at, -1 * tolerance) }}
                then {{ received_at }} - ({{ sent_at }} - coalesce({{ timestamp }}, {{ sent_at }}))
            else coalesce({{ timestamp }}, {{ sent_at }}, {{ received_at }})
        end
    {%- endif -%}
{%- endmacro %}
