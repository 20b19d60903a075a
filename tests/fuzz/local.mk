# SPDX-License-Identifier: Apache-2.0
# tests/fuzz: libFuzzer targets for the protocol core (make fuzz, fuzz-run),
# their seeds and replay under make check; dists CI's dynamic-check files.

# make check: every seed and every stored crash through its target, built
# with the ordinary compiler (and the sanitizers under --enable-sanitizers).
FUZZ_TARGET_SRCS = tests/fuzz/fuzz_hello.c tests/fuzz/fuzz_auth.c tests/fuzz/fuzz_wire.c \
	tests/fuzz/fuzz_record.c tests/fuzz/fuzz_payloads.c tests/fuzz/fuzz_point.c \
	tests/fuzz/fuzz_server.c tests/fuzz/fuzz_module.c
check_PROGRAMS += tests/fuzz/test_replay tests/fuzz/make-corpus
TESTS += tests/fuzz/test_replay
tests_fuzz_test_replay_SOURCES = tests/fuzz/test_replay.c tests/fuzz/corpus.c \
	tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h $(FUZZ_TARGET_SRCS)
tests_fuzz_test_replay_CFLAGS = $(TEST_CFLAGS) -DFUZZ_REPLAY
tests_fuzz_test_replay_LDADD = libm2mproto.a libm2mcommon.a $(TEST_LIBS) $(OPENSSL_LIBS)
tests_fuzz_make_corpus_SOURCES = tests/fuzz/make-corpus.c tests/fuzz/corpus.c \
	tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h tests/fuzz/fuzz_server.c \
	tests/fuzz/fuzz_module.c tests/fuzz/fuzz_record.c
tests_fuzz_make_corpus_CFLAGS = $(AM_CFLAGS) -DFUZZ_REPLAY
tests_fuzz_make_corpus_LDADD = libm2mproto.a libm2mcommon.a $(OPENSSL_LIBS)
EXTRA_DIST += tests/fuzz/run tests/fuzz/regress tests/sanitizers tests/server/valgrind-run

# make fuzz: the targets, built with clang (whatever CC is) with libFuzzer,
# ASan and UBSan, from the sources of the protocol core; the seed corpus in
# tests/fuzz/corpus. make fuzz-run: each target for FUZZ_SECONDS.
CLANG = clang
FUZZ_SECONDS = 60
FUZZ_NAMES = hello auth wire record payloads point server module
FUZZ_LIB_SRCS = src/proto/ctx.c src/proto/p256.c src/proto/kdf.c src/proto/aead.c \
	src/proto/cookie.c src/proto/wire.c src/proto/payload.c src/proto/session.c \
	src/proto/server.c src/proto/module.c src/proto/schedule.c src/crypto/openssl.c \
	src/common/err.c tests/fuzz/fuzz_common.c
FUZZ_DEPS = $(FUZZ_LIB_SRCS) $(FUZZ_TARGET_SRCS) tests/fuzz/fuzz.h \
	src/proto/proto.h src/proto/crypto.h src/proto/wire.h src/proto/session.h \
	src/proto/server.h src/proto/module.h src/proto/ctx.h src/proto/schedule.h \
	src/crypto/backend.h src/common/err.h src/common/errors.def src/proto/errors.def
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Wall -Wextra -Werror -I. -I$(srcdir) $(OPENSSL_CFLAGS)

tests/fuzz/bin/.built: $(FUZZ_DEPS) config.h
	@$(MKDIR_P) tests/fuzz/obj tests/fuzz/bin
	$(AM_V_GEN)set -e; objs=; \
	for s in $(FUZZ_LIB_SRCS); do \
		o=tests/fuzz/obj/`echo $$s | sed 's|/|_|g; s|\.c$$|.o|'`; \
		$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $$o $(srcdir)/$$s; \
		objs="$$objs $$o"; \
	done; \
	for t in $(FUZZ_NAMES); do \
		$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o tests/fuzz/bin/fuzz_$$t \
		    $(srcdir)/tests/fuzz/fuzz_$$t.c $$objs $(OPENSSL_LIBS); \
	done; \
	touch $@

tests/fuzz/corpus/.made: tests/fuzz/make-corpus$(EXEEXT)
	$(AM_V_GEN)rm -rf tests/fuzz/corpus && \
	./tests/fuzz/make-corpus$(EXEEXT) tests/fuzz/corpus && touch $@

fuzz: tests/fuzz/bin/.built tests/fuzz/corpus/.made

fuzz-run: fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(SHELL) $(srcdir)/tests/fuzz/run tests/fuzz

fuzz-clean:
	rm -rf tests/fuzz/bin tests/fuzz/obj tests/fuzz/corpus tests/fuzz/work \
	    tests/fuzz/crashes

clean-local: fuzz-clean

.PHONY: fuzz fuzz-run fuzz-clean
