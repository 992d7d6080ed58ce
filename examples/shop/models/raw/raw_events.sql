-- name: raw.raw_events
-- kind: APPEND_ONLY
-- time_column: event_date
-- owner: growth
-- tags: raw, web
-- Clickstream events of the web shop and the app.
WITH src AS (
    SELECT
        event_id,
        session_id,
        customer_id,
        event_type,
        occurred_at,
        cast(occurred_at AS date) AS event_date,
        product_id,
        device
    FROM source.events
)
SELECT *
FROM src
WHERE event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
