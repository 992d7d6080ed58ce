SELECT raw:user.id::string AS uid, raw:items[0].price::double AS p,
  transform(tags, t -> upper(t)) AS ut, filter(xs, (x, i) -> x > i) AS f,
  aggregate(vals, 0D, (acc, x) -> acc + x) AS total, a <=> b AS same
FROM bronze.events
