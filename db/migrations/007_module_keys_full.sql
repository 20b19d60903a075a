-- m2md-compat: servers-before-keep-working yes
-- The uncompressed form of each module key next to the compressed one, so
-- that m2md does not compute a square root (about 19 us) to decode the
-- module's key at every handshake. pubkey stays the key's identity (unique,
-- what applications and m2mctl show); pubkey_full must be the same point:
-- same X, and the parity of Y the compressed prefix names. NULL is allowed
-- (m2md then decodes pubkey): m2mctl writes it at enrollment and rotation,
-- m2md at REKEY, and `m2mctl db migrate` fills it for older current and
-- pending keys.
ALTER TABLE module_keys ADD COLUMN pubkey_full bytea
	CONSTRAINT module_keys_pubkey_full_check
	CHECK (octet_length(pubkey_full) = 65
	   AND get_byte(pubkey_full, 0) = 4
	   AND substring(pubkey_full FROM 2 FOR 32) = substring(pubkey FROM 2 FOR 32)
	   AND get_byte(pubkey_full, 64) % 2 = get_byte(pubkey, 0) - 2);

-- REKEY with the uncompressed form (m2md decodes the point anyway to check
-- it); otherwise as m2m_rekey() of 004.
CREATE FUNCTION m2m_rekey(p_module bigint, p_key bytea, p_key_full bytea)
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
		INSERT INTO module_keys (module_id, pubkey, pubkey_full, state)
		VALUES (p_module, p_key, p_key_full, 'pending');
	END IF;
	RETURN QUERY SELECT true, NULL::bigint, NULL::bytea;
END $$;

-- The two-argument form stays for an m2md of the previous release during
-- an upgrade.
CREATE OR REPLACE FUNCTION m2m_rekey(p_module bigint, p_key bytea)
RETURNS TABLE (ok boolean, instr_id bigint, body bytea) LANGUAGE sql AS $$
	SELECT * FROM m2m_rekey(p_module, p_key, NULL::bytea)
$$;
