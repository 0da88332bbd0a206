# certwatch developer recipes. The README's two commands need only cargo; these are shortcuts.

# List the recipes.
default:
    @just --list

# Scan the simulated demo organization (no AWS account needed).
demo:
    cargo run -- demo

# Scan the organization your AWS credentials belong to, with a config file.
scan config="config/example.toml":
    cargo run -- scan --config {{config}}

# Run the whole test suite (starts moto on 127.0.0.1 as needed).
test:
    cargo test --workspace

# Format, lint, test: exactly what CI runs.
ci:
    bash .ci/run

# Format the code.
fmt:
    cargo fmt --all

# Clippy with warnings as errors.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Fail if debugging leftovers are in the code.
forbid:
    ! grep -rnE 'dbg!|todo!|unimplemented!' crates tests --include=*.rs
