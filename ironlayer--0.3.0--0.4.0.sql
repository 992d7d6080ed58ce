-- ironlayer 0.3.0 -> 0.4.0 upgrade script (ALTER EXTENSION ironlayer UPDATE).
--
-- It turns an install of 0.3.0 into what src/sql/ installs in 0.4.0. Every
-- change to src/sql/ adds its statements here in the same commit, after a
-- line naming the part it changed ("-- src/sql/NN_part.sql"; parts in name
-- order), written as in src/sql/: @extschema@ for the schema,
-- 'MODULE_PATHNAME' for the library, operators qualified. The rules of
-- ironlayer--0.1.0--0.2.0.sql hold here too; test/sql/upgrade.sql compares
-- an install updated along the chain with a fresh one.
\echo Use "ALTER EXTENSION ironlayer UPDATE TO '0.4.0'" to load this file. \quit
