-- ohmwatch history, version 3: capacity tests and depth of discharge.
--
-- A discharge tagged as an IEEE 450 capacity test (alarmd's captest) ends
-- with its time-adjusted capacity; every discharge carries its depth of
-- discharge (Ah removed / C10), which an outage reports instead of a
-- "capacity". Columns on discharge_events rather than a table of their own:
-- a test is a discharge, one row, completed by its "end" like any other.
-- docs/battery.md gives the method.
ALTER TABLE discharge_events
    ADD COLUMN test boolean NOT NULL DEFAULT false,
    ADD COLUMN rated_h double precision,
    ADD COLUMN end_v_per_cell double precision,
    ADD COLUMN temp_c double precision,
    ADD COLUMN capacity_pct double precision,
    ADD COLUMN method text,
    ADD COLUMN dod_pct double precision;
