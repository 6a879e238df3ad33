-- Why: D16 adds the Cancelled state (an admin stopped the import). Failed already existed but nothing
-- wrote it; both now end an import the way Terminated does. imports.updated_at is the import's
-- progress clock (intake, a worker taking it up, each chunk's commit) that the stall watchdog reads.
ALTER TABLE imports DROP CONSTRAINT imports_status_check;
ALTER TABLE imports ADD CONSTRAINT imports_status_check CHECK (status IN ('Pending', 'Terminated', 'Failed', 'Cancelled'));
