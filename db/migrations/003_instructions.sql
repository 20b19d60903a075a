-- m2md-compat: servers-before-keep-working no
-- Instructions: queued by an application for a module, delivered in the
-- module's next WELCOME or DATA_ACK (state sent), acknowledged when the module
-- confirms their id in a later DATA.

CREATE TABLE instructions (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	module_id	bigint NOT NULL REFERENCES modules (id),
	-- 1000 bytes: one instruction always fits one answer datagram.
	body		bytea NOT NULL CHECK (octet_length(body) <= 1000),
	state		text NOT NULL DEFAULT 'queued'
			CHECK (state IN ('queued', 'sent', 'acknowledged')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	sent_at		timestamptz,
	sent_count	integer NOT NULL DEFAULT 0 CHECK (sent_count >= 0),
	acknowledged_at	timestamptz,
	CHECK ((state = 'queued') = (sent_at IS NULL)),
	CHECK ((state = 'acknowledged') = (acknowledged_at IS NOT NULL))
);
-- What the server reads at every WELCOME and DATA_ACK: the open ones.
CREATE INDEX instructions_open ON instructions (module_id, id) WHERE state <> 'acknowledged';
CREATE INDEX instructions_module ON instructions (module_id, created_at);

-- The way for applications to queue an instruction by module identity.
CREATE FUNCTION m2m_instruct(p_identity text, p_body bytea) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	m bigint;
	r bigint;
BEGIN
	SELECT id INTO m FROM modules WHERE identity = p_identity;
	IF m IS NULL THEN
		RAISE EXCEPTION 'no module with identity %', p_identity
			USING ERRCODE = 'no_data_found';
	END IF;
	INSERT INTO instructions (module_id, body) VALUES (m, p_body) RETURNING id INTO r;
	RETURN r;
END $$;

-- Acknowledgements are announced too, for applications that wait for them.
CREATE FUNCTION m2m_instructions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('m2m_instruction_acks', '');
	RETURN NULL;
END $$;
CREATE TRIGGER instructions_notify AFTER UPDATE OF state ON instructions
	FOR EACH STATEMENT EXECUTE FUNCTION m2m_instructions_notify();
