#!/bin/sh
# buf-check.sh lint|breaking - checks proto/ with buf (configuration in
# buf.yaml at the top of the tree). Run by ctest (buf_lint, buf_breaking)
# from the source tree; also by hand: scripts/buf-check.sh breaking.
#
#   lint      buf lint: every rule of buf.yaml, output empty when clean.
#   breaking  buf breaking (FILE rules) of the working tree against
#             1. the v1 freeze: the commit that added buf.yaml, where
#                patron.v1 became stable. Whatever a later commit changes,
#                a client built against v1.0 keeps working;
#             2. where this branch left the local branch `main` (their
#                merge base), when that is not HEAD itself (a branch before
#                landing): also catches taking back something added after
#                the freeze, which 1 cannot see. The merge base, not main's
#                tip: what others added to main since is not ours to delete.
#             In a clean clone of main (CI) 2 is HEAD itself and only 1
#             applies; uncommitted edits are compared like commits.
#
# Exit 0 clean, 1 findings or failure, 77 (ctest: skipped) when there is
# nothing to compare against: not a git checkout, or history too shallow to
# hold the freeze commit.
set -eu
cd "$(dirname "$0")/.."
BUF=${BUF:-tools/node_modules/.bin/buf}
if [ ! -x "$BUF" ]; then
    echo "FAIL: $BUF missing: run scripts/install-deps.sh (npm ci in tools/)" >&2
    exit 1
fi

# Extracts the tree's proto/ and buf.yaml at commit $1 into directory $2.
snapshot() {
    mkdir -p "$2"
    git archive "$1" buf.yaml proto | tar -x -C "$2"
}

against() {
    echo "buf breaking against $1 ($2)"
    dir="$tmp/$(echo "$1" | tr -c 'A-Za-z0-9\n' _)"
    snapshot "$1" "$dir"
    "$BUF" breaking . --against "$dir"
}

case "${1:-}" in
lint)
    "$BUF" lint
    echo "buf lint: clean"
    ;;
breaking)
    if ! git rev-parse --git-dir >/dev/null 2>&1; then
        echo "SKIP: not a git checkout: no committed API to compare against"
        exit 77
    fi
    freeze=$(git log --diff-filter=A --format=%H -- buf.yaml | tail -n 1)
    if [ -z "$freeze" ]; then
        if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
            echo "SKIP: shallow clone without the v1 freeze commit (git fetch --unshallow)"
        else
            echo "SKIP: buf.yaml is not committed yet: no frozen API to compare against"
        fi
        exit 77
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    against "$freeze" "the v1 freeze"
    base=$(git merge-base HEAD refs/heads/main 2>/dev/null || true)
    if [ -n "$base" ] && [ "$base" != "$(git rev-parse HEAD)" ] &&
        [ "$base" != "$freeze" ] && git merge-base --is-ancestor "$freeze" "$base"; then
        against "$base" "where this branch left main"
    fi
    echo "buf breaking: no breaking change"
    ;;
*)
    echo "usage: $0 lint|breaking" >&2
    exit 2
    ;;
esac
