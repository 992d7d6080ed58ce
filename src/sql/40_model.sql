-- Model files: the parser and the SQL guard of the core (docs/model-format.md).
-- Pure functions of their input: immutable, parallel safe, open to everyone.

CREATE FUNCTION @extschema@.parse_model(sql text) RETURNS jsonb
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_parse_model';
COMMENT ON FUNCTION @extschema@.parse_model(text) IS
	'parse a model file: header, references, statement kind, SQL guard and fingerprint';

CREATE FUNCTION @extschema@.sql_guard(sql text) RETURNS jsonb
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'ironlayer_sql_guard';
COMMENT ON FUNCTION @extschema@.sql_guard(text) IS
	'judge SQL text: exactly one statement, nothing destructive; {"ok", "violations"}';
