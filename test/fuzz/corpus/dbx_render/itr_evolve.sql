ats
SELECT 'a\'b' AS s, ts FROM main.finance.revenue QUALIFY row_number() OVER (ORDER BY ts) = 1
