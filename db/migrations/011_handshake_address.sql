-- m2md-compat: servers-before-keep-working yes
-- What an operator needs to troubleshoot one device (doc/operations.md, 6):
-- when it last completed a handshake and from which address. last_seen
-- moves with every DATA too; last_handshake_at only with a handshake, and
-- last_address is the source of that AUTH (the address seen by m2md, a
-- NAT's outside address if there is one), shown by `m2mctl show`.
--
-- m2md passes the address as a ninth parameter of m2m_commit_handshake();
-- the eight-parameter function of 009/010 stays for an m2md of the previous
-- release during a rolling upgrade, which records the time but leaves the
-- address as it was. Both share one body: the old one calls the new one.
ALTER TABLE modules ADD COLUMN last_handshake_at timestamptz,
	ADD COLUMN last_address inet;

CREATE FUNCTION m2m_commit_handshake(p_module bigint, p_used bytea, p_new bytea,
	p_promote bytea, p_session bytea, p_data bytea, p_max integer, p_bytes integer,
	p_address inet)
RETURNS TABLE (ok boolean, pseudonym bytea, instr_id bigint, body bytea)
LANGUAGE plpgsql AS $$
DECLARE
	v_current bytea;
	v_bytes integer;
BEGIN
	-- p_used NULL: no pseudonym presented (not from the network), rotate.
	UPDATE modules m
	SET previous_pseudonym = m.pseudonym, pseudonym = p_new, last_seen = now(),
	    last_handshake_at = now(), last_address = coalesce(p_address, m.last_address)
	WHERE m.id = p_module AND m.status = 'active'
	  AND (p_used IS NULL OR m.pseudonym = p_used)
	RETURNING m.pseudonym INTO v_current;
	IF NOT FOUND THEN
		UPDATE modules m SET last_seen = now(), last_handshake_at = now(),
		    last_address = coalesce(p_address, m.last_address)
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

CREATE OR REPLACE FUNCTION m2m_commit_handshake(p_module bigint, p_used bytea, p_new bytea,
	p_promote bytea, p_session bytea, p_data bytea, p_max integer, p_bytes integer)
RETURNS TABLE (ok boolean, pseudonym bytea, instr_id bigint, body bytea)
LANGUAGE sql AS $$
	SELECT * FROM m2m_commit_handshake(p_module, p_used, p_new, p_promote, p_session,
		p_data, p_max, p_bytes, NULL::inet);
$$;
