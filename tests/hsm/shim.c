/* SPDX-License-Identifier: Apache-2.0 */
/* A test PKCS#11 module standing in for a network HSM and a failing one: it
 * forwards to SoftHSM2 (M2M_SHIM_TARGET, else SOFTHSM2_MODULE) and injects
 * latency and failures as tests/hsm/shim.h describes. Never installed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CRYPTOKI_COMPAT
#include "hsm/pkcs11.h"
#include "tests/hsm/shim.h"

static struct m2m_shim_ctl ctl = { .fail_rv = CKR_DEVICE_ERROR };
static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST list;

struct m2m_shim_ctl *m2m_shim_ctl(void);
void m2m_shim_reset(void);
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);

struct m2m_shim_ctl *
m2m_shim_ctl(void)
{
	return &ctl;
}

void
m2m_shim_reset(void)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16, i;

	if (real->C_GetSlotList(CK_FALSE, slots, &n) == CKR_OK)
		for (i = 0; i < n; i++)
			real->C_CloseAllSessions(slots[i]);
}

/* Only what the environment sets: a test may have set the rest already. */
static void
envset(const char *name, void (*set)(long))
{
	const char *v = getenv(name);

	if (v != NULL && *v != '\0')
		set(strtol(v, NULL, 0));
}

static void set_latency(long v) { atomic_store(&ctl.latency_us, (unsigned)v); }
static void set_fail(long v) { atomic_store(&ctl.fail_derive, (int)v); }
static void set_rv(long v) { atomic_store(&ctl.fail_rv, (unsigned long)v); }
static void set_down(long v) { atomic_store(&ctl.down, (int)v); }
static void set_locked(long v) { atomic_store(&ctl.pin_locked, (int)v); }
static void set_no_ecdh(long v) { atomic_store(&ctl.no_ecdh, (int)v); }

/* M2M_SHIM_CTL_FILE: another process (a test driving m2md) changes the
 * faults at run time by rewriting this file of NAME=VALUE lines, NAME one
 * of the environment variables above. Re-read whenever its mtime changes. */
static const char *ctl_file;
static pthread_mutex_t ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct timespec ctl_mtime;

static void
ctl_line(const char *name, long v)
{
	static const struct { const char *n; void (*set)(long); } keys[] = {
		{ "M2M_SHIM_LATENCY_US", set_latency }, { "M2M_SHIM_FAIL_DERIVE", set_fail },
		{ "M2M_SHIM_FAIL_RV", set_rv }, { "M2M_SHIM_DOWN", set_down },
		{ "M2M_SHIM_PIN_LOCKED", set_locked }, { "M2M_SHIM_NO_ECDH", set_no_ecdh },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(name, keys[i].n) == 0)
			keys[i].set(v);
}

static void
ctl_reload(void)
{
	struct stat st;
	char name[64], line[128];
	long v;
	FILE *f;

	if (ctl_file == NULL || stat(ctl_file, &st) != 0)
		return;
	pthread_mutex_lock(&ctl_mu);
	if (st.st_mtim.tv_sec != ctl_mtime.tv_sec || st.st_mtim.tv_nsec != ctl_mtime.tv_nsec) {
		ctl_mtime = st.st_mtim;
		if ((f = fopen(ctl_file, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "%63[A-Z0-9_]=%li", name, &v) == 2)
					ctl_line(name, v);
			fclose(f);
		}
	}
	pthread_mutex_unlock(&ctl_mu);
}

static CK_RV
shim_DeriveKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k,
    CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	unsigned us;
	int left;

	ctl_reload();
	us = atomic_load(&ctl.latency_us);
	if (atomic_load(&ctl.down))
		return CKR_DEVICE_REMOVED;
	if (atomic_load(&ctl.no_ecdh) && m->mechanism == CKM_ECDH1_DERIVE)
		return CKR_MECHANISM_INVALID;
	if (us > 0) {
		struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

		nanosleep(&ts, NULL);
	}
	left = atomic_load(&ctl.fail_derive);
	while (left > 0)
		if (atomic_compare_exchange_weak(&ctl.fail_derive, &left, left - 1))
			return (CK_RV)atomic_load(&ctl.fail_rv);
	atomic_fetch_add(&ctl.derives, 1);
	return real->C_DeriveKey(s, m, k, t, n, out);
}

static CK_RV
shim_Login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	atomic_fetch_add(&ctl.logins, 1);
	ctl_reload();
	if (atomic_load(&ctl.down))
		return CKR_DEVICE_REMOVED;
	if (atomic_load(&ctl.pin_locked))
		return CKR_PIN_LOCKED;
	return real->C_Login(s, u, pin, len);
}

static CK_RV
shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;

	ctl_reload();
	if (atomic_load(&ctl.down))
		return CKR_DEVICE_REMOVED;
	rv = real->C_GetTokenInfo(slot, info);
	if (rv == CKR_OK && atomic_load(&ctl.pin_locked))
		info->flags |= CKF_USER_PIN_LOCKED;
	return rv;
}

static CK_RV
shim_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR info)
{
	if (atomic_load(&ctl.no_ecdh) && t == CKM_ECDH1_DERIVE)
		return CKR_MECHANISM_INVALID;
	return real->C_GetMechanismInfo(slot, t, info);
}

static CK_RV
shim_OpenSession(CK_SLOT_ID slot, CK_FLAGS f, CK_VOID_PTR app, CK_NOTIFY cb,
    CK_SESSION_HANDLE_PTR s)
{
	ctl_reload();
	if (atomic_load(&ctl.down))
		return CKR_DEVICE_REMOVED;
	return real->C_OpenSession(slot, f, app, cb, s);
}

static CK_RV
shim_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	if (atomic_load(&ctl.down))
		return CKR_DEVICE_REMOVED;
	return real->C_FindObjectsInit(s, t, n);
}

static CK_RV
load(void)
{
	const char *path = getenv("M2M_SHIM_TARGET");
	CK_C_GetFunctionList getfl;
	void *dl;

	if (path == NULL)
		path = getenv("SOFTHSM2_MODULE");
	if (path == NULL || (dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (getfl = (CK_C_GetFunctionList)(uintptr_t)dlsym(dl, "C_GetFunctionList")) == NULL ||
	    getfl(&real) != CKR_OK)
		return CKR_GENERAL_ERROR;
	list = *real;
	list.C_GetFunctionList = C_GetFunctionList;
	list.C_DeriveKey = shim_DeriveKey;
	list.C_Login = shim_Login;
	list.C_GetTokenInfo = shim_GetTokenInfo;
	list.C_GetMechanismInfo = shim_GetMechanismInfo;
	list.C_OpenSession = shim_OpenSession;
	list.C_FindObjectsInit = shim_FindObjectsInit;
	envset("M2M_SHIM_LATENCY_US", set_latency);
	envset("M2M_SHIM_FAIL_DERIVE", set_fail);
	envset("M2M_SHIM_FAIL_RV", set_rv);
	envset("M2M_SHIM_DOWN", set_down);
	envset("M2M_SHIM_PIN_LOCKED", set_locked);
	envset("M2M_SHIM_NO_ECDH", set_no_ecdh);
	ctl_file = getenv("M2M_SHIM_CTL_FILE");
	ctl_reload();
	return CKR_OK;
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	CK_RV rv;

	if (real == NULL && (rv = load()) != CKR_OK)
		return rv;
	*out = &list;
	return CKR_OK;
}
