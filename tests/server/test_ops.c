/* What an operator relies on when starting m2md: a second m2md on an
 * address that one already serves refuses to start, instead of silently
 * taking a share of its datagrams. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

Test(ops, second_m2md_on_the_same_address_refuses_to_start)
{
	char conf[1024], cmd[1024], out[4096];
	struct cli c;

	/* The address the world's m2md (two workers, sharing it) serves; its
	 * own metrics address, so that only the UDP address is shared. */
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 2\n"
	    "metrics = 127.0.0.1:%d\n[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n", st_port(), st_port() + 61, getenv("SOFTHSM2_MODULE"),
	    st_path("pin"));
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s/m2md' -f -c '%s' 2>&1", TEST_BUILDDIR,
	    st_write("second.conf", conf));
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "exit status 1; output:\n%s", out);
	cr_assert_not_null(strstr(out, "another process already serves"), "%s", out);
	st_client(&c, 27, st_port());
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "the first m2md still serves");
	cli_close(&c);
}
