-- NAME: A.B
--kind:incremental_by_time_range
-- time_column: `Ts`
-- dependencies: x, Y.z, c.s.t
SELECT 1
