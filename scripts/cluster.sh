# Sourced by benchmark scripts: a throwaway cluster run by an unprivileged
# user (postgres when run as root), on a free port, removed at exit.
#   cluster_start [extra postgresql.conf lines...]   sets PGHOST, PGPORT, PGDATA
#   cluster_psql ARGS...                              psql as the cluster's superuser
PG_CONFIG=${PG_CONFIG:-pg_config}
PGBIN=$($PG_CONFIG --bindir)
if [ "$(id -u)" -eq 0 ]; then
	CLUSTER_USER=${IRONLAYER_TEST_USER:-postgres}
	cluster_as() { (cd / && runuser -u "$CLUSTER_USER" -- "$@"); }
else
	CLUSTER_USER=$(id -un)
	cluster_as() { "$@"; }
fi

cluster_stop() {
	if [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ]; then
		cluster_as "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
		rm -rf "$CLUSTER_DIR"
	fi
}

cluster_start() {
	CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ironlayer-cluster.XXXXXX")
	chmod 755 "$CLUSTER_DIR"
	[ "$(id -u)" -eq 0 ] && chown "$CLUSTER_USER" "$CLUSTER_DIR"
	trap cluster_stop EXIT
	PGPORT=$(( 20000 + RANDOM % 20000 ))
	cluster_as "$PGBIN/initdb" -D "$CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$CLUSTER_DIR'"
		echo "port = $PGPORT"
		for line in "$@"; do echo "$line"; done
	} | cluster_as tee -a "$CLUSTER_DIR/data/postgresql.conf" >/dev/null
	cluster_as "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null
	export PGHOST=$CLUSTER_DIR PGPORT PGUSER=postgres PGDATABASE=postgres
}

cluster_psql() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

cluster_restart() {	# empties shared memory (the shared parse cache among it)
	cluster_as "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -m fast -w restart -l "$CLUSTER_DIR/server.log" >/dev/null
}
