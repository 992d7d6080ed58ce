SELECT 1 -- c
FROM t{# note #}
WHERE a = 1 -{##}- xDR{##}OP TABLE t
