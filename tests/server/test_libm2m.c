/* libm2m against the live m2md, on each crypto backend: tests/lib/m2m-live
 * (a device written on <m2m/m2m.h> only) runs a handshake with first
 * data, a DATA confirming the instruction the WELCOME brought, a REKEY, a
 * handshake with the new key and a last DATA; the database then holds its
 * four reports, the instruction acknowledged and the new key current. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

/* Enrolls one module into the world's file NAME; its identity in id. */
static const char *
enroll_one(const char *name, char id[80])
{
	static char path[512];
	char args[640], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s", st_path(name));
	snprintf(args, sizeof(args), "enroll --count 1 --out '%s' --prefix %s-", path, name);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
	cr_assert_not_null(f = fopen(path, "r"));
	id[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL && id[0] == '\0')
		if (sscanf(line, "module %79s", id) != 1)
			id[0] = '\0';
	fclose(f);
	cr_assert_neq(id[0], '\0', "no module in %s", path);
	return path;
}

static void
live(const char *program, const char *name)
{
	char id[80], cmd[1024], out[8192], args[256];
	const char *creds = enroll_one(name, id), *p[] = { id };
	int rc;

	snprintf(args, sizeof(args), "instruct %s --text live-instruction-%s", id, name);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
	snprintf(cmd, sizeof(cmd), "'%s/tests/lib/%s' '%s' 0 %s %d 2>&1", TEST_BUILDDIR, program,
	    creds, ST_HOST, st_port());
	rc = st_capture(cmd, out, sizeof(out));
	cr_log_info("%s:\n%s", program, out);
	cr_assert_eq(rc, 0, "%s failed:\n%s", program, out);
	cr_assert_not_null(strstr(out, "established status 1"), "the new key proved itself");
	snprintf(args, sizeof(args), "instruction live-instruction-%s\n", name);
	cr_assert_not_null(strstr(out, args), "the queued instruction reached the device");
	cr_assert_str_eq(st_sql("SELECT count(*) FROM reports r JOIN modules m ON m.id = r.module_id"
	    " WHERE m.identity = $1", 1, p), "4");
	cr_assert_str_eq(st_sql("SELECT string_agg(i.state, ',') FROM instructions i"
	    " JOIN modules m ON m.id = i.module_id WHERE m.identity = $1", 1, p), "acknowledged",
	    "%s", out);
	cr_assert_str_eq(st_sql("SELECT string_agg(k.state, ',' ORDER BY k.id) FROM module_keys k"
	    " JOIN modules m ON m.id = k.module_id WHERE m.identity = $1", 1, p),
	    "retired,current");
}

Test(libm2m, live_session_default_backend, .timeout = 60)
{
	live("m2m-live", "libm2m-default");
}

Test(libm2m, live_session_mbedtls, .timeout = 60)
{
#ifdef HAVE_MBEDTLS_TESTS
	live("m2m-live-mbedtls", "libm2m-mbedtls");
#else
	cr_skip_test("Mbed TLS not found by configure");
#endif
}
