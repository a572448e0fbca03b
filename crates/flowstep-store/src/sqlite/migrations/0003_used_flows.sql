-- Schema version 3 (see docs/store.md): each stored flow keeps the flows it uses through its
-- `flow` steps (recursively), so that a run resumes with the files it started with rather
-- than the files on disk. (Version 2 is the `runs_status` index.)

-- The engine's UsedFlows (JSON): every used file's name and text once, and which file each
-- `use:` found. NULL for a flow stored before version 3 (its used files were not kept).
ALTER TABLE flows ADD COLUMN used_json TEXT;
