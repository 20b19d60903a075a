-- Pseudonyms of 16 to 32 bytes, as the protocol takes them (a HELLO is then
-- never shorter than the CHALLENGE it earns); 001 allowed 8. NOT VALID:
-- rows written before are not checked (a module with a shorter pseudonym
-- could not complete a handshake anyway), every row written from now on is.
ALTER TABLE modules
	DROP CONSTRAINT modules_pseudonym_check,
	ADD CONSTRAINT modules_pseudonym_check
		CHECK (octet_length(pseudonym) BETWEEN 16 AND 32) NOT VALID,
	DROP CONSTRAINT modules_check,	-- 001's, on previous_pseudonym
	ADD CONSTRAINT modules_previous_pseudonym_check
		CHECK (octet_length(previous_pseudonym) BETWEEN 16 AND 32
		   AND previous_pseudonym <> pseudonym) NOT VALID;
