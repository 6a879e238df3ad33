-- Why: the SDK's API-key mode (x-rainbow-api-key) authenticates as a user without a login; each key
-- is shown once, stored only as its SHA-256 (a 32-byte random key needs no slow hash, and the lookup
-- stays indexed) and revocable. users.ldap_id already exists (0001): no column for it here.
CREATE TABLE user_api_keys (
  id          char(24) PRIMARY KEY,
  user_id     char(24) NOT NULL REFERENCES users (id),
  key_hash    text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX user_api_keys_user ON user_api_keys (user_id);
