-- Source data for the shop example: the tables the raw models read.
--
-- PostgreSQL. Deterministic: every value comes from generate_series and
-- arithmetic on the row numbers (no random(), no now()), so the same seed
-- always gives the same rows. Idempotent: it drops and recreates schema
-- "source" (and everything that depends on it).
--
-- Volumes: 400 customers (+20 change rows), 50 products, 3,000 orders placed
-- 2025-10-01 .. 2026-01-31, ~6,400 order lines, ~3,000 payments, ~70,000
-- web/app events in 20,000 sessions.
--
-- The data is a little messy on purpose, as source data is: statuses and
-- channels in mixed case with stray spaces, empty discount codes, upper-case
-- e-mails, customers exported again after a change (several rows for one
-- customer_id), failed payment attempts, refunds.
--
--   psql -v ON_ERROR_STOP=1 -f seed.sql

\set ON_ERROR_STOP on
SET client_min_messages = warning;

BEGIN;

DROP SCHEMA IF EXISTS source CASCADE;
CREATE SCHEMA source;

-- ---------------------------------------------------------------------------
-- customers: a CRM export; a customer changed later appears again with a
-- newer updated_at (the staging model keeps the latest row).
-- ---------------------------------------------------------------------------
CREATE TABLE source.customers (
    customer_id       integer      NOT NULL,
    first_name        text         NOT NULL,
    last_name         text         NOT NULL,
    email             text         NOT NULL,
    city              text         NOT NULL,
    country           text         NOT NULL,
    signup_at         timestamp    NOT NULL,
    marketing_opt_in  boolean      NOT NULL,
    updated_at        timestamp    NOT NULL
);

WITH names AS (
    SELECT ARRAY['Anna','Ben','Clara','David','Emma','Felix','Greta','Hugo','Ida','Jonas',
                 'Karla','Leon','Mia','Noah','Olivia','Paul','Quinn','Rosa','Samuel','Tara',
                 'Umut','Vera','Willem','Xenia','Yusuf','Zoe','Lucas','Sofia','Mateo','Nora'] AS first_names,
           ARRAY['Schmidt','Martin','Rossi','Dubois','Novak','Jansen','Berg','Costa','Keller','Fischer',
                 'Moreau','Silva','Weber','Lindqvist','Kowalski','Horvat','Bauer','Romano','Laurent','Meyer',
                 'Nielsen','Ferreira','Wagner','Peeters','Hansen','Lopez','Brandt','Conti','Vogel','Marino'] AS last_names,
           ARRAY['Berlin','Hamburg','Munich','Paris','Lyon','Milan','Rome','Madrid','Lisbon','Amsterdam',
                 'Rotterdam','Vienna','Zurich','Copenhagen','Stockholm','Warsaw','Prague','Brussels','Dublin','Oslo'] AS cities,
           ARRAY['DE','DE','DE','FR','FR','IT','IT','ES','PT','NL',
                 'NL','AT','CH','DK','SE','PL','CZ','BE','IE','NO'] AS countries,
           ARRAY['mail.example','post.example','inbox.example','webmail.example','shopper.example'] AS domains
), base AS (
    SELECT c AS customer_id,
           n.first_names[1 + c % 30] AS first_name,
           n.last_names[1 + (c * 7) % 30] AS last_name,
           n.domains[1 + c % 5] AS domain,
           n.cities[1 + (c * 3) % 20] AS city,
           n.countries[1 + (c * 3) % 20] AS country,
           n.cities[1 + (c * 3 + 7) % 20] AS new_city,
           n.countries[1 + (c * 3 + 7) % 20] AS new_country,
           timestamp '2024-06-01 08:00' + (c * 487 % 480) * interval '1 day'
               + (c * 631 % 36000) * interval '1 second' AS signup_at
    FROM generate_series(1, 400) AS c, names AS n
)
INSERT INTO source.customers
SELECT customer_id,
       CASE WHEN customer_id % 23 = 0 THEN first_name || ' ' ELSE first_name END,
       last_name,
       CASE WHEN customer_id % 17 = 0
            THEN upper(first_name || '.' || last_name || customer_id || '@' || domain)
            ELSE lower(first_name || '.' || last_name || customer_id || '@' || domain) END,
       city,
       country,
       signup_at,
       customer_id % 3 <> 0,
       signup_at
FROM base
UNION ALL
-- every 20th customer moved (and changed the e-mail address) in November 2025
SELECT customer_id,
       first_name,
       last_name,
       lower(first_name || '.' || last_name || customer_id || '@new.' || domain),
       new_city,
       new_country,
       signup_at,
       true,
       timestamp '2025-11-15 09:00' + customer_id * interval '1 hour'
FROM base
WHERE customer_id % 20 = 0;

-- ---------------------------------------------------------------------------
-- products: 50 products in 5 categories.
-- ---------------------------------------------------------------------------
CREATE TABLE source.products (
    product_id  integer        PRIMARY KEY,
    sku         text           NOT NULL,
    product_name text          NOT NULL,
    category    text           NOT NULL,
    unit_price  numeric(10,2)  NOT NULL,
    unit_cost   numeric(10,2)  NOT NULL,
    is_active   boolean        NOT NULL,
    created_at  timestamp      NOT NULL
);

WITH words AS (
    SELECT ARRAY['apparel','footwear','accessories','home','outdoor'] AS categories,
           ARRAY['Classic','Everyday','Urban','Alpine','Coastal','Nordic','Vintage','Trail','Studio','Summit'] AS adjectives,
           ARRAY['Hoodie','Sneaker','Backpack','Blanket','Tent'] AS nouns_a,
           ARRAY['T-Shirt','Boot','Wallet','Mug','Jacket'] AS nouns_b
)
INSERT INTO source.products
SELECT p,
       upper(substr(w.categories[1 + p % 5], 1, 3)) || '-' || lpad(p::text, 4, '0'),
       w.adjectives[1 + (p / 5) % 10] || ' ' ||
           CASE WHEN p % 2 = 0 THEN w.nouns_a[1 + p % 5] ELSE w.nouns_b[1 + p % 5] END,
       w.categories[1 + p % 5],
       (10 + (p * 37) % 140) + 0.99,
       round(((10 + (p * 37) % 140) + 0.99) * (0.40 + (p % 5) * 0.05), 2),
       p % 13 <> 0,
       timestamp '2024-01-15 10:00' + p * interval '5 days'
FROM generate_series(1, 50) AS p, words AS w;

-- ---------------------------------------------------------------------------
-- orders: 3,000 orders spread evenly over 2025-10-01 .. 2026-01-31
-- (123 days); recent ones are not delivered yet.
-- ---------------------------------------------------------------------------
CREATE TABLE source.orders (
    order_id         integer        PRIMARY KEY,
    customer_id      integer        NOT NULL,
    ordered_at       timestamp      NOT NULL,
    status           text           NOT NULL,
    channel          text           NOT NULL,
    currency         text           NOT NULL,
    shipping_amount  numeric(10,2)  NOT NULL,
    discount_code    text
);

WITH o AS (
    SELECT o AS order_id,
           -- a third of the orders come from the 60 most loyal customers;
           -- customers 381..400 signed up but never ordered
           CASE WHEN o % 3 = 0 THEN 1 + (o * 17) % 60 ELSE 1 + (o * 193) % 380 END AS customer_id,
           timestamp '2025-10-01 00:00'
               + ((o - 1)::bigint * 10627200 / 3000) * interval '1 second'
               + ((o * 7919) % 3000) * interval '1 second' AS ordered_at
    FROM generate_series(1, 3000) AS o
), s AS (
    SELECT o.*,
           CASE WHEN order_id % 41 = 0 THEN 'cancelled'
                WHEN order_id % 29 = 0 THEN 'returned'
                WHEN ordered_at >= timestamp '2026-01-29' THEN
                    CASE WHEN order_id % 2 = 0 THEN 'placed' ELSE 'shipped' END
                WHEN ordered_at >= timestamp '2026-01-24' THEN 'shipped'
                ELSE 'delivered' END AS status,
           CASE order_id % 10 WHEN 5 THEN 'app' WHEN 6 THEN 'app' WHEN 7 THEN 'app'
                              WHEN 8 THEN 'marketplace' ELSE 'web' END AS channel
    FROM o
)
INSERT INTO source.orders
SELECT order_id,
       customer_id,
       ordered_at,
       CASE WHEN order_id % 10 = 3 THEN initcap(status)
            WHEN order_id % 50 = 7 THEN status || ' '
            ELSE status END,
       CASE WHEN order_id % 20 = 9 THEN upper(channel) ELSE channel END,
       'EUR',
       CASE WHEN channel = 'marketplace' OR order_id % 4 = 0 THEN 0.00 ELSE 4.95 END,
       CASE WHEN ordered_at >= timestamp '2025-11-28' AND ordered_at < timestamp '2025-12-02'
                 AND order_id % 3 <> 0 THEN 'BLACKFRIDAY25'
            WHEN order_id % 9 = 0 THEN 'welcome10'
            WHEN order_id % 31 = 0 THEN ''
            ELSE NULL END
FROM s;

-- ---------------------------------------------------------------------------
-- order_items: 1 to 4 lines per order; the discount of the order's code is
-- applied per line.
-- ---------------------------------------------------------------------------
CREATE TABLE source.order_items (
    order_item_id    integer        PRIMARY KEY,
    order_id         integer        NOT NULL,
    product_id       integer        NOT NULL,
    quantity         integer        NOT NULL,
    unit_price       numeric(10,2)  NOT NULL,
    discount_amount  numeric(10,2)  NOT NULL
);

INSERT INTO source.order_items
SELECT o.order_id * 10 + l.line_no,
       o.order_id,
       p.product_id,
       q.quantity,
       p.unit_price,
       round(q.quantity * p.unit_price *
             CASE upper(coalesce(o.discount_code, ''))
                  WHEN 'BLACKFRIDAY25' THEN 0.25
                  WHEN 'WELCOME10' THEN 0.10
                  ELSE 0 END, 2)
FROM source.orders AS o
CROSS JOIN generate_series(1, 4) AS l(line_no)
CROSS JOIN LATERAL (SELECT 1 + ((o.order_id + l.line_no) % 5) / 3
                          + CASE WHEN o.order_id % 23 = 0 THEN 2 ELSE 0 END AS quantity) AS q
JOIN source.products AS p ON p.product_id = 1 + (o.order_id * 31 + l.line_no * 17) % 50
WHERE l.line_no <= 1 + (o.order_id * 5 % 7) % 4;

-- ---------------------------------------------------------------------------
-- payments: one payment per order (two for gift-card orders), a failed
-- attempt before some, a refund for returned orders; nothing for cancelled
-- orders and for some orders just placed.
-- ---------------------------------------------------------------------------
CREATE TABLE source.payments (
    payment_id  integer        PRIMARY KEY,
    order_id    integer        NOT NULL,
    paid_at     timestamp      NOT NULL,
    method      text           NOT NULL,
    amount      numeric(10,2)  NOT NULL,
    status      text           NOT NULL
);

WITH totals AS (
    SELECT o.order_id,
           trim(lower(o.status)) AS status,
           o.ordered_at + ((o.order_id * 13) % 50 + 1) * interval '1 minute' AS paid_at,
           sum(i.quantity * i.unit_price - i.discount_amount) + o.shipping_amount AS total,
           CASE WHEN o.order_id % 20 < 12 THEN 'card'
                WHEN o.order_id % 20 < 16 THEN 'PayPal'
                WHEN o.order_id % 20 < 19 THEN 'klarna'
                ELSE 'Card' END AS method
    FROM source.orders AS o
    JOIN source.order_items AS i ON i.order_id = o.order_id
    GROUP BY o.order_id, o.status, o.ordered_at, o.shipping_amount
), payable AS (
    SELECT * FROM totals
    WHERE status <> 'cancelled' AND NOT (status = 'placed' AND order_id % 4 = 0)
)
INSERT INTO source.payments
-- a failed card attempt first
SELECT order_id * 10 + 1, order_id, paid_at - interval '3 minutes', 'card', total, 'failed'
FROM payable WHERE order_id % 47 = 0
UNION ALL
-- gift-card orders: 20.00 (or less) on the gift card, the rest on the card
SELECT order_id * 10 + 2, order_id, paid_at, 'gift_card', least(total, 20.00), 'succeeded'
FROM payable WHERE order_id % 25 = 0
UNION ALL
SELECT order_id * 10 + 3, order_id, paid_at,
       CASE WHEN order_id % 25 = 0 THEN 'card' ELSE method END,
       CASE WHEN order_id % 25 = 0 THEN total - least(total, 20.00) ELSE total END,
       CASE WHEN order_id % 100 = 1 THEN 'SUCCEEDED' ELSE 'succeeded' END
FROM payable WHERE NOT (order_id % 25 = 0 AND total <= 20.00)
UNION ALL
-- refunds of returned orders, eight days later
SELECT order_id * 10 + 4, order_id, paid_at + interval '8 days', method, total, 'refunded'
FROM payable WHERE status = 'returned';

-- ---------------------------------------------------------------------------
-- events: web/app clickstream, 20,000 sessions; every session views pages,
-- fewer view a product, add to cart, start checkout, purchase.
-- ---------------------------------------------------------------------------
CREATE TABLE source.events (
    event_id     bigint     PRIMARY KEY,
    session_id   text       NOT NULL,
    customer_id  integer,
    event_type   text       NOT NULL,
    occurred_at  timestamp  NOT NULL,
    product_id   integer,
    device       text       NOT NULL
);

WITH sessions AS (
    SELECT s AS session_no,
           's' || lpad(s::text, 6, '0') AS session_id,
           CASE WHEN s % 3 = 0 THEN NULL ELSE 1 + (s * 53) % 400 END AS customer_id,
           timestamp '2025-10-01 00:00'
               + ((s - 1)::bigint * 10627200 / 20000) * interval '1 second'
               + ((s * 7) % 400) * interval '1 second' AS started_at,
           CASE s % 5 WHEN 0 THEN 'desktop' WHEN 1 THEN 'desktop' WHEN 4 THEN 'tablet' ELSE 'mobile' END AS device
    FROM generate_series(1, 20000) AS s
), steps (step_no, event_type) AS (
    VALUES (1, 'page_view'), (2, 'page_view'), (3, 'page_view'), (4, 'product_view'),
           (5, 'add_to_cart'), (6, 'checkout_started'), (7, 'purchase')
)
INSERT INTO source.events
SELECT s.session_no * 10 + st.step_no,
       s.session_id,
       s.customer_id,
       st.event_type,
       s.started_at + st.step_no * (s.session_no % 5 + 1) * interval '20 seconds',
       CASE WHEN st.event_type IN ('product_view', 'add_to_cart') THEN 1 + (s.session_no * 7) % 50 END,
       s.device
FROM sessions AS s
JOIN steps AS st ON CASE st.step_no
                        WHEN 1 THEN true
                        WHEN 2 THEN s.session_no % 3 <> 0
                        WHEN 3 THEN s.session_no % 3 = 2
                        WHEN 4 THEN s.session_no % 10 < 8
                        WHEN 5 THEN s.session_no % 10 < 4
                        WHEN 6 THEN s.session_no % 20 < 4
                        ELSE s.session_no % 20 < 3
                    END;

COMMIT;

ANALYZE source.customers, source.products, source.orders, source.order_items,
        source.payments, source.events;
