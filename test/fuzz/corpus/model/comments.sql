/* header /* nested */ comment */
-- name: a.b
SELECT 1 -- trailing ; DROP TABLE x
/* ; */ FROM t
