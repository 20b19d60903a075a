/* SPDX-License-Identifier: Apache-2.0 */
/* The primitives of suite 1 against published vectors: RFC 5869 and
 * Wycheproof for HKDF, Wycheproof for AES-GCM and P-256 ECDH points. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/common/testutil.h"

static struct proto_ctx *ctx;

static void
setup(void)
{
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
}

static void
teardown(void)
{
	proto_ctx_free(ctx);
}

TestSuite(crypto, .init = setup, .fini = teardown);

static const char *
str(json_object *t, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(t, key, &v), "vector lacks %s", key);
	return json_object_get_string(v);
}

static int
tcid(json_object *t)
{
	json_object *v;

	json_object_object_get_ex(t, "tcId", &v);
	return json_object_get_int(v);
}

static enum m2m_err
hkdf(const uint8_t *salt, size_t sl, const uint8_t *ikm, size_t il, const uint8_t *info,
    size_t nl, uint8_t *out, size_t ol)
{
	uint8_t prk[PROTO_HASH_LEN];
	enum m2m_err err = proto_hkdf_extract(ctx, salt, sl, ikm, il, prk);

	return err != M2M_OK ? err : proto_hkdf_expand(ctx, prk, sizeof(prk), info, nl, out, ol);
}

/* RFC 5869 appendix A, test cases 1 and 3 (SHA-256). */
Test(crypto, hkdf_rfc5869)
{
	static const struct {
		const char *ikm, *salt, *info, *prk, *okm;
	} tc[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		  "34007208d5b887185865" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		  "9d201395faa4b61a96c8" },
	};
	size_t i, n, il, sl, nl, pl, ol;

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		uint8_t *ikm = tu_unhex(tc[i].ikm, &il), *salt = tu_unhex(tc[i].salt, &sl);
		uint8_t *info = tu_unhex(tc[i].info, &nl), *prk = tu_unhex(tc[i].prk, &pl);
		uint8_t *okm = tu_unhex(tc[i].okm, &ol), got[PROTO_HASH_LEN], out[64];

		cr_assert_eq(proto_hkdf_extract(ctx, salt, sl, ikm, il, got), M2M_OK);
		cr_assert_arr_eq(got, prk, pl, "PRK of case %zu", i);
		n = ol;
		cr_assert_eq(proto_hkdf_expand(ctx, got, sizeof(got), info, nl, out, n), M2M_OK);
		cr_assert_arr_eq(out, okm, ol, "OKM of case %zu", i);
		free(ikm), free(salt), free(info), free(prk), free(okm);
	}
}

Test(crypto, hkdf_wycheproof)
{
	json_object *root = tu_load_vectors("hkdf_sha256_test.json"), *groups, *tests;
	size_t g, i, il, sl, nl, ol, count = 0;

	json_object_object_get_ex(root, "testGroups", &groups);
	for (g = 0; g < json_object_array_length(groups); g++) {
		json_object_object_get_ex(json_object_array_get_idx(groups, g), "tests", &tests);
		for (i = 0; i < json_object_array_length(tests); i++) {
			json_object *t = json_object_array_get_idx(tests, i), *sz;
			uint8_t *ikm = tu_unhex(str(t, "ikm"), &il), *salt = tu_unhex(str(t, "salt"), &sl);
			uint8_t *info = tu_unhex(str(t, "info"), &nl), *okm = tu_unhex(str(t, "okm"), &ol);
			int valid = strcmp(str(t, "result"), "invalid") != 0;
			size_t size;
			uint8_t *out;
			enum m2m_err err;

			json_object_object_get_ex(t, "size", &sz);
			size = (size_t)json_object_get_int(sz);
			out = malloc(size + 1);
			err = hkdf(salt, sl, ikm, il, info, nl, out, size);
			if (valid) {
				cr_assert_eq(err, M2M_OK, "tcId %d", tcid(t));
				cr_assert_arr_eq(out, okm, ol, "tcId %d", tcid(t));
			} else {
				cr_assert_neq(err, M2M_OK, "invalid tcId %d accepted", tcid(t));
			}
			free(ikm), free(salt), free(info), free(okm), free(out);
			count++;
		}
	}
	cr_assert_gt(count, 80);
	json_object_put(root);
}

/* One Wycheproof AES-GCM vector of the suite's sizes: seal reproduces the
 * ciphertext and tag of valid ones, open refuses every invalid one. */
static void
gcm_vector(json_object *t)
{
	size_t kl, il, al, ml, cl, tl;
	uint8_t *key = tu_unhex(str(t, "key"), &kl), *iv = tu_unhex(str(t, "iv"), &il);
	uint8_t *aad = tu_unhex(str(t, "aad"), &al), *msg = tu_unhex(str(t, "msg"), &ml);
	uint8_t *ct = tu_unhex(str(t, "ct"), &cl), *tag = tu_unhex(str(t, "tag"), &tl);
	uint8_t *sealed = malloc(ml + PROTO_TAG_LEN), *opened = malloc(ml + 1);
	int valid = strcmp(str(t, "result"), "valid") == 0;
	enum m2m_err err;

	memcpy(sealed, ct, cl);
	memcpy(sealed + cl, tag, tl);
	err = proto_aead_open(ctx, key, iv, aad, al, sealed, cl + tl, opened);
	if (valid) {
		cr_assert_eq(err, M2M_OK, "tcId %d", tcid(t));
		cr_assert_arr_eq(opened, msg, ml, "tcId %d", tcid(t));
		cr_assert_eq(proto_aead_seal(ctx, key, iv, aad, al, msg, ml, sealed), M2M_OK);
		cr_assert_arr_eq(sealed, ct, cl, "tcId %d", tcid(t));
		cr_assert_arr_eq(sealed + cl, tag, tl, "tcId %d", tcid(t));
	} else {
		cr_assert_eq(err, M2M_E_PROTO_DECRYPT, "invalid tcId %d: %s", tcid(t),
		    m2m_strerror(err));
	}
	free(key), free(iv), free(aad), free(msg), free(ct), free(tag), free(sealed), free(opened);
}

Test(crypto, aes_gcm_wycheproof)
{
	json_object *root = tu_load_vectors("aes_gcm_test.json"), *groups, *tests, *v;
	size_t g, i, count = 0, invalid = 0;

	json_object_object_get_ex(root, "testGroups", &groups);
	for (g = 0; g < json_object_array_length(groups); g++) {
		json_object *grp = json_object_array_get_idx(groups, g);

		json_object_object_get_ex(grp, "keySize", &v);
		if (json_object_get_int(v) != 8 * PROTO_KEY_LEN)
			continue;
		json_object_object_get_ex(grp, "ivSize", &v);
		if (json_object_get_int(v) != 8 * PROTO_IV_LEN)
			continue;
		json_object_object_get_ex(grp, "tagSize", &v);
		if (json_object_get_int(v) != 8 * PROTO_TAG_LEN)
			continue;
		json_object_object_get_ex(grp, "tests", &tests);
		for (i = 0; i < json_object_array_length(tests); i++, count++) {
			json_object *t = json_object_array_get_idx(tests, i);

			invalid += strcmp(str(t, "result"), "invalid") == 0;
			gcm_vector(t);
		}
	}
	cr_log_info("AES-128-GCM: %zu vectors, %zu invalid", count, invalid);
	cr_assert_gt(count, 60);
	cr_assert_gt(invalid, 10);
	json_object_put(root);
}

Test(crypto, ecdh_point_wycheproof)
{
	json_object *root = tu_load_vectors("ecdh_secp256r1_ecpoint_test.json"), *groups, *tests;
	size_t g, i, pl, kl, sl, valid = 0, invalid = 0;

	json_object_object_get_ex(root, "testGroups", &groups);
	for (g = 0; g < json_object_array_length(groups); g++) {
		json_object_object_get_ex(json_object_array_get_idx(groups, g), "tests", &tests);
		for (i = 0; i < json_object_array_length(tests); i++) {
			json_object *t = json_object_array_get_idx(tests, i);
			uint8_t *pub = tu_unhex(str(t, "public"), &pl);
			uint8_t *priv = tu_unhex(str(t, "private"), &kl);
			uint8_t *shared = tu_unhex(str(t, "shared"), &sl), out[PROTO_DH_LEN];
			const char *result = str(t, "result");
			enum m2m_err err = proto_p256_ecdh(ctx, priv, kl, pub, pl, out);

			if (strcmp(result, "invalid") == 0) {
				cr_assert_neq(err, M2M_OK, "invalid tcId %d accepted", tcid(t));
				cr_assert_eq(proto_p256_check(ctx, pub, pl), M2M_E_PROTO_POINT,
				    "tcId %d", tcid(t));
				invalid++;
			} else if (strcmp(result, "valid") == 0 || err == M2M_OK) {
				cr_assert_eq(err, M2M_OK, "tcId %d: %s", tcid(t), m2m_strerror(err));
				cr_assert_arr_eq(out, shared, sl, "tcId %d", tcid(t));
				valid++;
			}
			free(pub), free(priv), free(shared);
		}
	}
	cr_log_info("P-256 points: %zu accepted, %zu rejected", valid, invalid);
	/* The file has 330 valid, 1 acceptable and 24 invalid vectors. */
	cr_assert_geq(valid, 330);
	cr_assert_eq(invalid, 24);
	json_object_put(root);
}

Test(crypto, keygen_and_ecdh_agree)
{
	uint8_t a[PROTO_SCALAR_LEN], A[PROTO_POINT_LEN], b[PROTO_SCALAR_LEN], B[PROTO_POINT_LEN];
	uint8_t ab[PROTO_DH_LEN], ba[PROTO_DH_LEN];

	cr_assert_eq(proto_p256_keygen(ctx, a, A), M2M_OK);
	cr_assert_eq(proto_p256_keygen(ctx, b, B), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, a, sizeof(a), B, sizeof(B), ab), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, b, sizeof(b), A, sizeof(A), ba), M2M_OK);
	cr_assert_arr_eq(ab, ba, sizeof(ab));
}
