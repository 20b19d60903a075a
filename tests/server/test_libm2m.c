/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m against the live m2md, on each crypto backend: tests/lib/m2m-live
 * (a device written on <m2m/m2m.h> only) runs a handshake with first
 * data, a DATA confirming the instruction the WELCOME brought, a REKEY, a
 * handshake with the new key and a last DATA; the database then holds its
 * four reports, the instruction acknowledged and the new key current.
 * And power lost at every step of a handshake and of a REKEY: the device
 * restarted on what it saved always gets back in. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

/* Enrolls n modules into the world's file NAME; returns its path. */
static const char *
enroll(const char *name, size_t n)
{
	static char path[512];
	char args[640];

	snprintf(path, sizeof(path), "%s", st_path(name));
	snprintf(args, sizeof(args), "enroll --count %zu --out '%s' --prefix %s-", n, path, name);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
	return path;
}

/* The identity of module index of a credentials file. */
static void
identity(const char *creds, size_t index, char id[80])
{
	char line[512];
	size_t i = 0;
	FILE *f;

	cr_assert_not_null(f = fopen(creds, "r"));
	id[0] = '\0';
	while (id[0] == '\0' && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "module %79s", id) != 1 || i++ != index)
			id[0] = '\0';
	fclose(f);
	cr_assert_neq(id[0], '\0', "no module %zu in %s", index, creds);
}

static const char *
enroll_one(const char *name, char id[80])
{
	const char *path = enroll(name, 1);

	identity(path, 0, id);
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

/* The power goes at each step of m2m-live's run (tests/lib/live.c,
 * cut_point: the sends, and before and after each save, of a handshake,
 * a REKEY and the handshake that proves the new key); the device restarts
 * on its saved state and key store and must complete a handshake and a
 * DATA. The database then holds the keys the device's state implies. */
Test(libm2m, power_loss_at_every_step, .timeout = 240)
{
	/* The key store the saves left at each step, as module_keys says it. */
	static const char *const keys[] = { "current", "current", "current", "current",
		"current", "current,pending", "current,pending", "retired,current",
		"retired,current", "retired,current", "retired,current", "retired,current" };
	const char *creds = enroll("libm2m-cut", 11);
	char id[80], cmd[1024], out[8192], want[64];

	for (int cut = 1; cut <= 11; cut++) {
		const char *p[] = { id };
		const char *prog = "m2m-live";
		int rc;

#ifdef HAVE_MBEDTLS_TESTS
		if (cut % 2 == 0)
			prog = "m2m-live-mbedtls";
#endif
		identity(creds, (size_t)cut - 1, id);
		snprintf(cmd, sizeof(cmd), "'%s/tests/lib/%s' '%s' %d %s %d %d 2>&1", TEST_BUILDDIR,
		    prog, creds, cut - 1, ST_HOST, st_port(), cut);
		rc = st_capture(cmd, out, sizeof(out));
		cr_log_info("step %d:\n%s", cut, out);
		snprintf(want, sizeof(want), "power lost at step %d\n", cut);
		cr_assert_not_null(strstr(out, want), "step %d never reached:\n%s", cut, out);
		cr_assert_eq(rc, 0, "step %d: no way back in:\n%s", cut, out);
		cr_assert_not_null(strstr(out, "recovered\n"), "%s", out);
		cr_assert_str_eq(st_sql("SELECT string_agg(k.state, ',' ORDER BY k.id) FROM module_keys k"
		    " JOIN modules m ON m.id = k.module_id WHERE m.identity = $1", 1, p), keys[cut],
		    "step %d:\n%s", cut, out);
	}
}
