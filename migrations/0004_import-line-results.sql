-- Why: recording a chunk's outcomes rewrote 1,000 wide import_lines rows (the parsed cells and the
-- raw line) per chunk, which cost about as much as applying the chunk. Outcomes are now appended to
-- a narrow table of their own; a line is applied when it has a result row. import_lines is written
-- once at intake, and again only to forget a password.
-- No foreign key: its per-row check would be paid on every result; deleteImport removes the results
-- in the same transaction as the import.
CREATE TABLE import_line_results (
  req_id      text NOT NULL,
  seq         integer NOT NULL,
  status      text NOT NULL CHECK (status IN ('success', 'failed', 'warning')),
  user_id     char(24),
  error_code  integer,
  error_msg   text,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (req_id, seq)
);

INSERT INTO import_line_results (req_id, seq, status, user_id, error_code, error_msg, applied_at)
  SELECT req_id, seq, status, user_id, error_code, error_msg, applied_at FROM import_lines WHERE applied_at IS NOT NULL;

ALTER TABLE import_lines DROP COLUMN status, DROP COLUMN user_id, DROP COLUMN error_code, DROP COLUMN error_msg, DROP COLUMN applied_at;
