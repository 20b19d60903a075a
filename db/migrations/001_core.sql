-- m2md-compat: servers-before-keep-working no
-- m2md core schema: the server's keys, modules and the history of their keys.
-- Applied in one transaction by `m2mctl db migrate`; never edit once released.

-- Public half and key id of every server key an HSM holds (DESIGN 1: the key
-- id is the first 4 bytes of SHA-256 of the SEC1 compressed point).
CREATE TABLE server_keys (
	key_id		bytea PRIMARY KEY CHECK (octet_length(key_id) = 4),
	pubkey		bytea NOT NULL UNIQUE
			CHECK (octet_length(pubkey) = 33
			   AND substring(pubkey FROM 1 FOR 1) IN ('\x02'::bytea, '\x03'::bytea)),
	label		text NOT NULL DEFAULT '',
	state		text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'retired')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (key_id = substring(sha256(pubkey) FROM 1 FOR 4))
);

-- One row per module. The identity is permanent and never on the wire in
-- clear; the pseudonym changes at every handshake, and the previous one stays
-- valid so that a module whose WELCOME was lost can retry with it.
CREATE TABLE modules (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	identity	text NOT NULL UNIQUE
			CHECK (octet_length(identity) BETWEEN 1 AND 64
			   AND identity !~ '[[:space:][:cntrl:]]'),
	status		text NOT NULL DEFAULT 'active'
			CHECK (status IN ('active', 'suspended', 'revoked')),
	pseudonym	bytea NOT NULL UNIQUE
			CHECK (octet_length(pseudonym) BETWEEN 8 AND 32),
	previous_pseudonym bytea UNIQUE
			CHECK (octet_length(previous_pseudonym) BETWEEN 8 AND 32
			   AND previous_pseudonym <> pseudonym),
	created_at	timestamptz NOT NULL DEFAULT now(),
	status_changed_at timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz
);

-- Revocation is final: a revoked module never becomes active again (enroll
-- a new identity instead). A trigger, because a CHECK sees only one row version.
CREATE FUNCTION m2m_modules_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.status = 'revoked' AND NEW.status <> 'revoked' THEN
		RAISE EXCEPTION 'module % is revoked; revocation is final', OLD.identity
			USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.status <> OLD.status THEN
		NEW.status_changed_at := now();
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER modules_status_guard BEFORE UPDATE OF status ON modules
	FOR EACH ROW EXECUTE FUNCTION m2m_modules_status_guard();

-- Key history. pending: submitted by REKEY, not yet proven; current: the key
-- M of the handshake; retired: replaced; revoked: withdrawn unproven or by an
-- administrator. A public key belongs to one module only, ever.
CREATE TABLE module_keys (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	module_id	bigint NOT NULL REFERENCES modules (id),
	pubkey		bytea NOT NULL UNIQUE
			CHECK (octet_length(pubkey) = 33
			   AND substring(pubkey FROM 1 FOR 1) IN ('\x02'::bytea, '\x03'::bytea)),
	state		text NOT NULL CHECK (state IN ('pending', 'current', 'retired', 'revoked')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	valid_from	timestamptz,	-- became current
	valid_until	timestamptz,	-- stopped being current or pending
	CHECK (CASE state
		WHEN 'pending' THEN valid_from IS NULL AND valid_until IS NULL
		WHEN 'current' THEN valid_from IS NOT NULL AND valid_until IS NULL
		WHEN 'retired' THEN valid_from IS NOT NULL AND valid_until IS NOT NULL
		ELSE valid_until IS NOT NULL END)
);
-- At most one current and one pending key per module; these partial indexes
-- are also what the server's lookup joins on.
CREATE UNIQUE INDEX module_keys_one_current ON module_keys (module_id) WHERE state = 'current';
CREATE UNIQUE INDEX module_keys_one_pending ON module_keys (module_id) WHERE state = 'pending';
CREATE INDEX module_keys_module ON module_keys (module_id);
