/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl instruct: queues an instruction for a module; it leaves with the
 * module's next WELCOME or DATA_ACK. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: m2mctl instruct IDENTITY (--text STRING | --hex HEX | --file PATH)\n\n"
	    "  body of at most %d bytes\n" CTL_DB_USAGE, DB_INSTR_BODY_MAX);
}

/* The body from exactly one of the three sources. */
static enum m2m_err
body_of(const char *text, const char *hex, const char *path, uint8_t *body, size_t *len,
    char *err, size_t errlen)
{
	FILE *f;

	if (text != NULL) {
		*len = strlen(text);
		if (*len > DB_INSTR_BODY_MAX)
			goto toolong;
		memcpy(body, text, *len);
	} else if (hex != NULL) {
		*len = (strlen(hex) + 1) / 2;
		if (*len > DB_INSTR_BODY_MAX)
			goto toolong;
		if (ctl_unhex("--hex", hex, body, *len, err, errlen) != M2M_OK)
			return M2M_E_INVALID_ARG;
	} else {
		if ((f = fopen(path, "rb")) == NULL) {
			snprintf(err, errlen, "%s: cannot open", path);
			return M2M_E_IO;
		}
		*len = fread(body, 1, DB_INSTR_BODY_MAX + 1, f);
		fclose(f);
		if (*len > DB_INSTR_BODY_MAX)
			goto toolong;
	}
	return M2M_OK;
toolong:
	snprintf(err, errlen, "instruction body longer than %d bytes", DB_INSTR_BODY_MAX);
	return M2M_E_INVALID_ARG;
}

/* A suspended module's instructions wait for it to be resumed: say so. */
static void
queued(struct db_admin *a, const char *identity, int64_t id)
{
	struct db_module_info m;
	char err[CTL_ERRLEN];

	printf("instruction %lld queued for %s", (long long)id, identity);
	if (db_admin_module(a, identity, &m, err, sizeof(err)) == M2M_OK &&
	    strcmp(m.status, "suspended") == 0)
		printf(" (suspended: it leaves when the module is resumed and connects)");
	putchar('\n');
}

int
ctl_instruct_main(int argc, char **argv)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "text", required_argument, NULL, 't' }, { "hex", required_argument, NULL, 'x' },
		{ "file", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	const char *dbarg = NULL, *text = NULL, *hex = NULL, *path = NULL;
	uint8_t body[DB_INSTR_BODY_MAX + 1];
	char err[CTL_ERRLEN] = "";
	struct db_admin *a;
	size_t len = 0;
	int64_t id;
	enum m2m_err e;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dbarg = optarg; break;
		case 't': text = optarg; break;
		case 'x': hex = optarg; break;
		case 'f': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || (text != NULL) + (hex != NULL) + (path != NULL) != 1) {
		usage(stderr);
		return 2;
	}
	if ((e = body_of(text, hex, path, body, &len, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	if (ctl_db_connect(dbarg, &a) != M2M_OK)
		return 1;
	e = db_admin_instruct(a, argv[optind], body, len, &id, err, sizeof(err));
	if (e == M2M_OK)
		queued(a, argv[optind], id);
	db_admin_close(a);
	return e == M2M_OK ? 0 : ctl_db_fail(e, err);
}
