/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the WELCOME, DATA, DATA_ACK and REKEY_ACK plaintext decoders
 * (first byte picks one); what decodes re-encodes to the same bytes. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

static void
instr_in_bounds(const struct proto_instr *in, size_t n, const uint8_t *buf, size_t len)
{
	size_t i;

	FUZZ_ASSERT(n <= PROTO_INSTR_MAX);
	for (i = 0; i < n; i++)
		FUZZ_ASSERT(in[i].body >= buf && in[i].body + in[i].body_len <= buf + len);
}

FUZZ_TARGET(payloads)
{
	static uint8_t out[70000];
	struct proto_welcome_pt w;
	struct proto_data_pt d;
	struct proto_ack_pt a;
	const uint8_t *buf = data + 1;
	size_t len = size - 1, n = 0;
	enum m2m_err err;

	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		if (proto_welcome_pt_decode(buf, len, &w) != M2M_OK)
			return 0;
		instr_in_bounds(w.instr, w.n_instr, buf, len);
		FUZZ_ASSERT(w.status <= PROTO_STATUS_KEY_ROTATED);
		FUZZ_ASSERT(proto_welcome_pt_encode(&w, out, sizeof(out), &n) == M2M_OK);
		FUZZ_ASSERT(n == len && memcmp(out, buf, len) == 0);
		FUZZ_ASSERT(proto_welcome_pt_encode(&w, out, len - 1, &n) == M2M_E_PROTO_BUFFER);
		return 0;
	case 1:
		if (proto_data_pt_decode(buf, len, &d) != M2M_OK)
			return 0;
		FUZZ_ASSERT(d.n_acks <= PROTO_ACKS_MAX && d.acks == buf + 1);
		FUZZ_ASSERT(d.payload + d.payload_len == buf + len);
		err = proto_data_pt_encode(&d, out, sizeof(out), &n);
		if (len > PROTO_RECORD_MAX_PT) {
			FUZZ_ASSERT(err == M2M_E_PROTO_OVERSIZE);
			return 0;
		}
		FUZZ_ASSERT(err == M2M_OK && n == len && memcmp(out, buf, len) == 0);
		return 0;
	default:
		err = proto_ack_pt_decode(data[0], buf, len, &a);
		if (err != M2M_OK)
			return 0;
		FUZZ_ASSERT(data[0] == PROTO_DATA_ACK || data[0] == PROTO_REKEY_ACK);
		FUZZ_ASSERT(a.acked_seq == proto_get_u64(buf));
		instr_in_bounds(a.instr, a.n_instr, buf, len);
		FUZZ_ASSERT(proto_ack_pt_encode(data[0], &a, out, sizeof(out), &n) == M2M_OK);
		FUZZ_ASSERT(n == len && memcmp(out, buf, len) == 0);
		return 0;
	}
}
