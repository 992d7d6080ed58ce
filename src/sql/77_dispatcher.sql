-- STAND-IN (handover part, issue 14) until the dispatch part lands: its
-- 77_dispatcher.sql replaces this file. The coordinator drops this commit.
CREATE FUNCTION @extschema@._wake_dispatcher() RETURNS void
	LANGUAGE sql VOLATILE AS $$ SELECT $$;
REVOKE ALL ON FUNCTION @extschema@._wake_dispatcher() FROM PUBLIC;
