Bd
SELECT d, x FROM {{ source('raw', 'ev`x') }} LATERAL VIEW explode(a) AS x
