/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl list, show, suspend, resume, revoke, rotate-key: looking at and
 * changing enrolled modules. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/common/hex.h"
#include "src/ctl/ctl_json.h"

/* Options shared by these commands: --db, --status, --limit, --key, --key-hex. */
struct mod_args {
	const char *db, *status, *pem, *hex, *identity;
	long limit;
	int json;
};

static int
parse(int argc, char **argv, struct mod_args *o, const char *usage)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "status", required_argument, NULL, 's' }, { "limit", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' }, { "key-hex", required_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 's': o->status = optarg; break;
		case 'k': o->pem = optarg; break;
		case 'x': o->hex = optarg; break;
		case 'j': o->json = 1; break;
		case 'l':
			if ((o->limit = ctl_number(optarg, 1000000000)) == 0) {
				ctl_errx("--limit: expected a positive number");
				return 2;
			}
			break;
		case 'h': printf("usage: m2mctl %s\n" CTL_DB_USAGE, usage); return 0;
		default: fprintf(stderr, "usage: m2mctl %s\n", usage); return 2;
		}
	}
	if (optind < argc)
		o->identity = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, "usage: m2mctl %s\n", usage);
		return 2;
	}
	return -1;
}

static void
print_row(void *arg, const struct db_module_info *m)
{
	char ps[2 * PROTO_PSEUDONYM_MAX + 1];

	(void)arg;
	m2m_hex(m->pseudonym, m->pseudonym_len, ps);
	printf("%-8lld %-24s %-10s %-22s %s\n", (long long)m->id, m->identity, m->status,
	    m->last_seen[0] ? m->last_seen : "never", ps);
}

static void
json_row(void *arg, const struct db_module_info *m)
{
	(void)arg;
	ctl_json_list_item(ctl_json_module(m, 0));
}

/* The list is closed even after an error: stdout stays one document. */
static enum m2m_err
list_json(struct db_admin *a, const struct mod_args *o, char *err, size_t errlen)
{
	enum m2m_err e;

	ctl_json_list_begin();
	e = db_admin_modules(a, o->status, o->limit, json_row, NULL, err, errlen);
	ctl_json_list_end();
	return e;
}

int
ctl_list_main(int argc, char **argv)
{
	struct mod_args o;
	struct db_admin *a;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;
	int rc;

	if ((rc = parse(argc, argv, &o,
	    "list [--status active|suspended|revoked] [--limit N] [--json]")) >= 0)
		return rc;
	if (o.identity != NULL) {
		ctl_errx("list takes no module; see 'm2mctl show IDENTITY'");
		return 2;
	}
	if (o.status != NULL && strcmp(o.status, "active") != 0 &&
	    strcmp(o.status, "suspended") != 0 && strcmp(o.status, "revoked") != 0) {
		ctl_errx("--status: one of active, suspended, revoked");
		return 2;
	}
	if (ctl_db_connect(o.db, &a) != M2M_OK)
		return 1;
	if (o.json)
		e = list_json(a, &o, err, sizeof(err));
	else {
		printf("%-8s %-24s %-10s %-22s %s\n", "ID", "IDENTITY", "STATUS", "LAST SEEN",
		    "PSEUDONYM");
		e = db_admin_modules(a, o.status, o.limit, print_row, NULL, err, sizeof(err));
	}
	db_admin_close(a);
	return e == M2M_OK ? 0 : ctl_db_fail(e, err);
}

static void
print_key(void *arg, const struct db_key_info *k)
{
	char hex[2 * PROTO_POINT_LEN + 1];

	(void)arg;
	m2m_hex(k->pub, sizeof(k->pub), hex);
	printf("  key %-8s %s  created %s%s%s%s%s\n", k->state, hex, k->created_at,
	    k->valid_from[0] ? " from " : "", k->valid_from,
	    k->valid_until[0] ? " until " : "", k->valid_until);
}

static void
print_instr(void *arg, const struct db_instr_info *i)
{
	(void)arg;
	printf("  instruction %-6lld %-12s %zu bytes, queued %s%s%s (sent %d times)\n",
	    (long long)i->id, i->state, i->body_len, i->created_at,
	    i->sent_at[0] ? ", last sent " : "", i->sent_at, i->sent_count);
}

static void
print_report(void *arg, const struct db_report_info *r)
{
	char sid[2 * PROTO_SESSION_ID_LEN + 1];

	(void)arg;
	m2m_hex(r->session_id, sizeof(r->session_id), sid);
	printf("  report %-8lld %s session %s seq %lld, %zu bytes\n", (long long)r->id,
	    r->received_at, sid, (long long)r->seq, r->payload_len);
}

/* What an operator troubleshooting one device reads first; the lists
 * (keys, open instructions, recent reports) follow. */
static void
print_module(const struct db_module_info *m)
{
	char hex[2 * PROTO_PSEUDONYM_MAX + 1];

	printf("module          %s\nid              %lld\nstatus          %s\n"
	    "created         %s\nlast seen       %s\n", m->identity, (long long)m->id,
	    m->status, m->created_at, m->last_seen[0] ? m->last_seen : "never");
	printf("last handshake  %s%s%s\n", m->last_handshake_at[0] ? m->last_handshake_at :
	    "never", m->last_address[0] ? " from " : "", m->last_address);
	m2m_hex(m->pseudonym, m->pseudonym_len, hex);
	printf("pseudonym       %s\n", hex);
	m2m_hex(m->previous, m->previous_len, hex);
	printf("previous        %s\nreports         %lld\nopen instructions %lld\n",
	    m->previous_len ? hex : "-", m->reports, m->instr_open);
}

#define SHOW_LIST	10	/* open instructions and reports shown */

static enum m2m_err
show(struct db_admin *a, const char *identity, char *err, size_t errlen)
{
	struct db_module_info m;
	enum m2m_err e;

	if ((e = db_admin_module(a, identity, &m, err, errlen)) != M2M_OK)
		return e;
	print_module(&m);
	if ((e = db_admin_module_keys(a, m.id, print_key, NULL, err, errlen)) != M2M_OK ||
	    (e = db_admin_instructions(a, m.id, SHOW_LIST, 1, print_instr, NULL, err,
	    errlen)) != M2M_OK)
		return e;
	return db_admin_reports(a, identity, SHOW_LIST, print_report, NULL, err, errlen);
}

int
ctl_show_main(int argc, char **argv)
{
	struct mod_args o;
	struct db_admin *a;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;
	int rc;

	if ((rc = parse(argc, argv, &o, "show IDENTITY [--json]")) >= 0)
		return rc;
	if (o.identity == NULL) {
		fprintf(stderr, "usage: m2mctl show IDENTITY\n");
		return 2;
	}
	if (ctl_db_connect(o.db, &a) != M2M_OK)
		return 1;
	if (o.json) {
		e = ctl_show_json(a, o.identity, err, sizeof(err));
		db_admin_close(a);
		return e == M2M_OK ? 0 : ctl_db_fail(e, err);
	}
	e = show(a, o.identity, err, sizeof(err));
	db_admin_close(a);
	return e == M2M_OK ? 0 : ctl_db_fail(e, err);
}

/* suspend, resume, revoke: the command's name says the new status. */
int
ctl_status_main(int argc, char **argv)
{
	const char *status = strcmp(argv[0], "suspend") == 0 ? "suspended" :
	    strcmp(argv[0], "resume") == 0 ? "active" : "revoked";
	struct mod_args o;
	struct db_admin *a;
	char err[CTL_ERRLEN] = "", usage[64];
	enum m2m_err e;
	int rc;

	snprintf(usage, sizeof(usage), "%s IDENTITY", argv[0]);
	if ((rc = parse(argc, argv, &o, usage)) >= 0)
		return rc;
	if (o.identity == NULL) {
		fprintf(stderr, "usage: m2mctl %s\n", usage);
		return 2;
	}
	if (ctl_db_connect(o.db, &a) != M2M_OK)
		return 1;
	e = db_admin_set_status(a, o.identity, status, err, sizeof(err));
	db_admin_close(a);
	if (e != M2M_OK)
		return ctl_db_fail(e, err);
	printf("%s: %s\n", o.identity, status);
	return 0;
}

int
ctl_rotate_key_main(int argc, char **argv)
{
	static const char usage[] = "rotate-key IDENTITY (--key PEMFILE | --key-hex HEX)";
	uint8_t pub[PROTO_POINT_LEN];
	struct mod_args o;
	struct db_admin *a;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;
	int rc;

	if ((rc = parse(argc, argv, &o, usage)) >= 0)
		return rc;
	if (o.identity == NULL || (o.pem == NULL) == (o.hex == NULL)) {
		fprintf(stderr, "usage: m2mctl %s\n", usage);
		return 2;
	}
	if ((e = ctl_pubkey(o.pem, o.hex, pub, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	if (ctl_db_connect(o.db, &a) != M2M_OK)
		return 1;
	e = db_admin_rotate_key(a, o.identity, pub, err, sizeof(err));
	db_admin_close(a);
	if (e != M2M_OK)
		return ctl_db_fail(e, err);
	printf("%s: new current key; the previous one is retired\n", o.identity);
	return 0;
}
