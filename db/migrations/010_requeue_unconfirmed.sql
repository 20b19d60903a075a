-- m2md-compat: servers-before-keep-working yes
-- A WELCOME carries only the instructions that keep it as short as the AUTH
-- it answers (doc/protocol.md, section 3: m2md passes that budget as
-- p_bytes, counted for a WELCOME that carries p_new); what does not fit
-- waits for the session's DATA_ACKs, which hand out queued instructions
-- only (005). An instruction sent in an earlier session and never confirmed
-- must not wait for a WELCOME with room for it, which a module with short
-- AUTHs never sends: every handshake puts the module's sent and unconfirmed
-- instructions back in the queue before it takes what fits. A confirmation
-- that arrives for a requeued instruction is ignored (005 acknowledges
-- 'sent' ones); the instruction comes again and is confirmed again, which
-- modules must expect anyway (doc/protocol.md, 12.2).
--
-- Otherwise as 009: the same signature and results. The budget also shrinks
-- by what a longer pseudonym than p_new takes in the WELCOME, so that the
-- WELCOME stays within the AUTH whichever pseudonym it carries.
CREATE OR REPLACE FUNCTION m2m_commit_handshake(p_module bigint, p_used bytea, p_new bytea,
	p_promote bytea, p_session bytea, p_data bytea, p_max integer, p_bytes integer)
RETURNS TABLE (ok boolean, pseudonym bytea, instr_id bigint, body bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_current bytea;
	v_bytes integer;
BEGIN
	-- p_used NULL: no pseudonym presented (not from the network), rotate.
	UPDATE modules m
	SET previous_pseudonym = m.pseudonym, pseudonym = p_new, last_seen = now()
	WHERE m.id = p_module AND m.status = 'active'
	  AND (p_used IS NULL OR m.pseudonym = p_used)
	RETURNING m.pseudonym INTO v_current;
	IF NOT FOUND THEN
		UPDATE modules m SET last_seen = now()
		WHERE m.id = p_module AND m.status = 'active'
		RETURNING m.pseudonym INTO v_current;
	END IF;
	IF v_current IS NULL THEN
		RETURN QUERY SELECT false, NULL::bytea, NULL::bigint, NULL::bytea;
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
	RETURN QUERY SELECT true, v_current, NULL::bigint, NULL::bytea;
	-- Tested first: instructions_notify fires per statement, rows or not.
	IF NOT EXISTS (SELECT 1 FROM instructions i
			WHERE i.module_id = p_module AND i.state <> 'acknowledged') THEN
		RETURN;
	END IF;
	UPDATE instructions SET state = 'queued', sent_at = NULL
	WHERE module_id = p_module AND state = 'sent';
	v_bytes := p_bytes - greatest(0, octet_length(v_current) - coalesce(octet_length(p_new), 0));
	RETURN QUERY
	WITH cand AS (
		SELECT i.id, sum(octet_length(i.body) + 10) OVER (ORDER BY i.id) AS total
		FROM instructions i
		WHERE i.module_id = p_module AND i.state = 'queued'
		ORDER BY i.id
		LIMIT p_max
	), taken AS (
		UPDATE instructions i
		SET state = 'sent', sent_at = now(), sent_count = i.sent_count + 1
		FROM cand
		WHERE i.id = cand.id AND cand.total <= v_bytes
		RETURNING i.id, i.body
	)
	SELECT true, NULL::bytea, t.id, t.body FROM taken t ORDER BY t.id;
END $$;
