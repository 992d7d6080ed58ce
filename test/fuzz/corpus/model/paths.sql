SELECT * FROM delta.`/mnt/data/x` JOIN parquet.`s3://bucket/p/*.parquet` USING (k)
UNION ALL SELECT * FROM read_files('/Volumes/a/b', format => 'csv')
