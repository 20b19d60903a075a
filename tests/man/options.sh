# SPDX-License-Identifier: Apache-2.0
# Shared by tests/man/options and tests/man/sim-options: extract the
# options and keys a program accepts from its source, and check that each
# one is documented in its mdoc page. Sourced; not a test by itself.
# A page documents an option with an item of its own:
#   .It Fl x ...            short option
#   .It Fl \-name ...       long option (".It Fl h , Fl \-help" counts too)
#   .It Cm key ...          configuration key, under ".Ss The [section] section"
#   .It Ic command ...      command (and "Ic command subcommand")

: "${srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
fails=0
checked=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# lint PAGE: mandoc -Tlint at warning level and above prints nothing.
lint() {
	if ! command -v mandoc >/dev/null 2>&1; then
		echo "note: mandoc not installed (apt-get install mandoc): $1 not linted"
		return
	fi
	out=$(mandoc -Tlint -Wwarning "$1" 2>&1)
	if [ $? -ne 0 ] || [ -n "$out" ]; then
		fail "mandoc -Tlint $1:"
		printf '%s\n' "$out"
	fi
}

# The letters of getopt()/getopt_long() option strings in FILE...
getopt_letters() {
	grep -ohE 'getopt(_long)?\(argc, argv, "[^"]*"' "$@" |
	    sed -E 's/.*"([^"]*)"$/\1/' | tr -d ':\n' | fold -w1 | sort -u
}

# Long option names of struct option tables in FILE...
long_names() {
	grep -ohE '\{ *"[a-z][a-z0-9-]*", *(required|no|optional)_argument' "$@" |
	    sed -E 's/\{ *"([^"]*)".*/\1/' | sort -u
}

# Options compared by hand: strcmp(argv[N], "-x") / "--name".
strcmp_options() {
	grep -ohE 'strcmp\(argv\[[a-z0-9]+\], "-[^"]*"\)' "$@" |
	    sed -E 's/.*"-+([^"]*)"\)/\1/' | sort -u
}

# has_flag PAGE NAME: an item ".It Fl ..." that names -NAME or --NAME.
has_flag() {
	case $2 in
	?) re="Fl $2" ;;
	*) re="Fl \\\\?-$2" ;;
	esac
	grep -E '^\.It Fl ' "$1" | grep -qE "[ ]$re( |\$)"
}

# check_flags PAGE WHAT NAME...: each NAME documented in PAGE.
check_flags() {
	page=$1 what=$2
	shift 2
	for o in "$@"; do
		checked=$((checked + 1))
		case $o in ?) d=-$o ;; *) d=--$o ;; esac
		has_flag "$page" "$o" || fail "$what option $d is not documented in $page (.It Fl ...)"
	done
}

# at_least N WHAT COUNT: guards against an extraction that silently finds
# nothing after the source changed shape.
at_least() {
	[ "$3" -ge "$1" ] || fail "found only $3 $2 in the source (expected at least $1): update tests/man/options.sh"
}

finish() {
	echo "$checked items checked, $fails problems"
	[ "$fails" -eq 0 ]
}
