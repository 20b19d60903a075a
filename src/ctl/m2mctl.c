/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl: dispatches the subcommands of the admin tool. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/ctl/ctl.h"
#include "src/server/conf.h"

static const struct ctl_cmd commands[] = {
	{ "bench", ctl_bench_main, "measure the protocol core, the HSM and the database" },
	{ "hsm", ctl_hsm_main, "server keys in the PKCS#11 token: keygen, list, export" },
	{ "db", ctl_db_main, "database schema: migrate, status, maintain (report partitions)" },
	{ "enroll", ctl_enroll_main, "register a module (or --count N simulated ones with credentials)" },
	{ "list", ctl_list_main, "list enrolled modules" },
	{ "show", ctl_show_main, "one module: status, pseudonyms, keys, instructions" },
	{ "suspend", ctl_status_main, "refuse a module's handshakes until resumed" },
	{ "resume", ctl_status_main, "accept a suspended module again" },
	{ "revoke", ctl_status_main, "revoke a module and its keys, for good" },
	{ "rotate-key", ctl_rotate_key_main, "replace a module's public key" },
	{ "instruct", ctl_instruct_main, "queue an instruction for a module" },
	{ "reports", ctl_reports_main, "recent data sent by modules" },
	{ "sessions", ctl_sessions_main, "the live sessions of the local m2md (control socket)" },
	{ "session", ctl_session_main, "session kill ID|IDENTITY: end a live session" },
	/* m2mctl command table end */
};

void
ctl_errx(const char *fmt, ...)
{
	va_list ap;

	fputs("m2mctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
ctl_pin_refused(void)
{
	ctl_errx("a PIN is never taken on the command line, where other users can read it: "
	    "use --pin-file FILE (or M2M_PIN_FILE), or M2M_PIN");
	return 2;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: m2mctl [-c FILE] COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'm2mctl COMMAND --help' describes a command; see m2mctl(8).\n");
}

static void
fill(const char *env, const char *value)
{
	if (value != NULL && *value != '\0')
		setenv(env, value, 0);	/* the environment, when set, wins */
}

/* The [hsm] section of m2md.conf becomes the defaults of the token options
 * and [admin] conninfo that of the database connection, under the
 * environment and the command line: an administrator on the server's host
 * types no paths. Never [database]: that is how the server connects, as a
 * role with the server's privileges and, with peer authentication, only
 * for the server's user. The file is FILE from -c, else $M2M_CONFIG, else
 * the server's if it is readable. */
static int
load_config(const char *path)
{
	struct srv_config c;
	char err[1024];

	if (path == NULL && (path = getenv("M2M_CONFIG")) == NULL) {
		path = srv_config_default_path();
		if (access(path, R_OK) != 0)
			return 0;
	}
	if (srv_config_load(&c, path, err, sizeof(err)) != M2M_OK) {
		ctl_errx("%s", err);
		return -1;
	}
	fill("M2M_PKCS11_MODULE", c.hsm_module);
	fill("M2M_TOKEN", c.hsm_token);
	fill("M2M_KEY", c.hsm_key);
	fill("M2M_PIN_FILE", c.hsm_pin_file);
	fill("M2M_DB", c.admin_conninfo);
	fill("M2M_CONTROL", c.control);
	srv_config_free(&c);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config = NULL;
	size_t i;

	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		config = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("m2mctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return load_config(config) != 0 ? 1 : commands[i].run(argc - 1, argv + 1);
	ctl_errx("unknown command '%s' (m2mctl --help lists them)", argv[1]);
	return 2;
}
