-- m2md-compat: servers-before-keep-working no
-- Reports: the data modules send. Append-only and partitioned by month on
-- received_at so that it can grow to billions of rows: old months are
-- detached or dropped whole, and time-bounded queries touch few partitions.

CREATE TABLE reports (
	-- bigserial, not an identity column: PostgreSQL before 17 refuses
	-- identity columns on partitioned tables.
	id		bigserial NOT NULL,
	module_id	bigint NOT NULL REFERENCES modules (id),
	received_at	timestamptz NOT NULL DEFAULT now(),
	session_id	bytea NOT NULL CHECK (octet_length(session_id) = 8),
	seq		bigint NOT NULL CHECK (seq >= 0),
	payload		bytea NOT NULL
) PARTITION BY RANGE (received_at);

-- Applications follow new reports by id (LISTEN, then id > last seen); the
-- admin tool and per-module queries go by module and time.
CREATE INDEX reports_id ON reports (id);
CREATE INDEX reports_module_time ON reports (module_id, received_at);

-- Catches rows no monthly partition covers, so that an insert never fails
-- because maintenance was late. It should stay empty: a month cannot be
-- created while the default partition holds rows of that month.
CREATE TABLE reports_default PARTITION OF reports DEFAULT;

-- Creates the monthly partitions (UTC months) from this month to
-- months_ahead months ahead; returns how many it created. Idempotent: run by
-- every `m2mctl db migrate` and `m2mctl db maintain`, e.g. from a monthly timer.
CREATE FUNCTION m2m_reports_partitions(months_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	lo timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
	hi timestamptz;
	part text;
	created integer := 0;
BEGIN
	FOR i IN 0 .. months_ahead LOOP
		hi := ((lo AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
		part := 'reports_' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM');
		IF to_regclass(part) IS NULL THEN
			EXECUTE format('CREATE TABLE %I PARTITION OF reports FOR VALUES FROM (%L) TO (%L)',
				part, lo, hi);
			created := created + 1;
		END IF;
		lo := hi;
	END LOOP;
	RETURN created;
END $$;
SELECT m2m_reports_partitions(3);

-- One notification per inserting statement, without payload: identical
-- notifications of one transaction collapse into one, so a group-commit batch
-- of 1000 reports costs one NOTIFY. Listeners then read id > last seen.
CREATE FUNCTION m2m_reports_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('m2m_reports', '');
	RETURN NULL;
END $$;
CREATE TRIGGER reports_notify AFTER INSERT ON reports
	FOR EACH STATEMENT EXECUTE FUNCTION m2m_reports_notify();
