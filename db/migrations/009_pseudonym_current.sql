-- m2md-compat: servers-before-keep-working yes
-- A handshake rotates the pseudonym only when the module presented its
-- current one. m2m_handshake() (006) made the presented pseudonym the
-- previous one whatever the row held by then, so a stale handshake rewound
-- it: two handshakes with P in flight (a retry after a slow commit, on two
-- workers or two nodes), or an AUTH for P held back and released after the
-- module had completed a new handshake with P. Either way the second
-- commit replaced the pseudonym the first WELCOME had delivered, and the
-- module, holding it, was locked out for good (doc/protocol.md, 12.1).
--
-- m2m_commit_handshake() rotates only when the presented pseudonym is still
-- the current one, and returns the pseudonym the WELCOME must carry: the
-- new one, or, when it changed nothing (the module presented its previous
-- pseudonym, or another handshake committed first), the current one. The
-- rest is 006's m2m_handshake(): first data, key promotion, instructions.
--
-- Atomic under concurrency (READ COMMITTED, several connections, workers or
-- nodes): the rotation is one UPDATE whose WHERE tests the pseudonym, so
-- an UPDATE that waited for another transaction's row lock re-checks the
-- row as that transaction committed it, and finds the pseudonym changed.
-- The second UPDATE then locks the row (held to the commit), so the
-- pseudonym it returns is still the current one when this commit is seen.
--
-- m2m_handshake() stays as it was for an m2md of the previous release
-- during a rolling upgrade (its WELCOME carries p_new whatever happens, so
-- it must keep rotating); only m2md processes of this release keep the rule.
CREATE FUNCTION m2m_commit_handshake(p_module bigint, p_used bytea, p_new bytea,
	p_promote bytea, p_session bytea, p_data bytea, p_max integer, p_bytes integer)
RETURNS TABLE (ok boolean, pseudonym bytea, instr_id bigint, body bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_current bytea;
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
	SELECT true, NULL::bytea, t.id, t.body FROM taken t ORDER BY t.id;
END $$;
