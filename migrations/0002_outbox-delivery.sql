-- Why: an import command must end once (its end, a refusal, a POSTed report: whichever comes first
-- notifies, the others do not), and throttled import_status progress must be emitted once per step
-- even with several relays.

ALTER TABLE outbox ADD COLUMN dedupe_key text;
-- NULLs are distinct: rows without a key are never deduplicated.
CREATE UNIQUE INDEX outbox_dedupe_key ON outbox (dedupe_key);

-- Import commands ended before this migration: the first row per command keeps the key.
UPDATE outbox o SET dedupe_key = k.key
  FROM (SELECT DISTINCT ON (key) id, key FROM (
          SELECT id, created_at, 'command_ended:' || (payload->>'companyId') || ':import:' || (payload->>'commandId') AS key
            FROM outbox WHERE kind = 'command_ended' AND payload->>'kind' <> 'check') c
        ORDER BY key, created_at, id) k
 WHERE o.id = k.id;

-- What the last import_status of a synchronize with commandId said; seq numbers the messages.
CREATE TABLE import_progress (
  req_id      text PRIMARY KEY REFERENCES imports (req_id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  processed   integer NOT NULL,
  status      text NOT NULL,
  emitted_at  timestamptz NOT NULL DEFAULT now()
);

-- Imports that ended before this migration get no late progress message.
INSERT INTO import_progress (req_id, seq, processed, status)
SELECT req_id, 0, processed, status FROM imports WHERE command_id IS NOT NULL AND status <> 'Pending';
