-- name: analytics.events
-- kind: INCREMENTAL_BY_TIME_RANGE
-- materialization: INSERT_OVERWRITE
-- time_column: event_date
-- partition_by: event_date
INSERT OVERWRITE TABLE analytics.events
SELECT e.*, u.country
FROM {{ ref('raw_events') }} e
JOIN analytics.users u ON e.user_id = u.id
WHERE e.event_date BETWEEN '{{ start_date }}' AND '{{ end_date }}'
