-- Why: the rainbowvoice import report (contract §3.4 subscriberReport, sipDeviceReport, ddiReport)
-- counts what the applied lines did to the Cloud PBX. The per-line results do not keep a line's
-- voice plan, and reading the plan back at report time would mean re-planning; each chunk adds its
-- counts here in the transaction that records its results. NULL for the other modes.
ALTER TABLE imports ADD COLUMN voice_counts jsonb;
