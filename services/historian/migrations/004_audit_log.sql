-- ohmwatch history, version 4: the audit trail.
--
-- Every change made through alarmd (a threshold, a baseline, an alarm
-- acknowledged, a GX_R_AUX output switched, a capacity test tagged, a
-- reload of the site file) arrives as a config message naming who made
-- it (docs/audit.md). config_changes keeps the settings' values for the
-- Grafana panels; audit_log keeps every change with its author, as text,
-- so that an ack and a breaker command sit beside a threshold.
CREATE TABLE audit_log (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    who text NOT NULL,       -- requester identity, /user for a front-end's person
    what text NOT NULL,      -- setting key, ack.ID, output.N, baseline.module.N, captest.string.N
    old text NOT NULL,       -- the value before, as text ('' if none)
    new text NOT NULL,       -- the value after, as text
    source text NOT NULL,    -- control, command, reload, state
    value double precision,  -- the numbers, when the change has them
    old_value double precision,
    PRIMARY KEY (gw, what, ts)
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_who ON audit_log (who, ts);
