# Sourced. make_local_admin_token DIR NAME: on first use, a random admin token in DIR/admin.token
# and a tokens file DIR/tokens.yaml naming it (caller NAME, role admin), both readable by their
# owner only; kept as they are afterwards (add callers to tokens.yaml: the server re-reads it).
make_local_admin_token() {
  local dir=$1 name=$2
  [[ -f "$dir/tokens.yaml" ]] && return 0
  (
    umask 077
    head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/admin.token"
    printf 'tokens:\n  - {name: %s, role: admin, sha256: %s}\n' "$name" \
      "$(tr -d '\n' <"$dir/admin.token" | sha256sum | cut -d' ' -f1)" >"$dir/tokens.yaml"
  )
}
