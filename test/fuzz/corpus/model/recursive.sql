WITH RECURSIVE tree (id, parent, depth) AS (
  SELECT id, parent, 0 FROM org.nodes WHERE parent IS NULL
  UNION ALL
  SELECT n.id, n.parent, t.depth + 1 FROM org.nodes n JOIN tree t ON n.parent = t.id
)
SELECT * FROM tree
