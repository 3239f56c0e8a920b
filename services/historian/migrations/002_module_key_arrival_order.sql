-- ohmwatch history, version 2: module readings keyed in arrival order.
--
-- Version 1 keyed module_readings by (gw, module, ts, epoch, seq): every
-- insert descended the btree to one of 512 places per gateway, comparing the
-- gateway id under the database's collation, and that index was most of
-- PostgreSQL's work in bench/historian_ingest.sh (about 67,000 module
-- rows/s before, about 90,000 after, on the same 2 cores).
--
-- The key that makes a replayed message harmless is the publisher's
-- (gw, epoch, seq); ts stays in it because a partitioned table's key must
-- hold the partition column. Sequence numbers grow, so every insert lands on
-- the btree's rightmost page. Gateway ids are ASCII [A-Za-z0-9_.-] (the wire
-- contract), so byte order ("C") compares them exactly and costs a memcmp.
--
-- Queries select a time range (Grafana's $__timeFilter) and then a gateway,
-- string or module; the day partitions and a BRIN index on ts (a few pages
-- per day, nearly free to maintain for rows that arrive in time order) find
-- the range, and the rollup tables serve anything longer than a few hours.
ALTER TABLE module_readings DROP CONSTRAINT module_readings_pkey;
ALTER TABLE module_readings ALTER COLUMN gw TYPE text COLLATE "C";
ALTER TABLE module_readings ADD PRIMARY KEY (gw, epoch, seq, ts);
CREATE INDEX module_readings_ts_brin ON module_readings USING brin (ts) WITH (pages_per_range = 32);
