-- m2md-compat: servers-before-keep-working yes
-- m2m_handshake() (004) without its per-call planning: it called the SQL
-- function m2m_take_instructions(), which PostgreSQL parses and plans again
-- at every call from PL/pgSQL (about half of the function's time), even for
-- the usual module with nothing queued. The same statement written inline
-- is planned once per connection, and runs only when the partial index
-- instructions_open holds something for the module. Same signature, same
-- results.
CREATE OR REPLACE FUNCTION m2m_handshake(p_module bigint, p_used bytea, p_new bytea,
	p_promote bytea, p_session bytea, p_data bytea, p_max integer, p_bytes integer)
RETURNS TABLE (ok boolean, instr_id bigint, body bytea) LANGUAGE plpgsql AS $$
BEGIN
	-- The pseudonym the module presented becomes the previous one: if this
	-- WELCOME is lost, that is the one the module will retry with.
	UPDATE modules
	SET previous_pseudonym = coalesce(p_used, pseudonym), pseudonym = p_new, last_seen = now()
	WHERE id = p_module AND status = 'active';
	IF NOT FOUND THEN
		RETURN QUERY SELECT false, NULL::bigint, NULL::bytea;
		RETURN;
	END IF;
	IF p_promote IS NOT NULL THEN
		UPDATE module_keys SET state = 'retired', valid_until = now()
		WHERE module_id = p_module AND state = 'current'
		  AND EXISTS (SELECT 1 FROM module_keys k WHERE k.module_id = p_module
				AND k.state = 'pending' AND k.pubkey = p_promote);
		UPDATE module_keys SET state = 'current', valid_from = now()
		WHERE module_id = p_module AND state = 'pending' AND pubkey = p_promote;
	END IF;
	IF octet_length(p_data) > 0 THEN
		INSERT INTO reports (module_id, session_id, seq, payload)
		VALUES (p_module, p_session, 0, p_data);
	END IF;
	RETURN QUERY SELECT true, NULL::bigint, NULL::bytea;
	-- A new session: queued instructions and those sent but never
	-- acknowledged (the answer that carried them may have been lost), i.e.
	-- exactly the rows of instructions_open.
	IF NOT EXISTS (SELECT 1 FROM instructions i
			WHERE i.module_id = p_module AND i.state <> 'acknowledged') THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH cand AS (
		SELECT i.id, sum(octet_length(i.body) + 10) OVER (ORDER BY i.id) AS total
		FROM instructions i
		WHERE i.module_id = p_module AND i.state <> 'acknowledged'
		ORDER BY i.id
		LIMIT p_max
	), taken AS (
		UPDATE instructions i
		SET state = 'sent', sent_at = now(), sent_count = i.sent_count + 1
		FROM cand
		WHERE i.id = cand.id AND cand.total <= p_bytes
		RETURNING i.id, i.body
	)
	SELECT true, t.id, t.body FROM taken t ORDER BY t.id;
END $$;
