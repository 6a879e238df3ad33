-- Why: issue 18, revert of an import. Each applied line keeps what it changed, as it was just before
-- and as the line left it (its before-image: user fields, password hash, deletion, numbers), in the
-- same row and transaction as its result, so the revert never guesses. A revert is an import of
-- operation 'revert' naming the import it undoes; at most one revert per import (the unique index),
-- which also answers "which revert undid this import" (revertedBy) with one index probe.
ALTER TABLE import_line_results ADD COLUMN undo jsonb;
ALTER TABLE imports ADD COLUMN reverts text;
ALTER TABLE imports DROP CONSTRAINT imports_operation_check;
ALTER TABLE imports ADD CONSTRAINT imports_operation_check CHECK (operation IN ('import', 'synchronize', 'rainbowvoice', 'revert'));
CREATE UNIQUE INDEX imports_reverts ON imports (reverts) WHERE reverts IS NOT NULL;
