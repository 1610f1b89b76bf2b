#!/usr/bin/env bash
# The manager alone, as the chat core embeds it (`default-features = false`): it builds and lints
# clean, and pulls in none of the harness's or the program's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy --quiet -p cattackle-harness --no-default-features --lib -- -D warnings
tree=$(cargo tree --quiet -e normal -p cattackle-harness --no-default-features --prefix none)
banned='^(serde_yaml|schemars|similar|regex-lite|wiremock|clap|tracing-subscriber|insta|libtest-mimic) '
if grep -E "$banned" <<<"$tree" | sort -u | grep .; then
    echo "error: the lean manager depends on the crates above (see Cargo.toml [features])" >&2
    exit 1
fi
if cargo tree --quiet -e normal,features -p cattackle-harness --no-default-features -i tokio \
    | grep -q 'tokio feature "test-util"'; then
    echo "error: the lean manager enables tokio's test-util" >&2
    exit 1
fi
echo "lean manager: $(sort -u <<<"$tree" | wc -l) crates, none of the harness's"
