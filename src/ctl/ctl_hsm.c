/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl hsm: server keys in the PKCS#11 token (keygen, list, export and
 * registration in the database). Everything PKCS#11 stays behind hsm/hsm.h. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "hsm/hsm.h"
#include "src/ctl/ctl.h"
#include "src/ctl/ctl_json.h"

struct hsm_opts {
	struct hsm_config cfg;
	const char *label, *id, *pem, *raw, *db;
	int reg, json;
};

static void
hsm_usage(FILE *f)
{
	fprintf(f, "usage: m2mctl hsm keygen --label LABEL [--id HEX] [TOKEN OPTIONS]\n"
	    "       m2mctl hsm list [--json] [TOKEN OPTIONS]\n"
	    "       m2mctl hsm export [--key K] [--pem FILE] [--raw FILE] [--register [--db CONNINFO]]\n"
	    "\nTOKEN OPTIONS:\n"
	    "  --module PATH     PKCS#11 module (or M2M_PKCS11_MODULE)\n"
	    "  --token T         token label, serial or pkcs11: URI (or M2M_TOKEN)\n"
	    "  --key K           key label or id:HEX (or M2M_KEY)\n"
	    "  --pin-file FILE   file holding the user PIN (or M2M_PIN_FILE, or the PIN in M2M_PIN)\n"
	    "The PIN is never taken on the command line.\n");
}

/* 0 ok, 1 help printed, 2 usage error. */
static int
hsm_parse(int argc, char **argv, struct hsm_opts *o)
{
	static const struct option lo[] = {
		{ "module", required_argument, NULL, 'm' }, { "token", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' }, { "pin-file", required_argument, NULL, 'p' },
		/* Exact, so that --pin PIN is not taken as an abbreviation of
		 * --pin-file (and the PIN echoed as a file name). */
		{ "pin", required_argument, NULL, 'N' },
		{ "label", required_argument, NULL, 'l' }, { "id", required_argument, NULL, 'i' },
		{ "pem", required_argument, NULL, 'P' }, { "raw", required_argument, NULL, 'r' },
		{ "register", no_argument, NULL, 'R' }, { "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	hsm_config_init(&o->cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		switch (c) {
		case 'm': o->cfg.module = optarg; break;
		case 't': o->cfg.token = optarg; break;
		case 'k': o->cfg.key = optarg; break;
		case 'p': o->cfg.pin_file = optarg; break;
		case 'N': return ctl_pin_refused();
		case 'l': o->label = optarg; break;
		case 'i': o->id = optarg; break;
		case 'P': o->pem = optarg; break;
		case 'r': o->raw = optarg; break;
		case 'R': o->reg = 1; break;
		case 'j': o->json = 1; break;
		case 'd': o->db = optarg; break;
		case 'h': hsm_usage(stdout); return 1;
		default: hsm_usage(stderr); return 2;
		}
	if (optind != argc) {
		ctl_errx("hsm: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	hsm_config_from_env(&o->cfg);
	return 0;
}

static void
print_hex(FILE *f, const uint8_t *b, size_t n)
{
	while (n--)
		fprintf(f, "%02x", *b++);
}

static void
print_key(const struct hsm_key_info *k)
{
	printf("%-24s id ", k->label);
	print_hex(stdout, k->id, k->id_len);
	printf("  key id ");
	if (k->has_pub)
		print_hex(stdout, k->key_id, HSM_KEY_ID_LEN);
	else
		printf("--------");
	printf("  %s%s%s%s\n", k->p256 ? "P-256" : "not-P-256", k->derive ? " derive" : " NO-DERIVE",
	    k->sensitive ? " sensitive" : " NOT-SENSITIVE", k->extractable ? " EXTRACTABLE" : "");
}

static int
fail(enum m2m_err e, const char *err)
{
	char msg[HSM_DETAIL_LEN + 128];

	ctl_errx("%s", m2m_err_join(e, err[0] ? err : m2m_errname(e), msg, sizeof(msg)));
	return 1;
}

static int
open_token(struct hsm_opts *o, struct hsm **h)
{
	char err[HSM_DETAIL_LEN] = "";
	enum m2m_err e = hsm_open(h, &o->cfg, err, sizeof(err));

	return e == M2M_OK ? 0 : fail(e, err);
}

static int
hex_id(const char *s, uint8_t *id, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n == 0 || n % 2 || n / 2 > HSM_CKA_ID_MAX)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int
cmd_keygen(struct hsm_opts *o)
{
	char err[HSM_DETAIL_LEN] = "";
	uint8_t id[HSM_CKA_ID_MAX];
	size_t idlen = 0;
	struct hsm_key_info k;
	struct hsm *h;
	enum m2m_err e;

	if (o->label == NULL) {
		ctl_errx("hsm keygen: --label is required");
		return 2;
	}
	if (o->id != NULL && hex_id(o->id, id, &idlen) != 0) {
		ctl_errx("hsm keygen: --id wants an even number of hex digits (at most %d bytes)",
		    HSM_CKA_ID_MAX);
		return 2;
	}
	if (open_token(o, &h) != 0)
		return 1;
	e = hsm_keygen(h, o->label, o->id ? id : NULL, idlen, &k, err, sizeof(err));
	if (e == M2M_OK) {
		printf("created in token %s:\n", hsm_token_name(h));
		print_key(&k);
	}
	hsm_close(h);
	return e == M2M_OK ? 0 : fail(e, err);
}

/* {"token": NAME, "keys": [...]} */
static void
list_json(const char *token, const struct hsm_key_info *keys, size_t n)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "token", json_object_new_string(token));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, ctl_json_hsm_key(&keys[i]));
	json_object_object_add(o, "keys", a);
	ctl_json_print(o);
}

static int
cmd_list(struct hsm_opts *o)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_key_info keys[64];
	struct hsm *h;
	enum m2m_err e;
	size_t n, i;

	if (open_token(o, &h) != 0)
		return 1;
	e = hsm_key_list(h, keys, 64, &n, err, sizeof(err));
	if (e == M2M_OK && o->json)
		list_json(hsm_token_name(h), keys, n);
	else if (e == M2M_OK) {
		printf("token %s: %zu private key%s\n", hsm_token_name(h), n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			print_key(&keys[i]);
	}
	hsm_close(h);
	return e == M2M_OK ? 0 : fail(e, err);
}

static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		ctl_errx("cannot write %s", path);
		return -1;
	}
	return 0;
}

static int
export_key(const struct hsm_opts *o, const struct hsm_key_info *k)
{
	char pem[512], err[HSM_DETAIL_LEN] = "";
	const char *db;
	enum m2m_err e;

	if ((e = hsm_pub_pem(k->pub, pem, sizeof(pem))) != M2M_OK)
		return fail(e, "");
	if (o->pem != NULL ? write_file(o->pem, pem, strlen(pem)) != 0 : fputs(pem, stdout) < 0)
		return 1;
	if (o->raw != NULL && write_file(o->raw, k->pub, HSM_POINT_LEN) != 0)
		return 1;
	printf("label:  %s\nkey id: ", k->label);
	print_hex(stdout, k->key_id, HSM_KEY_ID_LEN);
	printf("\nsec1:   ");
	print_hex(stdout, k->pub, HSM_POINT_LEN);
	printf("\n");
	if (!o->reg)
		return 0;
	db = o->db != NULL ? o->db : getenv("M2M_DB");
	if ((e = db_conninfo_check(db, err, sizeof(err))) == M2M_OK)
		e = db_admin_server_key_add(db, k->key_id, k->pub, k->label, err, sizeof(err));
	if (e != M2M_OK)
		return fail(e, err);
	printf("registered in the server key table\n");
	return 0;
}

static int
cmd_export(struct hsm_opts *o)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_key_info k;
	struct hsm *h;
	enum m2m_err e;

	/* The key may come from --key, M2M_KEY or the token URI's object/id. */
	if (open_token(o, &h) != 0)
		return 1;
	e = hsm_key_find(h, NULL, &k, err, sizeof(err));
	hsm_close(h);
	return e == M2M_OK ? export_key(o, &k) : fail(e, err);
}

int
ctl_hsm_main(int argc, char **argv)
{
	struct hsm_opts o;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		hsm_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if ((r = hsm_parse(argc - 1, argv + 1, &o)) != 0)
		return r == 1 ? 0 : 2;
	if (o.json && strcmp(argv[1], "list") != 0) {
		ctl_errx("hsm %s: --json is for hsm list", argv[1]);
		return 2;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(&o);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(&o);
	if (strcmp(argv[1], "export") == 0)
		return cmd_export(&o);
	ctl_errx("hsm: unknown subcommand '%s' (keygen, list, export)", argv[1]);
	return 2;
}
