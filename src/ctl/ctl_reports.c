/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl reports: the most recent data modules sent. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/common/hex.h"
#include "src/ctl/ctl_json.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: m2mctl reports [--module IDENTITY] [--limit N] [--text | --json]\n\n"
	    "  newest first (default 20); payloads in hex, or as text with --text\n"
	    "  --json          a JSON list, payloads in hex (m2mctl(8))\n"
	    CTL_DB_USAGE);
}

static void
print_report(void *arg, const struct db_report_info *r)
{
	const int *as_text = arg;
	char sid[2 * PROTO_SESSION_ID_LEN + 1];
	size_t i;

	m2m_hex(r->session_id, sizeof(r->session_id), sid);
	printf("%lld %s %s session %s seq %llu ", (long long)r->id, r->received_at,
	    r->identity, sid, (unsigned long long)r->seq);
	for (i = 0; i < r->payload_len; i++)
		if (*as_text)
			putchar(isprint(r->payload[i]) ? r->payload[i] : '.');
		else
			printf("%02x", r->payload[i]);
	putchar('\n');
}

static void
json_report(void *arg, const struct db_report_info *r)
{
	(void)arg;
	ctl_json_list_item(ctl_json_report(r));
}

int
ctl_reports_main(int argc, char **argv)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "module", required_argument, NULL, 'm' }, { "limit", required_argument, NULL, 'l' },
		{ "text", no_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 } };
	const char *dbarg = NULL, *module = NULL;
	char err[CTL_ERRLEN] = "";
	struct db_admin *a;
	long limit = 20;
	int c, as_text = 0, json = 0;
	enum m2m_err e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dbarg = optarg; break;
		case 'm': module = optarg; break;
		case 't': as_text = 1; break;
		case 'j': json = 1; break;
		case 'l':
			if ((limit = ctl_number(optarg, 1000000000)) == 0) {
				ctl_errx("--limit: expected a positive number");
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (json && as_text)) {
		usage(stderr);
		return 2;
	}
	if (ctl_db_connect(dbarg, &a) != M2M_OK)
		return 1;
	if (json) {
		ctl_json_list_begin();
		e = db_admin_reports(a, module, limit, json_report, NULL, err, sizeof(err));
		ctl_json_list_end();
	} else
		e = db_admin_reports(a, module, limit, print_report, &as_text, err, sizeof(err));
	db_admin_close(a);
	return e == M2M_OK ? 0 : ctl_db_fail(e, err);
}
