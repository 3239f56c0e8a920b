-- ohmwatch history, version 1. Applied once, in a transaction, by
-- ohmwatch-historian at start (or `ohmwatch-historian --migrate`).
-- Readings are partitioned by day (ohmwatch_ensure_partitions) and keyed so
-- a replayed message can never make a second row: (gw, module, ts, epoch,
-- seq) is the publisher's (epoch, seq) plus what a query filters on.

CREATE TABLE gateways (
    gw text PRIMARY KEY,
    name text NOT NULL,
    module_type text NOT NULL,
    manufacturer text,
    battery_type text,
    capacity_ah double precision,
    installed date,
    location text,
    nstrings integer NOT NULL,
    nmodules integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE strings (
    gw text NOT NULL REFERENCES gateways ON DELETE CASCADE,
    string smallint NOT NULL,
    name text NOT NULL,
    modules integer NOT NULL,
    first_module integer NOT NULL,
    PRIMARY KEY (gw, string)
);

CREATE TABLE modules (
    gw text NOT NULL REFERENCES gateways ON DELETE CASCADE,
    module smallint NOT NULL,
    string smallint NOT NULL,
    block smallint NOT NULL,
    PRIMARY KEY (gw, module)
);

CREATE TABLE module_readings (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    string smallint NOT NULL,
    module smallint NOT NULL,
    block smallint NOT NULL,
    voltage_v real,
    temp_c real,
    impedance_mohm real,
    eq_pct real,
    status integer NOT NULL,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (gw, module, ts, epoch, seq)
) PARTITION BY RANGE (ts);

CREATE TABLE string_readings (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    string smallint NOT NULL,
    modules smallint NOT NULL,
    modules_lost smallint NOT NULL,
    current_a real,
    ac_current_a real,
    sum_voltage_v real,
    avg_voltage_v real,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (gw, string, ts, epoch, seq)
) PARTITION BY RANGE (ts);

CREATE TABLE sensor_readings (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    ambient_c real,
    humidity_pct real,
    hydrogen_pct_lel real,
    aux_units smallint NOT NULL,
    inputs integer NOT NULL,
    outputs integer NOT NULL,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (gw, ts, epoch, seq)
) PARTITION BY RANGE (ts);

-- Rollups for long Grafana panels: per module and bucket, min/max/sum/count
-- (avg = sum / n), maintained incrementally from each ingested batch.
CREATE TABLE module_readings_1m (
    bucket timestamptz NOT NULL,
    gw text NOT NULL,
    module smallint NOT NULL,
    string smallint NOT NULL,
    n integer NOT NULL,
    v_min real, v_max real, v_sum double precision, v_n integer NOT NULL DEFAULT 0,
    t_min real, t_max real, t_sum double precision, t_n integer NOT NULL DEFAULT 0,
    r_min real, r_max real, r_sum double precision, r_n integer NOT NULL DEFAULT 0,
    PRIMARY KEY (gw, module, bucket)
);
CREATE TABLE module_readings_1h (LIKE module_readings_1m INCLUDING ALL);

CREATE TABLE gateway_states (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    general integer NOT NULL,
    battery integer NOT NULL,
    alarm integer NOT NULL,
    alarms_active integer NOT NULL,
    module_alarms integer NOT NULL,
    module_warnings integer NOT NULL,
    audible boolean NOT NULL,
    PRIMARY KEY (gw, ts)
);

-- One row per (alarm id, action): raise, clear, ack. An alarm is identified
-- by its id; raised_at completes the key in case alarmd's state was reset.
CREATE TABLE alarm_events (
    id bigint NOT NULL,
    action text NOT NULL CHECK (action IN ('raise', 'clear', 'ack')),
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    type integer NOT NULL,
    name text NOT NULL,
    severity smallint NOT NULL,
    string smallint NOT NULL,
    module smallint NOT NULL,
    value double precision,
    threshold double precision,
    raised_at timestamptz NOT NULL,
    cleared_at timestamptz,
    text text NOT NULL,
    PRIMARY KEY (id, action, raised_at)
);
CREATE INDEX alarm_events_gw_ts ON alarm_events (gw, ts);

-- A discharge: inserted at its start, completed at its end.
CREATE TABLE discharge_events (
    gw text NOT NULL,
    string smallint NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz,
    duration_s double precision NOT NULL,
    ah_removed double precision,
    min_current_a double precision,
    min_module smallint,
    min_voltage_v double precision,
    end_voltage_v double precision,
    mode text NOT NULL,
    PRIMARY KEY (gw, string, start_at)
);

CREATE TABLE impedance_baselines (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    string smallint NOT NULL,
    module smallint NOT NULL,
    baseline_mohm double precision NOT NULL,
    impedance_mohm double precision NOT NULL,
    deviation_pct double precision NOT NULL,
    slope_pct_per_year double precision,
    alarm_at timestamptz,
    PRIMARY KEY (gw, module, ts)
);

CREATE TABLE config_changes (
    ts timestamptz NOT NULL,
    gw text NOT NULL,
    key text NOT NULL,
    value double precision NOT NULL,
    old_value double precision,
    source text NOT NULL,
    PRIMARY KEY (gw, key, ts)
);

-- Where ingestion stopped, per publisher, committed with the rows it covers.
CREATE TABLE ingest_positions (
    pub text PRIMARY KEY,
    epoch bigint NOT NULL,
    seq bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Day partitions of the three reading tables, created before a batch needs
-- them; dropping old ones is the retention.
CREATE FUNCTION ohmwatch_ensure_partitions(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['module_readings', 'string_readings', 'sensor_readings'] LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       t || '_' || to_char(day, 'YYYYMMDD'), t, day, day + 1);
    END LOOP;
END $$;

CREATE FUNCTION ohmwatch_drop_partitions(before date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             WHERE p.relname IN ('module_readings', 'string_readings', 'sensor_readings')
               AND substring(c.relname from '_(\d{8})$') < to_char(before, 'YYYYMMDD') LOOP
        EXECUTE format('DROP TABLE %I', r.relname);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- Grafana reads, never writes (the role exists when scripts/pg.sh or the
-- deployment created it).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'grafana_reader') THEN
        GRANT USAGE ON SCHEMA public TO grafana_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
    END IF;
END $$;
