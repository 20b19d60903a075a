/* SPDX-License-Identifier: Apache-2.0 */
/* The strict codec: byte-exact encoding and decoding of every message of
 * doc/protocol.md. Decoded fields point into the caller's buffer. */
#ifndef M2M_PROTO_WIRE_H
#define M2M_PROTO_WIRE_H

struct proto_hello {
	uint8_t suite;
	const uint8_t *key_id;		/* PROTO_KEY_ID_LEN */
	const uint8_t *pseudonym;
	size_t pseudonym_len;		/* PROTO_PSEUDONYM_MIN..MAX */
	const uint8_t *e_m;		/* PROTO_POINT_LEN, not yet validated */
	const uint8_t *cookie;		/* NULL or PROTO_COOKIE_LEN */
	size_t cookie_len;
};

struct proto_challenge {
	const uint8_t *token;		/* PROTO_TOKEN_LEN */
	const uint8_t *e_s;		/* PROTO_POINT_LEN */
};

struct proto_auth {
	const uint8_t *token;
	const uint8_t *c1;		/* encrypted padded identity + tag */
	size_t c1_len;
	const uint8_t *c2;		/* encrypted first data + tag */
	size_t c2_len;
};

struct proto_welcome {
	const uint8_t *session_id;
	const uint8_t *c3;
	size_t c3_len;
};

/* DATA, DATA_ACK, REKEY and REKEY_ACK share this record layout. */
struct proto_record {
	uint8_t type;
	const uint8_t *session_id;
	uint64_t seq;
	const uint8_t *ct;		/* ciphertext + tag */
	size_t ct_len;
};

/* Checks version, type and size bounds common to every datagram. */
enum m2m_err proto_peek(const uint8_t *buf, size_t len, uint8_t *type);

enum m2m_err proto_hello_decode(const uint8_t *buf, size_t len, struct proto_hello *m);
enum m2m_err proto_hello_encode(const struct proto_hello *m, uint8_t *out, size_t cap,
    size_t *outlen);
enum m2m_err proto_retry_decode(const uint8_t *buf, size_t len, const uint8_t **cookie);
enum m2m_err proto_retry_encode(const uint8_t cookie[PROTO_COOKIE_LEN], uint8_t *out,
    size_t cap, size_t *outlen);
enum m2m_err proto_challenge_decode(const uint8_t *buf, size_t len, struct proto_challenge *m);
enum m2m_err proto_challenge_encode(const struct proto_challenge *m, uint8_t *out,
    size_t cap, size_t *outlen);
enum m2m_err proto_auth_decode(const uint8_t *buf, size_t len, struct proto_auth *m);
/* The identity padded as C1 carries it: length byte, identity, zeros to
 * the bucket (16, 32 or 64 bytes). Returns the plaintext's length, 0 when
 * id_len is not 1..64. out holds PROTO_IDENTITY_PT_MAX bytes. */
size_t proto_identity_pad(const uint8_t *id, size_t id_len, uint8_t *out);
/* The plaintext length C1 has for an identity of id_len bytes; 0 if none. */
size_t proto_identity_pt_len(size_t id_len);
/* Writes the header, token and C1 length; C1 and C2 are sealed in place
 * by the module role at the offsets this returns. */
enum m2m_err proto_auth_layout(size_t id_len, size_t data_len, size_t cap,
    size_t *c1_off, size_t *c2_off, size_t *total);
enum m2m_err proto_welcome_decode(const uint8_t *buf, size_t len, struct proto_welcome *m);
enum m2m_err proto_record_decode(const uint8_t *buf, size_t len, struct proto_record *m);

/* Plaintext payloads inside authenticated messages. */
struct proto_instr {
	uint8_t id[PROTO_INSTR_ID_LEN];
	const uint8_t *body;
	size_t body_len;
};

/* WELCOME: status, next pseudonym, instructions. */
struct proto_welcome_pt {
	uint8_t status;
	const uint8_t *pseudonym;
	size_t pseudonym_len;
	struct proto_instr instr[PROTO_INSTR_MAX];
	size_t n_instr;
};
/* DATA: instruction ids the module confirms, then its payload. */
struct proto_data_pt {
	const uint8_t *acks;		/* n_acks * PROTO_INSTR_ID_LEN */
	size_t n_acks;
	const uint8_t *payload;
	size_t payload_len;
};
/* DATA_ACK and REKEY_ACK: the sequence number answered, then for DATA_ACK
 * the instructions, for REKEY_ACK a status byte. */
struct proto_ack_pt {
	uint64_t acked_seq;
	uint8_t status;
	struct proto_instr instr[PROTO_INSTR_MAX];
	size_t n_instr;
};

enum m2m_err proto_welcome_pt_encode(const struct proto_welcome_pt *m, uint8_t *out,
    size_t cap, size_t *outlen);
enum m2m_err proto_welcome_pt_decode(const uint8_t *buf, size_t len, struct proto_welcome_pt *m);
enum m2m_err proto_data_pt_encode(const struct proto_data_pt *m, uint8_t *out, size_t cap,
    size_t *outlen);
enum m2m_err proto_data_pt_decode(const uint8_t *buf, size_t len, struct proto_data_pt *m);
enum m2m_err proto_ack_pt_encode(uint8_t type, const struct proto_ack_pt *m, uint8_t *out,
    size_t cap, size_t *outlen);
enum m2m_err proto_ack_pt_decode(uint8_t type, const uint8_t *buf, size_t len,
    struct proto_ack_pt *m);

/* Big-endian helpers shared by the codec and its callers. */
void proto_put_u64(uint8_t *p, uint64_t v);
uint64_t proto_get_u64(const uint8_t *p);

#endif
