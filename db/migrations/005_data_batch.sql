-- m2md-compat: servers-before-keep-working yes
-- Set-based DATA: m2md writes all the DATA items of a group-commit batch
-- with one call instead of one m2m_data() per item (004), so that the
-- database's CPU per report is a few row operations, not a PL/pgSQL call,
-- a separate INSERT statement and an instruction query each.

-- The batch's DATA items as parallel arrays, item k (1-based) being element
-- k of p_module, p_session, p_seq and p_payload (empty: nothing stored);
-- acknowledgements flattened: p_ack_id[j] is acknowledged by item
-- p_ack_item[j]. Per item it does what m2m_data() does: an item whose module
-- is not active changes nothing; otherwise its report is stored, its acks
-- applied, last_seen refreshed (at most once a minute) and queued
-- instructions of its module handed out (marked sent), as many as fit p_max
-- entries and p_bytes bytes, to the module's first item of the batch (later
-- items of that module get none: what did not fit waits for the next answer).
-- Returns only the exceptions, ordered by item then instruction: (k, NULL,
-- NULL) for a rejected item, (k, id, body) per instruction handed out; an
-- item without a row was stored.
CREATE FUNCTION m2m_data_batch(p_module bigint[], p_session bytea[], p_seq bigint[],
	p_payload bytea[], p_ack_item integer[], p_ack_id bigint[],
	p_max integer, p_bytes integer)
RETURNS TABLE (item integer, instr_id bigint, body bytea) LANGUAGE plpgsql
-- A custom plan (array sizes known) always looks cheaper than the generic
-- one, so plpgsql would plan this statement again at every call: 300-400 us,
-- more than a whole batch of 16 costs to run. The generic plan is as good,
-- every access being an index probe by construction (below).
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
	-- One statement: its data-modifying parts all run to completion, see
	-- the same snapshot, and touch disjoint rows (acks: state 'sent'; the
	-- ones handed out: 'queued'). The reports_notify statement trigger
	-- thus fires once per batch.
	--
	-- Every access to modules and instructions is an index probe by
	-- construction (LATERAL ... LIMIT, = ANY (ARRAY(...))): with the array
	-- sizes known, the planner otherwise prefers hashing a sequential scan
	-- of all modules to a thousand probes, tens of ms per batch at 100,000
	-- modules and worse beyond.
	RETURN QUERY
	WITH d AS MATERIALIZED (
		SELECT u.k::integer AS k, u.m, u.s, u.q, u.p, coalesce(mo.ok, false) AS ok,
			mo.seen
		FROM unnest(p_module, p_session, p_seq, p_payload) WITH ORDINALITY
			AS u (m, s, q, p, k)
		LEFT JOIN LATERAL (SELECT true AS ok, x.last_seen AS seen FROM modules x
			WHERE x.id = u.m AND x.status = 'active' LIMIT 1) mo ON true
	), touched AS (
		UPDATE modules mo SET last_seen = now()
		WHERE mo.id = ANY (ARRAY(SELECT DISTINCT d.m FROM d WHERE d.ok
			AND (d.seen IS NULL OR d.seen < now() - interval '1 minute')))
	), stored AS (
		INSERT INTO reports (module_id, session_id, seq, payload)
		SELECT d.m, d.s, d.q, d.p FROM d
		WHERE d.ok AND octet_length(d.p) > 0
		ORDER BY d.k
	), ack AS (
		SELECT a.id, d.m FROM unnest(p_ack_item, p_ack_id) AS a (k, id)
		JOIN d ON d.k = a.k AND d.ok
	), acked AS (
		UPDATE instructions i SET state = 'acknowledged', acknowledged_at = now()
		FROM ack
		WHERE i.id = ANY (ARRAY(SELECT ack.id FROM ack))
		  AND i.id = ack.id AND i.module_id = ack.m AND i.state = 'sent'
	), firsts AS (
		SELECT DISTINCT ON (d.m) d.k, d.m FROM d WHERE d.ok ORDER BY d.m, d.k
	), cand AS (
		-- One probe of instructions_open per module: only modules with
		-- queued instructions produce rows, at most p_max each.
		SELECT f.k, q.id, row_number() OVER w AS n,
			sum(octet_length(q.body) + 10) OVER w AS total
		FROM firsts f
		CROSS JOIN LATERAL (SELECT i.id, i.body FROM instructions i
			WHERE i.module_id = f.m AND i.state = 'queued'
			ORDER BY i.id LIMIT p_max) q
		WINDOW w AS (PARTITION BY f.k ORDER BY q.id)
	), taken AS (
		UPDATE instructions i
		SET state = 'sent', sent_at = now(), sent_count = i.sent_count + 1
		FROM cand c
		WHERE i.id = ANY (ARRAY(SELECT c.id FROM cand c))
		  AND i.id = c.id AND c.n <= p_max AND c.total <= p_bytes
		RETURNING c.k, i.id, i.body
	)
	SELECT d.k, NULL::bigint, NULL::bytea FROM d WHERE NOT d.ok
	UNION ALL
	SELECT t.k, t.id, t.body FROM taken t
	ORDER BY 1, 2;
END $$;
