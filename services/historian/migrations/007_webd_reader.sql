-- ohmwatch history, version 7: webd's own read-only role.
--
-- The web interface (ohmwatch-webd) reads the history for its charts and
-- lists and never writes. It gets a role of its own rather than Grafana's:
-- each consumer's password can be changed or revoked alone, and
-- pg_stat_activity names who holds a connection. SELECT only, on every
-- table now and every table a later migration makes (default privileges of
-- the historian's role, which runs the migrations). The role exists when
-- scripts/pg.sh or the deployment (deploy/postgres/entrypoint.sh) created it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'webd_reader') THEN
        GRANT USAGE ON SCHEMA public TO webd_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO webd_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO webd_reader;
    END IF;
END $$;
