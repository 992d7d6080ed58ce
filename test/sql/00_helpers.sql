--
-- Helpers shared by the regression tests that follow (pg_regress runs the
-- files in name order, in one database).
--
-- try(sql): 'ok', or the SQLSTATE and message of the error it raised.
CREATE FUNCTION public.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT try('SELECT 1') AS ok, try('SELECT 1/0') AS error;
