-- The shop's next day: source rows of 2026-02-01, the day after seed.sql's
-- last one, for a refresh plan to load (docs/schedules.md, make demo).
--
-- PostgreSQL. Deterministic like seed.sql (generate_series and arithmetic
-- only). Idempotent: it deletes the rows of 2026-02-01 first, so it can run
-- again. Run seed.sql first.
--
-- Volumes: 30 orders, their lines and payments, 200 sessions of events.
--
--   psql -v ON_ERROR_STOP=1 -f next_day.sql

\set ON_ERROR_STOP on
SET client_min_messages = warning;

BEGIN;

DELETE FROM source.payments WHERE order_id BETWEEN 3001 AND 3030;
DELETE FROM source.order_items WHERE order_id BETWEEN 3001 AND 3030;
DELETE FROM source.orders WHERE order_id BETWEEN 3001 AND 3030;
DELETE FROM source.events WHERE session_id BETWEEN 's020001' AND 's020200';

-- 30 orders placed through the day, all just placed or shipped
INSERT INTO source.orders
SELECT o,
       1 + (o * 193) % 380,
       timestamp '2026-02-01 00:20' + (o - 3001) * interval '47 minutes',
       CASE WHEN o % 2 = 0 THEN 'placed' ELSE 'shipped' END,
       CASE o % 10 WHEN 5 THEN 'app' WHEN 6 THEN 'app' WHEN 8 THEN 'marketplace' ELSE 'web' END,
       'EUR',
       CASE WHEN o % 4 = 0 THEN 0.00 ELSE 4.95 END,
       CASE WHEN o % 9 = 0 THEN 'welcome10' ELSE NULL END
FROM generate_series(3001, 3030) AS o;

INSERT INTO source.order_items
SELECT o.order_id * 10 + l.line_no,
       o.order_id,
       p.product_id,
       1 + (o.order_id + l.line_no) % 3,
       p.unit_price,
       round((1 + (o.order_id + l.line_no) % 3) * p.unit_price
             * CASE WHEN o.discount_code IS NOT NULL THEN 0.10 ELSE 0 END, 2)
FROM source.orders AS o
CROSS JOIN generate_series(1, 3) AS l(line_no)
JOIN source.products AS p ON p.product_id = 1 + (o.order_id * 31 + l.line_no * 17) % 50
WHERE o.order_id BETWEEN 3001 AND 3030 AND l.line_no <= 1 + o.order_id % 3;

INSERT INTO source.payments
SELECT o.order_id * 10 + 3, o.order_id, o.ordered_at + interval '5 minutes', 'card',
       sum(i.quantity * i.unit_price - i.discount_amount) + o.shipping_amount, 'succeeded'
FROM source.orders AS o
JOIN source.order_items AS i ON i.order_id = o.order_id
WHERE o.order_id BETWEEN 3001 AND 3030
GROUP BY o.order_id, o.ordered_at, o.shipping_amount;

-- 200 sessions: every one views a page, half view a product, a tenth buy
INSERT INTO source.events
SELECT s * 10 + st, 's' || lpad(s::text, 6, '0'),
       CASE WHEN s % 3 = 0 THEN NULL ELSE 1 + (s * 53) % 400 END,
       CASE st WHEN 1 THEN 'page_view' WHEN 4 THEN 'product_view' ELSE 'purchase' END,
       timestamp '2026-02-01 00:05' + (s - 20001) * interval '7 minutes' + st * interval '30 seconds',
       CASE WHEN st = 4 THEN 1 + (s * 7) % 50 END,
       CASE s % 2 WHEN 0 THEN 'desktop' ELSE 'mobile' END
FROM generate_series(20001, 20200) AS s
JOIN (VALUES (1), (4), (7)) AS v(st)
  ON CASE st WHEN 1 THEN true WHEN 4 THEN s % 2 = 0 ELSE s % 10 = 0 END;

COMMIT;
