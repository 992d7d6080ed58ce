SELECT `a``b`, `c"d`, 'it''s', "dq", E'x', `ünï` FROM `raw`.`my table` t -- from orders
/* join sales.orders */ JOIN {{ source('raw', 'events') }} USING (id)
