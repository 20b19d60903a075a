/* SPDX-License-Identifier: Apache-2.0 */
/* Database errors on m2md's packet path, in the log: a failed lookup or
 * batch is a line at warning or error level with its SQLSTATE and
 * PostgreSQL's message, at most one per SQLSTATE class per worker per
 * second, each saying how many like it were left out since the last. */
#ifndef M2M_SRV_DBERR_H
#define M2M_SRV_DBERR_H

#include <stdint.h>

#include "db/db.h"

#define SRV_DBERR_CLASSES	8	/* classes tracked at once per worker */

struct srv_dberr_class {
	char cls[3];			/* "42"; "" for a free slot */
	char last[6];			/* the last SQLSTATE of the class */
	uint32_t logged_ms;		/* when its last line was written */
	unsigned left_out;		/* errors since, not logged */
};

struct srv_dberr {
	struct srv_dberr_class c[SRV_DBERR_CLASSES];
};

/* One failed statement of worker's connection conn ("writes", "lookups"). */
void srv_dberr_log(struct srv_dberr *d, unsigned worker, const char *conn,
    const struct db_error *e, uint32_t now_ms);
/* From the worker's tick: the count of what was left out, once a second is
 * over, so that a burst that stopped still shows how large it was. */
void srv_dberr_flush(struct srv_dberr *d, unsigned worker, uint32_t now_ms);

#endif
