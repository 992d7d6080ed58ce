--
-- The extension as installed: version, preload, reinstall.
--
-- The library and the install script carry the same version.
SELECT ironlayer.version() = extversion AS same_version
  FROM pg_extension WHERE extname = 'ironlayer';
SELECT ironlayer.version() ~ '^[0-9]+\.[0-9]+\.[0-9]+$' AS semver;
SELECT ironlayer.preloaded();
SELECT 'ironlayer' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))
  AS in_shared_preload_libraries;

-- Not relocatable, fixed schema.
SELECT extrelocatable, extnamespace::regnamespace FROM pg_extension WHERE extname = 'ironlayer';
ALTER EXTENSION ironlayer SET SCHEMA public;

-- The prefix is reserved: no placeholder setting can pass for ours.
SET ironlayer.tenant = 'anything';
SELECT set_config('ironlayer.current_tenant', '00000000-0000-0000-0000-000000000000', false);

-- Drop and reinstall in the same database: the group roles outlive the
-- extension and are reused.
DROP EXTENSION ironlayer;
SELECT count(*) AS group_roles FROM pg_roles
 WHERE rolname IN ('ironlayer_viewer', 'ironlayer_engineer', 'ironlayer_admin', 'ironlayer_worker');
CREATE EXTENSION ironlayer;
SELECT count(*) > 0 AS reinstalled FROM pg_proc WHERE pronamespace = 'ironlayer'::regnamespace;
