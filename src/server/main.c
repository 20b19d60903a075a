/* SPDX-License-Identifier: Apache-2.0 */
/* m2md: the command line. Reads the configuration, then runs the server
 * or (-t) checks that it could. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/server/log.h"
#include "src/server/server.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: m2md [-ftvV] [-c FILE]\n"
	    "  -c FILE  configuration (default %s)\n"
	    "  -f       stay in the foreground (as under systemd)\n"
	    "  -t       check the configuration, the token, the key and the database; exit\n"
	    "  -v       log at debug level\n"
	    "  -V       print the version and exit\n", srv_config_default_path());
}

int
main(int argc, char **argv)
{
	struct srv_config cfg;
	const char *path = srv_config_default_path();
	char err[1024] = "", msg[1200];
	int ch, fg = 0, test = 0, verbose = 0;
	enum m2m_err e;

	while ((ch = getopt(argc, argv, "c:fhtvV")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': fg = 1; break;
		case 't': test = 1; break;
		case 'v': verbose = 1; break;
		case 'V': printf("m2md %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((e = srv_config_load(&cfg, path, err, sizeof(err))) != M2M_OK) {
		fprintf(stderr, "%sm2md: %s\n", srv_log_prefix(SRV_LOG_ERR), err);
		return 1;
	}
	if (verbose)
		cfg.log_level = SRV_LOG_DEBUG;
	hsm_config_from_env(&cfg.hsm);
	srv_node_name(&cfg);
	if (test) {
		e = srv_check(&cfg, err, sizeof(err));
		printf("%s: %s\n", e == M2M_OK ? "configuration ok" : "configuration failed",
		    e == M2M_OK ? (cfg.path ? cfg.path : "defaults") : err);
		srv_config_free(&cfg);
		return e == M2M_OK ? 0 : 1;
	}
	if (!fg) {
		cfg.log_syslog = 1;
		if (daemon(0, 0) != 0) {
			perror("m2md: daemon");
			return 1;
		}
	}
	srv_log_open(cfg.log_level, cfg.log_syslog);
	if ((e = srv_run(&cfg, err, sizeof(err))) != M2M_OK)
		log_err("%s", m2m_err_join(e, err, msg, sizeof(msg)));
	srv_config_free(&cfg);
	return e == M2M_OK ? 0 : 1;
}
