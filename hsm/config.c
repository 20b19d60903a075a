/* SPDX-License-Identifier: Apache-2.0 */
/* struct hsm_config: defaults and the environment layer. The command line
 * and m2md.conf's [hsm] section fill the same struct. */
#include "config.h"

#include "hsm/hsm.h"

#include <stdlib.h>
#include <string.h>

/* 2 threads keep a local token busy on a 2-core box; a network HSM wants
 * about pool = target rate x latency (16 threads for 8,000/s at 2 ms). */
#define HSM_POOL_THREADS_DEFAULT	2
#define HSM_POOL_QUEUE_DEFAULT		1024

void
hsm_config_init(struct hsm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->pool_threads = HSM_POOL_THREADS_DEFAULT;
	cfg->pool_queue = HSM_POOL_QUEUE_DEFAULT;
}

static void
fill(const char **field, const char *env)
{
	const char *v = getenv(env);

	if (*field == NULL && v != NULL && *v != '\0')
		*field = v;
}

/* M2M_PIN is not copied here on purpose: it is read at login time only. */
void
hsm_config_from_env(struct hsm_config *cfg)
{
	fill(&cfg->module, "M2M_PKCS11_MODULE");
	fill(&cfg->pin_file, "M2M_PIN_FILE");
	fill(&cfg->token, "M2M_TOKEN");
	fill(&cfg->key, "M2M_KEY");
}
