/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket m2mctl sessions talks to (control.c). */
#ifndef M2M_SRV_CONTROL_H
#define M2M_SRV_CONTROL_H

#include <stddef.h>

#include "src/common/err.h"

struct srv;
/* Listens on [server] control, if set, on the main thread's loop. */
enum m2m_err srv_control_start(struct srv *s, char *err, size_t errlen);
/* After the workers were joined. */
void srv_control_stop(struct srv *s);

#endif
