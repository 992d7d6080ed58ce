Cid,`k``2`,a.b
SELECT id, 1 AS `k``2` FROM daily UNION ALL SELECT 2, 3 FROM delta.`/mnt/p`
