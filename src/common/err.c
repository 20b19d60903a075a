/* SPDX-License-Identifier: Apache-2.0 */
/* String tables for enum m2m_err, generated from the same lists as the enum. */
#include "config.h"

#include "src/common/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define M2M_ERR(name, text) [name] = text,
static const char *const err_text[M2M_ERR_COUNT] = {
	[M2M_OK] = "success",
#include "src/common/errors.def"
#include "src/proto/errors.def"
#include "hsm/errors.def"
#include "db/errors.def"
#include "src/server/errors.def"
};
#undef M2M_ERR

#define M2M_ERR(name, text) [name] = #name,
static const char *const err_name[M2M_ERR_COUNT] = {
	[M2M_OK] = "M2M_OK",
#include "src/common/errors.def"
#include "src/proto/errors.def"
#include "hsm/errors.def"
#include "db/errors.def"
#include "src/server/errors.def"
};
#undef M2M_ERR

const char *
m2m_strerror(enum m2m_err err)
{
	if ((unsigned)err >= M2M_ERR_COUNT || err_text[err] == NULL)
		return "unknown error";
	return err_text[err];
}

const char *
m2m_errname(enum m2m_err err)
{
	if ((unsigned)err >= M2M_ERR_COUNT || err_name[err] == NULL)
		return "M2M_E_UNKNOWN";
	return err_name[err];
}

const char *
m2m_err_join(enum m2m_err err, const char *detail, char *out, size_t len)
{
	const char *text = m2m_strerror(err);

	if (detail == NULL || detail[0] == '\0')
		snprintf(out, len, "%s", text);
	else if (strstr(detail, text) != NULL)
		snprintf(out, len, "%s", detail);
	else
		snprintf(out, len, "%s: %s", text, detail);
	return out;
}
