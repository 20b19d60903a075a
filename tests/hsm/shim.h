/* SPDX-License-Identifier: Apache-2.0 */
/* The test PKCS#11 module's control block: tests/hsm/shim.c forwards every
 * call to a real module (SoftHSM2) and injects latency and failures. */
#ifndef M2M_TEST_SHIM_H
#define M2M_TEST_SHIM_H

#include <stdatomic.h>

/* Read from the environment at load (M2M_SHIM_LATENCY_US, M2M_SHIM_FAIL_DERIVE,
 * M2M_SHIM_FAIL_RV, M2M_SHIM_DOWN, M2M_SHIM_PIN_LOCKED, M2M_SHIM_NO_ECDH),
 * changed at run time by tests through m2m_shim_ctl(), or, from another
 * process, by rewriting the file M2M_SHIM_CTL_FILE names (NAME=VALUE lines
 * with the same names; read again whenever its mtime changes). */
struct m2m_shim_ctl {
	atomic_uint latency_us;		/* added to every C_DeriveKey */
	atomic_int fail_derive;		/* the next N C_DeriveKey return fail_rv */
	atomic_ulong fail_rv;		/* default CKR_DEVICE_ERROR */
	atomic_int down;		/* every call: CKR_DEVICE_REMOVED */
	atomic_int pin_locked;		/* token flags say locked, C_Login CKR_PIN_LOCKED */
	atomic_int no_ecdh;		/* CKM_ECDH1_DERIVE missing */
	atomic_uint logins;		/* C_Login calls seen */
	atomic_ulong derives;		/* C_DeriveKey calls forwarded */
};

typedef struct m2m_shim_ctl *m2m_shim_ctl_fn(void);
/* Closes every session of the real module: a token reboot (logs out too). */
typedef void m2m_shim_reset_fn(void);

#endif
