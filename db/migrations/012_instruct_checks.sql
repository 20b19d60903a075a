-- m2md-compat: servers-before-keep-working yes
-- m2m_instruct() refuses what can never be delivered, with a message that
-- says why, before the table's constraints would (doc/applications.md):
--   - a body over 1000 bytes: SQLSTATE 22023 (invalid_parameter_value),
--     instead of the CHECK violation that quoted the whole row;
--   - a revoked module, which never connects again: SQLSTATE 55000
--     (object_not_in_prerequisite_state). A suspended module may be
--     resumed: its instructions are accepted and wait in the queue.
-- An unknown identity stays P0002 (no_data_found), as in 003.
CREATE OR REPLACE FUNCTION m2m_instruct(p_identity text, p_body bytea) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	m bigint;
	st text;
	r bigint;
BEGIN
	IF octet_length(p_body) > 1000 THEN
		RAISE EXCEPTION 'instruction body of % bytes; at most 1000', octet_length(p_body)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT id, status INTO m, st FROM modules WHERE identity = p_identity;
	IF m IS NULL THEN
		RAISE EXCEPTION 'no module with identity %', p_identity
			USING ERRCODE = 'no_data_found';
	END IF;
	IF st = 'revoked' THEN
		RAISE EXCEPTION 'module % is revoked: it will never receive an instruction',
			p_identity USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	INSERT INTO instructions (module_id, body) VALUES (m, p_body) RETURNING id INTO r;
	RETURN r;
END $$;
