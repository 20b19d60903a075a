/* SPDX-License-Identifier: Apache-2.0 */
/* Detail strings for callers: formatting into their buffer, and what libp11
 * left in OpenSSL's error queue turned back into a CKR_ name. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdio.h>

#include <openssl/err.h>

void
hsm_detail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libp11 reports a failed C_* call as an error whose library is its CKR
 * library and whose reason is the CK_RV; anything else is shown as text. */
const char *
hsm_p11_last_error(char *buf, size_t len)
{
	unsigned long e, last = 0;
	int ckr_lib = ERR_get_CKR_code();

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		snprintf(buf, len, "no reason given");
	else if (ERR_GET_LIB(last) == ckr_lib)
		snprintf(buf, len, "%s", hsm_ckr_name((CK_RV)ERR_GET_REASON(last)));
	else
		ERR_error_string_n(last, buf, len);
	return buf;
}
