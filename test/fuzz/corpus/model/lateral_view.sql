SELECT t.id, e.item, p.pos FROM src.t t
LATERAL VIEW explode(t.items) e AS item
LATERAL VIEW OUTER posexplode(t.list) p AS pos, val
