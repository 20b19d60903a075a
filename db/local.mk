# SPDX-License-Identifier: Apache-2.0
# db: the database layer (libm2mdb.a), its migrations, and m2mctl's
# database subcommands. Only db/ includes libpq-fe.h.
noinst_LIBRARIES += libm2mdb.a
M2M_PART_LIBS += libm2mdb.a
libm2mdb_a_CFLAGS = $(AM_CFLAGS) $(LIBPQ_CFLAGS) $(LIBEVENT_CFLAGS)
libm2mdb_a_SOURCES = db/db.h db/db_int.h \
	db/settings.c db/admin.c db/migrate.c db/server_key.c db/enroll.c \
	db/module_admin.c db/instr_admin.c db/bytes.c db/migrate_status.c db/key_full.c \
	db/async_int.h db/async_conn.c db/async_pipe.c db/async_stmt.c db/async_lookup.c \
	db/async_writer.c db/async_batch.c db/node.c db/grants.c

# Migrations are installed where m2mctl db migrate looks by default.
migrationsdir = $(pkgdatadir)/migrations
dist_migrations_DATA = db/migrations/001_core.sql db/migrations/002_reports.sql \
	db/migrations/003_instructions.sql db/migrations/004_server.sql \
	db/migrations/005_data_batch.sql \
	db/migrations/006_handshake_fast.sql db/migrations/007_module_keys_full.sql \
	db/migrations/008_pseudonym_length.sql db/migrations/009_pseudonym_current.sql \
	db/migrations/010_requeue_unconfirmed.sql db/migrations/011_handshake_address.sql \
	db/migrations/012_instruct_checks.sql db/migrations/013_seq_unsigned.sql

# m2mctl's database subcommands. Added to m2mctl_SOURCES from
# tests/db/local.mk for now: automake wants m2mctl_SOURCES set (in
# src/ctl/local.mk, included after this file) before any +=.
DB_CTL_SOURCES = src/ctl/ctl_db.h src/ctl/ctl_dbutil.c src/ctl/ctl_db.c \
	src/ctl/ctl_enroll.c src/ctl/ctl_enroll_bulk.c src/ctl/ctl_module.c \
	src/ctl/ctl_instruct.c src/ctl/ctl_reports.c src/ctl/bench_db.h \
	src/ctl/bench_db.c src/ctl/bench_db_setup.c

dist_doc_DATA += doc/applications.md doc/database.md
