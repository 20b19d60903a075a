-- m2md-compat: servers-before-keep-working no
-- What m2md runs inside its group-commit transactions: one function call
-- per item, so that an item is one statement in the pipeline. Each returns
-- (ok, instr_id, body): a first row with ok alone, then one row per
-- instruction handed out. ok = false: the module is not active (or a REKEY
-- reused a key), nothing changed, and the batch goes on.

-- Hands out the module's open instructions, oldest first, as many as fit
-- p_max entries and p_bytes bytes (10 bytes of framing each), marking them
-- sent. p_resend: also those sent but never acknowledged (a new session
-- means the answer that carried them may have been lost).
CREATE FUNCTION m2m_take_instructions(p_module bigint, p_resend boolean,
	p_max integer, p_bytes integer)
RETURNS TABLE (instr_id bigint, body bytea) LANGUAGE sql AS $$
	WITH cand AS (
		SELECT i.id, sum(octet_length(i.body) + 10) OVER (ORDER BY i.id) AS total
		FROM instructions i
		WHERE i.module_id = p_module
		  AND (i.state = 'queued' OR (p_resend AND i.state = 'sent'))
		ORDER BY i.id
		LIMIT p_max
	), taken AS (
		UPDATE instructions i
		SET state = 'sent', sent_at = now(), sent_count = i.sent_count + 1
		FROM cand
		WHERE i.id = cand.id AND cand.total <= p_bytes
		RETURNING i.id, i.body
	)
	SELECT id, body FROM taken ORDER BY id
$$;

-- Handshake completed: the module presented p_used, gets p_new; a proven
-- pending key (p_promote) becomes current; the first data is stored.
CREATE FUNCTION m2m_handshake(p_module bigint, p_used bytea, p_new bytea,
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
	RETURN QUERY SELECT true, t.instr_id, t.body
		FROM m2m_take_instructions(p_module, true, p_max, p_bytes) t;
END $$;

-- DATA in a session: store the payload, record acknowledgements, hand out
-- newly queued instructions. last_seen is refreshed at most once a minute
-- to spare the modules table an update per report.
CREATE FUNCTION m2m_data(p_module bigint, p_session bytea, p_seq bigint,
	p_payload bytea, p_acks bigint[], p_max integer, p_bytes integer)
RETURNS TABLE (ok boolean, instr_id bigint, body bytea) LANGUAGE plpgsql AS $$
DECLARE
	st text;
	seen timestamptz;
BEGIN
	SELECT status, last_seen INTO st, seen FROM modules WHERE id = p_module;
	IF st IS DISTINCT FROM 'active' THEN
		RETURN QUERY SELECT false, NULL::bigint, NULL::bytea;
		RETURN;
	END IF;
	IF seen IS NULL OR seen < now() - interval '1 minute' THEN
		UPDATE modules SET last_seen = now() WHERE id = p_module;
	END IF;
	IF cardinality(p_acks) > 0 THEN
		UPDATE instructions SET state = 'acknowledged', acknowledged_at = now()
		WHERE module_id = p_module AND id = ANY (p_acks) AND state = 'sent';
	END IF;
	IF octet_length(p_payload) > 0 THEN
		INSERT INTO reports (module_id, session_id, seq, payload)
		VALUES (p_module, p_session, p_seq, p_payload);
	END IF;
	RETURN QUERY SELECT true, NULL::bigint, NULL::bytea;
	RETURN QUERY SELECT true, t.instr_id, t.body
		FROM m2m_take_instructions(p_module, false, p_max, p_bytes) t;
END $$;

-- REKEY: p_key becomes the module's pending key, replacing an unproven one.
-- Resubmitting the pending key is a no-op; a key used before (by this or
-- any module) is refused.
CREATE FUNCTION m2m_rekey(p_module bigint, p_key bytea)
RETURNS TABLE (ok boolean, instr_id bigint, body bytea) LANGUAGE plpgsql AS $$
DECLARE
	st text;
BEGIN
	SELECT status INTO st FROM modules WHERE id = p_module;
	IF st IS DISTINCT FROM 'active' OR EXISTS (SELECT 1 FROM module_keys
			WHERE pubkey = p_key AND NOT (module_id = p_module AND state = 'pending')) THEN
		RETURN QUERY SELECT false, NULL::bigint, NULL::bytea;
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM module_keys WHERE module_id = p_module AND pubkey = p_key) THEN
		UPDATE module_keys SET state = 'revoked', valid_until = now()
		WHERE module_id = p_module AND state = 'pending';
		INSERT INTO module_keys (module_id, pubkey, state) VALUES (p_module, p_key, 'pending');
	END IF;
	RETURN QUERY SELECT true, NULL::bigint, NULL::bytea;
END $$;
