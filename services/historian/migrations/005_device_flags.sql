-- ohmwatch history, version 5: a polled field device's own words.
--
-- busd publishes what a webmanager says about itself (its link, General,
-- Battery and Alarm Flags, strings and modules reported, each module's alarm
-- word) once per poll cycle. Those words change rarely; a row a second per
-- gateway, and 512 module rows a second beside it, would store the same
-- numbers over and over. The historian writes (devflags.c):
--   device_flags        a row when the link, a word or a count changes, the
--                       first message of each connection to PostgreSQL (so
--                       the history states the words after a restart or an
--                       outage), and at least every 10 minutes as a
--                       keep-alive (a flat panel is then known to be data);
--   device_module_flags a row when a module's word changes, and every
--                       module's word with the first message of a connection.
-- A replayed message makes no second row (keys, ON CONFLICT DO NOTHING).
CREATE TABLE device_flags (
    ts timestamptz NOT NULL,
    gw text COLLATE "C" NOT NULL,
    link text NOT NULL,                -- up, partial, down
    general integer NOT NULL,          -- G.BMS 1000, as the device reported it
    battery integer NOT NULL,          -- 1001
    alarm integer NOT NULL,            -- 1002
    strings_reported smallint NOT NULL, -- 1003 (0: not mapped or not read)
    modules_reported smallint NOT NULL, -- 1004
    why text NOT NULL CHECK (why IN ('start', 'change', 'keepalive')),
    requests bigint NOT NULL,          -- the driver's counters at that message
    timeouts bigint NOT NULL,
    exceptions bigint NOT NULL,
    PRIMARY KEY (gw, ts)
);

CREATE TABLE device_module_flags (
    ts timestamptz NOT NULL,
    gw text COLLATE "C" NOT NULL,
    module smallint NOT NULL,
    flags integer NOT NULL,            -- the module's alarm word, as the device reported it
    PRIMARY KEY (gw, module, ts)
);
CREATE INDEX device_module_flags_ts ON device_module_flags (gw, ts);

-- Grafana reads, never writes (as 001 grants the first tables).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') THEN
        GRANT SELECT ON device_flags, device_module_flags TO grafana_reader;
    END IF;
END $$;
