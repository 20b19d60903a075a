/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl enroll: registers one module (identity and public key) and prints
 * what to provision onto it; with --count, many simulated modules. */
#include "config.h"

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
	fprintf(f, "usage: m2mctl enroll --identity ID (--key PEMFILE | --key-hex SEC1HEX)\n"
	    "       m2mctl enroll --count N --out FILE [--prefix sim-]\n\n"
	    "  --identity ID       permanent module identity (1-64 bytes, no spaces)\n"
	    "  --key PEMFILE       the module's P-256 public key (SubjectPublicKeyInfo PEM)\n"
	    "  --key-hex HEX       the same as SEC1 hex, compressed (66) or not (130)\n"
	    "  --count N           generate N key pairs and enroll them as PREFIX000001...\n"
	    "  --out FILE          credentials file for m2m-sim (mode 0600; must not exist)\n"
	    "  --prefix P          identity prefix for --count (default sim-)\n"
	    "  --server-key HEX    server public key to provision (else the newest registered)\n"
	    "  --server-key-file PEM  the same from a PEM file\n"
	    "  --json              what was enrolled as a JSON object (m2mctl(8))\n"
	    CTL_DB_USAGE);
}

enum m2m_err
ctl_server_key(struct db_admin *a, const char *hex, const char *pem,
    struct proto_srv_key *key, char *err, size_t errlen)
{
	enum m2m_err e;

	if (hex == NULL && pem == NULL)
		return db_admin_server_key_latest(a, key->key_id, key->pub, err, errlen);
	if ((e = ctl_pubkey(pem, hex, key->pub, err, errlen)) != M2M_OK)
		return e;
	return proto_key_id(key->pub, key->key_id);
}

/* {"identity", "id", "pseudonym", "server_key_id", "server_key"} */
static void
enrolled_json(const char *identity, int64_t id, const uint8_t *ps, size_t pslen,
    const struct proto_srv_key *key)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "identity", json_object_new_string(identity));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "pseudonym", ctl_json_hex(ps, pslen));
	json_object_object_add(o, "server_key_id", ctl_json_hex(key->key_id, PROTO_KEY_ID_LEN));
	json_object_object_add(o, "server_key", ctl_json_hex(key->pub, PROTO_POINT_LEN));
	ctl_json_print(o);
}

static int
enroll_one(struct db_admin *a, const struct proto_srv_key *key, const char *identity,
    const uint8_t pub[PROTO_POINT_LEN], int json)
{
	uint8_t ps[PROTO_PSEUDONYM_LEN];
	char err[CTL_ERRLEN] = "", hex[2 * PROTO_POINT_LEN + 1];
	struct proto_ctx *ctx;
	int64_t id;
	enum m2m_err e;

	if ((e = proto_ctx_new(&ctx, NULL)) != M2M_OK)
		return ctl_db_fail(e, NULL);
	e = proto_random(ctx, ps, sizeof(ps));
	proto_ctx_free(ctx);
	if (e != M2M_OK)
		return ctl_db_fail(e, NULL);
	if ((e = db_admin_enroll(a, identity, pub, ps, sizeof(ps), &id, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	if (json) {
		enrolled_json(identity, id, ps, sizeof(ps), key);
		return 0;
	}
	printf("enrolled %s (module id %lld)\n", identity, (long long)id);
	m2m_hex(ps, sizeof(ps), hex);
	printf("pseudonym      %s\n", hex);
	m2m_hex(key->key_id, PROTO_KEY_ID_LEN, hex);
	printf("server key id  %s\n", hex);
	m2m_hex(key->pub, PROTO_POINT_LEN, hex);
	printf("server key     %s\n", hex);
	return 0;
}

struct enroll_args {
	const char *db, *identity, *pem, *hex, *out, *prefix, *skhex, *skpem;
	long count;
	int json;
};

static int
parse(int argc, char **argv, struct enroll_args *o)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "identity", required_argument, NULL, 'i' }, { "key", required_argument, NULL, 'k' },
		{ "key-hex", required_argument, NULL, 'x' }, { "count", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' }, { "prefix", required_argument, NULL, 'p' },
		{ "server-key", required_argument, NULL, 's' },
		{ "server-key-file", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	o->prefix = "sim-";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'i': o->identity = optarg; break;
		case 'k': o->pem = optarg; break;
		case 'x': o->hex = optarg; break;
		case 'c':
			if ((o->count = ctl_number(optarg, 100000000)) == 0) {
				ctl_errx("--count: expected a positive number");
				return 2;
			}
			break;
		case 'o': o->out = optarg; break;
		case 'p': o->prefix = optarg; break;
		case 's': o->skhex = optarg; break;
		case 'S': o->skpem = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	return -1;
}

static int
check_args(const struct enroll_args *o, int argc)
{
	if (optind != argc || (o->skhex != NULL && o->skpem != NULL))
		return 0;
	if (o->count > 0)
		return o->out != NULL && o->identity == NULL && o->pem == NULL && o->hex == NULL;
	return o->identity != NULL && o->out == NULL && (o->pem == NULL) != (o->hex == NULL);
}

int
ctl_enroll_main(int argc, char **argv)
{
	struct enroll_args o;
	struct proto_srv_key key;
	uint8_t pub[PROTO_POINT_LEN];
	char err[CTL_ERRLEN] = "";
	struct db_admin *a;
	enum m2m_err e;
	int rc;

	if ((rc = parse(argc, argv, &o)) >= 0)
		return rc;
	if (!check_args(&o, argc)) {
		usage(stderr);
		return 2;
	}
	/* Check the key before connecting: bad input changes nothing. */
	if (o.count == 0 && (e = ctl_pubkey(o.pem, o.hex, pub, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	if (ctl_db_connect(o.db, &a) != M2M_OK)
		return 1;
	if ((e = ctl_server_key(a, o.skhex, o.skpem, &key, err, sizeof(err))) != M2M_OK)
		rc = ctl_db_fail(e, err);
	else if (o.count > 0)
		rc = ctl_enroll_bulk(a, &key, o.count, o.prefix, o.out, o.json);
	else
		rc = enroll_one(a, &key, o.identity, pub, o.json);
	db_admin_close(a);
	return rc;
}
