-- name: staging.stg_customers
-- kind: MERGE_BY_KEY
-- materialization: MERGE
-- unique_key: customer_id
-- owner: analytics
-- tags: staging, crm
-- One row per customer: the latest version from the CRM export, cleaned.
WITH versions AS (
    SELECT
        c.*,
        row_number() OVER (PARTITION BY c.customer_id ORDER BY c.updated_at DESC) AS version_rank
    FROM raw.raw_customers AS c
)
SELECT
    customer_id,
    trim(first_name) AS first_name,
    trim(last_name) AS last_name,
    lower(trim(email)) AS email,
    city,
    upper(country) AS country_code,
    cast(signup_at AS date) AS signup_date,
    marketing_opt_in,
    updated_at
FROM versions
WHERE version_rank = 1
