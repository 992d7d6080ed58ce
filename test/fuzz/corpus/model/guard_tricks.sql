SELECT deleted_at, 'DROP TABLE t', `drop` FROM t; -- ;
DrOp TaBlE x; GRANT SELECT ON t TO u; EXECUTE IMMEDIATE 'x'