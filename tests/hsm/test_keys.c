/* SPDX-License-Identifier: Apache-2.0 */
/* HSM keys on a real SoftHSM2 token: keygen attributes, list, export, and
 * ECDH in the token equal to software ECDH with the exported public key. */
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "tests/hsm/p11raw.h"

static struct tok t;

static void
setup(void)
{
	tok_create(&t, "m2m", 0);
}

static void
teardown(void)
{
	tok_destroy(&t);
}

TestSuite(hsm_keys, .init = setup, .fini = teardown, .timeout = 60);

static struct hsm *
open_ok(const struct hsm_config *cfg)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm *h = NULL;
	enum m2m_err e = hsm_open(&h, cfg, err, sizeof(err));

	cr_assert_eq(e, M2M_OK, "hsm_open: %s: %s", m2m_errname(e), err);
	return h;
}

static void
keygen_ok(struct hsm *h, const char *label, struct hsm_key_info *k)
{
	char err[HSM_DETAIL_LEN] = "";
	enum m2m_err e = hsm_keygen(h, label, NULL, 0, k, err, sizeof(err));

	cr_assert_eq(e, M2M_OK, "keygen: %s: %s", m2m_errname(e), err);
}

Test(hsm_keys, keygen_attributes_and_value_unreadable)
{
	struct hsm_key_info k;
	struct raw_attrs a;
	uint8_t digest[32];
	struct hsm *h = open_ok(&t.cfg);

	keygen_ok(h, "server-2026", &k);
	hsm_close(h);
	cr_assert(k.p256 && k.has_pub && k.derive && k.sensitive && !k.extractable);
	/* CKA_ID defaults to the protocol key id: SHA-256(point)[0..3]. */
	SHA256(k.pub, HSM_POINT_LEN, digest);
	cr_assert(memcmp(k.key_id, digest, HSM_KEY_ID_LEN) == 0);
	cr_assert(k.id_len == HSM_KEY_ID_LEN && memcmp(k.id, k.key_id, HSM_KEY_ID_LEN) == 0);
	/* Checked again through our own PKCS#11 session, not the code under test. */
	raw_key_attrs(&t, "server-2026", &a);
	cr_assert(a.token && a.private_ && a.sensitive && !a.extractable && a.derive);
	cr_assert(a.always_sensitive && a.never_extractable);
	cr_assert_neq(a.value_rv, 0, "CKA_VALUE of the private key was readable");
	cr_assert_str_eq(a.value_rv_name, "CKR_ATTRIBUTE_SENSITIVE");
}

Test(hsm_keys, keygen_refuses_duplicate_label)
{
	char err[HSM_DETAIL_LEN];
	struct hsm_key_info k;
	struct hsm *h = open_ok(&t.cfg);

	keygen_ok(h, "dup", &k);
	cr_assert_eq(hsm_keygen(h, "dup", NULL, 0, &k, err, sizeof(err)), M2M_E_HSM_KEY_EXISTS);
	hsm_close(h);
}

Test(hsm_keys, list_shows_label_id_and_key_id)
{
	struct hsm_key_info a, b, keys[8];
	size_t n, i, seen = 0;
	char err[HSM_DETAIL_LEN];
	struct hsm *h = open_ok(&t.cfg);

	keygen_ok(h, "old", &a);
	keygen_ok(h, "new", &b);
	cr_assert_eq(hsm_key_list(h, keys, 8, &n, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(n, 2);
	for (i = 0; i < n; i++) {
		const struct hsm_key_info *want = strcmp(keys[i].label, "old") == 0 ? &a : &b;

		cr_assert(memcmp(keys[i].key_id, want->key_id, HSM_KEY_ID_LEN) == 0);
		cr_assert(memcmp(keys[i].pub, want->pub, HSM_POINT_LEN) == 0);
		seen |= strcmp(keys[i].label, "old") == 0 ? 1 : 2;
	}
	cr_assert_eq(seen, 3);
	hsm_close(h);
}

Test(hsm_keys, export_pem_matches_raw_point)
{
	char pem[1024];
	uint8_t pt[HSM_POINT_LEN];
	struct hsm_key_info k;
	EVP_PKEY *pk;
	BIO *bio;
	struct hsm *h = open_ok(&t.cfg);

	keygen_ok(h, "server", &k);
	hsm_close(h);
	cr_assert_eq(hsm_pub_pem(k.pub, pem, sizeof(pem)), M2M_OK);
	cr_assert(strstr(pem, "-----BEGIN PUBLIC KEY-----") == pem);
	bio = BIO_new_mem_buf(pem, -1);
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	cr_assert(pk != NULL && EVP_PKEY_is_a(pk, "EC"));
	tok_pub_compressed(pk, pt);
	cr_assert(memcmp(pt, k.pub, HSM_POINT_LEN) == 0);
	EVP_PKEY_free(pk);
	BIO_free(bio);
}

Test(hsm_keys, hsm_ecdh_equals_software_ecdh)
{
	uint8_t peer[HSM_POINT_LEN], full[HSM_POINT_FULL_LEN + 1];
	uint8_t got[HSM_SECRET_LEN], want[HSM_SECRET_LEN];
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_session *s;
	struct hsm_key_info k;
	struct hsm *h = open_ok(&t.cfg);
	size_t len;
	void *pk;
	int i;

	keygen_ok(h, "server-2026", &k);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_OK, "%s", err);
	for (i = 0; i < 50; i++) {
		tok_soft_key(peer, &pk);
		tok_soft_ecdh(pk, k.pub, want);	/* the module's side: ECDH(e, S) */
		cr_assert(EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, full,
		    sizeof(full), &len) == 1 && len == HSM_POINT_FULL_LEN);
		tok_soft_free(pk);
		cr_assert_eq(hsm_derive(s, k.key_id, peer, got, err, sizeof(err)), M2M_OK, "%s", err);
		cr_assert(memcmp(got, want, HSM_SECRET_LEN) == 0, "derive %d differs", i);
		/* The uncompressed form, as m2md passes it, gives the same secret. */
		memset(got, 0, sizeof(got));
		cr_assert_eq(hsm_derive_point(s, k.key_id, full, HSM_POINT_FULL_LEN, got, err,
		    sizeof(err)), M2M_OK, "%s", err);
		cr_assert(memcmp(got, want, HSM_SECRET_LEN) == 0, "derive %d (uncompressed) differs", i);
	}
	cr_assert_eq(hsm_derive_point(s, k.key_id, full, HSM_POINT_FULL_LEN + 1, got, err,
	    sizeof(err)), M2M_E_HSM_PEER, "a 66-byte point is no point");
	full[HSM_POINT_FULL_LEN - 1] ^= 1;
	cr_assert_eq(hsm_derive_point(s, k.key_id, full, HSM_POINT_FULL_LEN, got, err,
	    sizeof(err)), M2M_E_HSM_PEER, "uncompressed, off the curve");
	/* Off the curve: rejected before the token is asked. */
	peer[HSM_POINT_LEN - 1] ^= 1;
	peer[0] = 0x05;
	cr_assert_eq(hsm_derive(s, k.key_id, peer, got, err, sizeof(err)), M2M_E_HSM_PEER);
	peer[0] = 0x02;
	k.key_id[0] ^= 0xff;
	cr_assert_eq(hsm_derive(s, k.key_id, peer, got, err, sizeof(err)),
	    M2M_E_HSM_KEY_NOT_FOUND);
	hsm_session_close(s);
	hsm_close(h);
}

Test(hsm_keys, token_and_key_by_uri_and_serial)
{
	char err[HSM_DETAIL_LEN] = "", serial[64], name[160];
	struct hsm_key_info k, found;
	struct hsm_config cfg = t.cfg;
	struct hsm *h = open_ok(&t.cfg);

	keygen_ok(h, "server-2026", &k);
	snprintf(name, sizeof(name), "%s", hsm_token_name(h));
	hsm_close(h);
	cfg.token = "pkcs11:token=m2m;object=server-2026;type=private";
	h = open_ok(&cfg);
	cr_assert_eq(hsm_key_find(h, NULL, &found, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert(memcmp(found.key_id, k.key_id, HSM_KEY_ID_LEN) == 0);
	hsm_close(h);
	/* name is "'m2m' (serial S)" */
	cr_assert(sscanf(name, "'m2m' (serial %63[^)])", serial) == 1, "%s", name);
	cfg.token = serial;
	cfg.key = "id:00";
	h = open_ok(&cfg);
	cr_assert_eq(hsm_key_find(h, NULL, &found, err, sizeof(err)), M2M_E_HSM_KEY_NOT_FOUND);
	cr_assert_eq(hsm_key_find(h, "server-2026", &found, err, sizeof(err)), M2M_OK);
	hsm_close(h);
}
