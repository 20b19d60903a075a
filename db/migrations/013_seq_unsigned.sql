-- m2md-compat: servers-before-keep-working yes
-- Record sequence numbers run to 2^64 - 2 (doc/protocol.md, section 5), one
-- bit more than a bigint holds. reports.seq keeps the number's 64 bits as
-- a bigint, two's complement: numbers from 2^63 on are stored as
-- seq - 2^64, negative. m2m_seq() gives the number back (numeric);
-- m2mctl reports prints it. (session_id, seq) names a report as before.
-- No row changes: every number stored so far is below 2^63.
ALTER TABLE reports DROP CONSTRAINT reports_seq_check;

CREATE FUNCTION m2m_seq(s bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT CASE WHEN s < 0 THEN s::numeric + 18446744073709551616 ELSE s::numeric END
$$;
