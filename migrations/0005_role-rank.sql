-- Why: D12 says a caller may change only users whose roles it could grant itself. The rank of a user
-- is decided here once, so the planner, the apply-time re-check and the admin read routes compare
-- the same number and cannot drift apart.
--   0 a plain user, 1 a company or site administrator, 2 an organization administrator,
--   3 a superadmin, and also any other administrator (an admin role without a known type): an unknown
--   kind of administrator is out of reach of everyone but a superadmin.
ALTER TABLE users ADD COLUMN role_rank smallint GENERATED ALWAYS AS (
  CASE
    WHEN 'superadmin' = ANY (roles) OR admin_type = 'superadmin' THEN 3
    WHEN admin_type = 'organization_admin' THEN 2
    WHEN admin_type IN ('company_admin', 'site_admin') THEN 1
    WHEN 'admin' = ANY (roles) THEN 3
    ELSE 0
  END
) STORED;
