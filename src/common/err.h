/* SPDX-License-Identifier: Apache-2.0 */
/* The one error enum of m2md and its string table. Each part lists its own
 * codes in its errors.def so that parts can grow without touching others. */
#ifndef M2M_ERR_H
#define M2M_ERR_H

#include <stddef.h>

enum m2m_err {
	M2M_OK = 0,
#define M2M_ERR(name, text) name,
#include "src/common/errors.def"
#include "src/proto/errors.def"
#include "hsm/errors.def"
#include "db/errors.def"
#include "src/server/errors.def"
#undef M2M_ERR
	M2M_ERR_COUNT
};

/* A fixed, human-readable sentence for each code; never NULL. */
const char *m2m_strerror(enum m2m_err err);
/* The symbolic name ("M2M_E_TRUNCATED"), for logs and metrics labels. */
const char *m2m_errname(enum m2m_err err);
/* What a program prints last: the code's sentence, then ": " and the
 * detail, unless the detail already says it (a detail is often a whole
 * sentence that names its cause), so nothing is said twice. */
const char *m2m_err_join(enum m2m_err err, const char *detail, char *out, size_t len);

#endif
