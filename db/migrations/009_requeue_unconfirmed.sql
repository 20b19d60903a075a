-- A WELCOME carries only the instructions that keep it as short as the AUTH
-- it answers (doc/protocol.md, section 3: m2md passes that budget as
-- m2m_handshake's p_bytes); what does not fit waits for the session's
-- DATA_ACKs, which hand out queued instructions only (005). An instruction
-- sent in an earlier session and never confirmed must not wait for a WELCOME
-- with room for it, which a module with short AUTHs never sends: when a
-- handshake gives the module a new pseudonym (m2m_handshake does so before
-- it takes instructions), its sent and unconfirmed instructions go back to
-- the queue. The WELCOME then takes what fits, DATA_ACKs the rest. A
-- confirmation that arrives for a requeued instruction is ignored (005
-- acknowledges 'sent' ones); the instruction comes again and is confirmed
-- again.
CREATE FUNCTION m2m_requeue_unconfirmed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- Tested first: instructions_notify fires per statement, rows or not.
	IF EXISTS (SELECT 1 FROM instructions i
			WHERE i.module_id = NEW.id AND i.state = 'sent') THEN
		UPDATE instructions SET state = 'queued', sent_at = NULL
		WHERE module_id = NEW.id AND state = 'sent';
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER modules_requeue_unconfirmed AFTER UPDATE OF pseudonym ON modules
	FOR EACH ROW WHEN (OLD.pseudonym IS DISTINCT FROM NEW.pseudonym)
	EXECUTE FUNCTION m2m_requeue_unconfirmed();
