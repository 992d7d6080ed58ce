-- name: raw.raw_customers
-- kind: FULL_REFRESH
-- owner: data-platform
-- tags: raw, crm
-- The CRM export as delivered: one row per customer version (a customer who
-- changed their details appears again with a newer updated_at).
SELECT
    customer_id,
    first_name,
    last_name,
    email,
    city,
    country,
    signup_at,
    marketing_opt_in,
    updated_at
FROM source.customers
