/* SPDX-License-Identifier: Apache-2.0 */
/* Raw PKCS#11 helpers of the HSM tests (see p11raw.h). */
#define _GNU_SOURCE
#include "tests/hsm/p11raw.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#define CRYPTOKI_COMPAT
#include "hsm/pkcs11.h"

static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static CK_FUNCTION_LIST *
raw_open(CK_SESSION_HANDLE *s, void **dl)
{
	CK_C_GetFunctionList getfl;
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8;

	*dl = dlopen(getenv("SOFTHSM2_MODULE"), RTLD_NOW | RTLD_LOCAL);
	cr_assert(*dl != NULL);
	getfl = (CK_C_GetFunctionList)(uintptr_t)dlsym(*dl, "C_GetFunctionList");
	cr_assert(getfl != NULL && getfl(&f) == CKR_OK);
	cr_assert(f->C_Initialize(NULL) == CKR_OK);
	cr_assert(f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK && n >= 1);
	cr_assert(f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	    s) == CKR_OK);
	cr_assert(f->C_Login(*s, CKU_USER, (CK_UTF8CHAR *)TOK_PIN, strlen(TOK_PIN)) == CKR_OK);
	return f;
}

static void
raw_close(CK_FUNCTION_LIST *f, void *dl)
{
	f->C_Finalize(NULL);
	dlclose(dl);
}

static int
flag(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { t, &b, sizeof(b) };

	cr_assert(f->C_GetAttributeValue(s, o, &a, 1) == CKR_OK);
	return b == CK_TRUE;
}

void
raw_key_attrs(struct tok *t, const char *label, struct raw_attrs *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) } };
	uint8_t value[64];
	CK_ATTRIBUTE val = { CKA_VALUE, value, sizeof(value) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_ULONG n = 0;
	CK_FUNCTION_LIST *f;
	void *dl;

	(void)t;
	f = raw_open(&s, &dl);
	cr_assert(f->C_FindObjectsInit(s, tmpl, 2) == CKR_OK);
	cr_assert(f->C_FindObjects(s, &o, 1, &n) == CKR_OK && n == 1, "key %s not found", label);
	f->C_FindObjectsFinal(s);
	out->token = flag(f, s, o, CKA_TOKEN);
	out->private_ = flag(f, s, o, CKA_PRIVATE);
	out->sensitive = flag(f, s, o, CKA_SENSITIVE);
	out->extractable = flag(f, s, o, CKA_EXTRACTABLE);
	out->derive = flag(f, s, o, CKA_DERIVE);
	out->always_sensitive = flag(f, s, o, CKA_ALWAYS_SENSITIVE);
	out->never_extractable = flag(f, s, o, CKA_NEVER_EXTRACTABLE);
	out->value_rv = f->C_GetAttributeValue(s, o, &val, 1);
	out->value_rv_name = out->value_rv == CKR_ATTRIBUTE_SENSITIVE ? "CKR_ATTRIBUTE_SENSITIVE" :
	    out->value_rv == CKR_OK ? "CKR_OK" : "other";
	raw_close(f, dl);
}

void
raw_make_nonderive_key(struct tok *t, const char *label)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL tr = CK_TRUE, fa = CK_FALSE;
	uint8_t id = 0x42;
	CK_ATTRIBUTE pubt[] = { { CKA_TOKEN, &tr, 1 },
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
		{ CKA_LABEL, (void *)label, strlen(label) }, { CKA_ID, &id, 1 } };
	CK_ATTRIBUTE privt[] = { { CKA_TOKEN, &tr, 1 }, { CKA_PRIVATE, &tr, 1 },
		{ CKA_SENSITIVE, &tr, 1 }, { CKA_DERIVE, &fa, 1 }, { CKA_SIGN, &tr, 1 },
		{ CKA_LABEL, (void *)label, strlen(label) }, { CKA_ID, &id, 1 } };
	CK_OBJECT_HANDLE pub, priv;
	CK_SESSION_HANDLE s;
	CK_FUNCTION_LIST *f;
	void *dl;

	(void)t;
	f = raw_open(&s, &dl);
	cr_assert(f->C_GenerateKeyPair(s, &mech, pubt, 4, privt, 7, &pub, &priv) == CKR_OK);
	raw_close(f, dl);
}
