-- Schema version 4 (see docs/store.md, "Waking workers"): every run that becomes `queued` (a new
-- run, one woken by its event or deadline, one handed back) sends a notification on channel
-- `flowstep_work` when its transaction commits, so that workers LISTENing on it claim at once
-- instead of polling. Postgres sends one notification per transaction for equal payloads, so a
-- batch of timers fired together wakes the workers once.
CREATE FUNCTION flowstep_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('flowstep_work', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_notify_work
    AFTER INSERT OR UPDATE OF status ON runs
    FOR EACH ROW WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION flowstep_notify_work();
