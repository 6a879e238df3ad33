-- Why: OAuth 2.0 authorization-code grant (D17, issue 14). Applications become OAuth clients; sign-in
-- flows, codes, token families and refresh tokens get rows, every secret of them stored as a sha256
-- (each is 32 random bytes: high entropy, so a fast hash suffices and lookups stay indexed).

ALTER TABLE applications ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}';
-- NULL: a public client (PKCE only). Separate from secret_encrypted, which the SDK digest needs in clear.
ALTER TABLE applications ADD COLUMN client_secret_hash text;
ALTER TABLE applications ADD COLUMN oauth_scopes text[] NOT NULL DEFAULT '{massprovisioning,massprovisioning:read}';

-- An authorization request between the sign-in page and the consent: held here, not in the browser,
-- and bound to the browser by a cookie whose hash is binding_hash (the forms' CSRF defence).
CREATE TABLE oauth_flows (
  id_hash         text PRIMARY KEY,
  binding_hash    text NOT NULL,
  client_id       char(24) NOT NULL REFERENCES applications (id),
  redirect_uri    text NOT NULL,
  state           text,
  code_challenge  text NOT NULL,
  scope           text NOT NULL,
  user_id         char(24) REFERENCES users (id),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

CREATE TABLE oauth_codes (
  code_hash       text PRIMARY KEY,
  client_id       char(24) NOT NULL REFERENCES applications (id),
  user_id         char(24) NOT NULL REFERENCES users (id),
  redirect_uri    text NOT NULL,
  code_challenge  text NOT NULL,
  scope           text NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- Every token obtained from one code, through all its refreshes. Revoking the family ends its refresh
-- token and, through the sid claim checked by authenticate, its access tokens.
CREATE TABLE oauth_families (
  id          char(24) PRIMARY KEY,
  client_id   char(24) NOT NULL REFERENCES applications (id),
  user_id     char(24) NOT NULL REFERENCES users (id),
  scope       text NOT NULL,
  code_hash   text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX oauth_families_user ON oauth_families (user_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_families_code ON oauth_families (code_hash);

CREATE TABLE oauth_refresh_tokens (
  token_hash  text PRIMARY KEY,
  family_id   char(24) NOT NULL REFERENCES oauth_families (id),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_expiry ON oauth_refresh_tokens (expires_at);

-- A new password (a CSV update, a sync, any later path), a deletion or a deactivation ends the user's
-- OAuth sessions in the transaction that made the change, whichever code wrote it.
CREATE FUNCTION oauth_revoke_user_families () RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE oauth_families SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
  RETURN NULL;
END
$$;

CREATE TRIGGER users_oauth_revoke AFTER UPDATE OF password_hash, deleted_at, is_active ON users
  FOR EACH ROW
  WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
        OR (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
        OR (OLD.is_active AND NOT NEW.is_active))
  EXECUTE FUNCTION oauth_revoke_user_families();
