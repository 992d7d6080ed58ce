SELECT user_id, ts,
  lag(ts) OVER w AS prev_ts,
  sum(amount) OVER (PARTITION BY user_id ORDER BY ts ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS r7
FROM silver.payments
WINDOW w AS (PARTITION BY user_id ORDER BY ts)
QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts DESC) <= 10
