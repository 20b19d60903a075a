-- m2md-compat: servers-before-keep-working yes
-- Pseudonyms of 16 to 32 bytes, as the protocol takes them (a HELLO is then
-- never shorter than the CHALLENGE it earns); 001 allowed 8. A module whose
-- pseudonym is shorter could never complete a handshake, so it gets a new
-- random one here (a previous pseudonym that short is cleared): otherwise
-- the constraint would refuse every later change of its row, suspending or
-- revoking it included.
UPDATE modules SET pseudonym = decode(md5(random()::text || id::text || clock_timestamp()::text),
	'hex')
WHERE octet_length(pseudonym) < 16;
UPDATE modules SET previous_pseudonym = NULL WHERE octet_length(previous_pseudonym) < 16;

ALTER TABLE modules
	DROP CONSTRAINT modules_pseudonym_check,
	ADD CONSTRAINT modules_pseudonym_check
		CHECK (octet_length(pseudonym) BETWEEN 16 AND 32),
	DROP CONSTRAINT modules_check,	-- 001's, on previous_pseudonym
	ADD CONSTRAINT modules_previous_pseudonym_check
		CHECK (octet_length(previous_pseudonym) BETWEEN 16 AND 32
		   AND previous_pseudonym <> pseudonym);
