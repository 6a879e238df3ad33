-- Why: the relay looks for owed progress every second; these keep that lookup on the few running or
-- just-ended imports instead of every import that ever had a commandId.
CREATE INDEX imports_command_ended ON imports (end_time) WHERE command_id IS NOT NULL;
CREATE INDEX import_progress_open ON import_progress (req_id) WHERE status = 'Pending';
