-- ohmwatch history, version 6: the webmanager dashboard's Real Power and
-- Ripple Voltage per string reading (proto/README.md, the string message's
-- power_kw and ripple_v). Both NULL where unknown: no current sensor, no
-- ripple measurement, and every row written before this version (older
-- readings cannot be given a power after the fact without guessing which
-- ones had a sensor; sum_voltage_v * current_a is there for a query that
-- wants it).
ALTER TABLE string_readings ADD COLUMN power_kw real;  -- kW, + charging, - discharging
ALTER TABLE string_readings ADD COLUMN ripple_v real;  -- V RMS
