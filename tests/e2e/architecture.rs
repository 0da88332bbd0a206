//! The crate dependency rules of ARCHITECTURE.md ("Architecture invariants"), checked against
//! the resolved dependency graph (`cargo metadata`, offline, for the host platform).
//!
//! - `certwatch-core`, `certwatch-slack` and `certwatch-store` never depend on
//!   `certwatch-scanner` or on any `aws-*` crate: no dependency of any kind (normal, build, dev),
//!   direct or through any other crate.
//! - Only `certwatch-scanner` depends on an `aws-sdk-*` crate, besides the dev-dependencies of
//!   `certwatch-sim`, whose tests drive the simulator with the SDK's clients. Besides the scanner,
//!   only the binary (`certwatch`) and `certwatch-bench` depend directly on AWS SDK crates
//!   (`aws-config`, `aws-credential-types`: they build the `SdkConfig`).
//! - `certwatch-probe` depends on `certwatch-core` alone among the workspace's crates, and on no
//!   AWS SDK crate, directly or through any other crate (normal and build dependencies).
//! - `certwatch-sim` depends on neither `certwatch-core` nor `certwatch-scanner`: no dependency
//!   of any kind, direct or through any other crate.
//!
//! "AWS SDK crates" are the `aws-*` crates except `aws-lc-*`: aws-lc-rs is the crypto library
//! that rustls uses, which the probe and the simulator need for TLS.
//!
//! And one tidy check on the scanner's sources, read as text: only `scanner::aws` and
//! `scanner::act` name `aws_sdk_*`, and only `act` makes the one write
//! (`acm:ResendValidationEmail`); no other module of the scanner, none of the scan's, uses `act`.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Build,
    Dev,
}

/// The resolved graph: package name → (dependency name, kinds) for its direct dependencies.
struct Graph {
    workspace: BTreeSet<String>,
    deps: BTreeMap<String, Vec<(String, Vec<Kind>)>>,
}

impl Graph {
    fn load() -> Graph {
        let host = host_triple();
        let output = Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo metadata runs");
        assert!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
        let mut names = BTreeMap::new();
        for package in metadata["packages"].as_array().expect("packages") {
            names.insert(
                package["id"].as_str().expect("id").to_owned(),
                package["name"].as_str().expect("name").to_owned(),
            );
        }
        let name = |id: &Value| names[id.as_str().expect("an id")].clone();
        let workspace = metadata["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .map(name)
            .collect();
        let mut deps = BTreeMap::new();
        for node in metadata["resolve"]["nodes"].as_array().expect("resolve") {
            let direct = node["deps"]
                .as_array()
                .expect("deps")
                .iter()
                .map(|dep| {
                    let kinds = dep["dep_kinds"]
                        .as_array()
                        .expect("dep_kinds")
                        .iter()
                        .map(|k| match k["kind"].as_str() {
                            None => Kind::Normal,
                            Some("build") => Kind::Build,
                            Some("dev") => Kind::Dev,
                            Some(other) => panic!("unknown dependency kind {other}"),
                        })
                        .collect();
                    (name(&dep["pkg"]), kinds)
                })
                .collect();
            deps.insert(name(&node["id"]), direct);
        }
        Graph { workspace, deps }
    }

    /// The direct dependencies of `package` of one of `kinds`.
    fn direct(&self, package: &str, kinds: &[Kind]) -> BTreeSet<String> {
        self.deps[package]
            .iter()
            .filter(|(_, k)| k.iter().any(|k| kinds.contains(k)))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Everything `package` depends on through its dependencies of `kinds`, at any depth (past
    /// the first step, the normal and build dependencies of each: what gets built).
    fn transitive(&self, package: &str, kinds: &[Kind]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = self.direct(package, kinds).into_iter().collect();
        while let Some(next) = todo.pop() {
            if seen.insert(next.clone()) {
                todo.extend(self.direct(&next, &[Kind::Normal, Kind::Build]));
            }
        }
        seen
    }
}

/// The platform cargo builds for here (`rustc -vV`'s host): metadata offline is resolved for it
/// alone, since other platforms' crates need not be downloaded.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn is_aws_sdk_crate(name: &str) -> bool {
    name.starts_with("aws-") && !name.starts_with("aws-lc-")
}

const ALL: &[Kind] = &[Kind::Normal, Kind::Build, Kind::Dev];
const BUILT: &[Kind] = &[Kind::Normal, Kind::Build];

#[test]
fn crate_dependencies_follow_the_architecture() {
    let graph = Graph::load();
    for package in [
        "certwatch",
        "certwatch-bench",
        "certwatch-core",
        "certwatch-probe",
        "certwatch-scanner",
        "certwatch-sim",
        "certwatch-slack",
        "certwatch-store",
    ] {
        assert!(graph.workspace.contains(package), "{package} is missing");
    }
    let mut broken = Vec::new();

    for package in ["certwatch-core", "certwatch-slack", "certwatch-store"] {
        let bad: Vec<String> = graph
            .transitive(package, ALL)
            .into_iter()
            .filter(|dep| dep == "certwatch-scanner" || dep.starts_with("aws-"))
            .collect();
        if !bad.is_empty() {
            broken.push(format!("{package} depends on {bad:?}"));
        }
    }

    for package in &graph.workspace {
        let sdk = |kinds: &[Kind]| -> Vec<String> {
            graph
                .direct(package, kinds)
                .into_iter()
                .filter(|dep| dep.starts_with("aws-sdk-"))
                .collect()
        };
        let (built, dev) = (sdk(BUILT), sdk(&[Kind::Dev]));
        let allowed = match package.as_str() {
            "certwatch-scanner" => true,
            "certwatch-sim" => built.is_empty(),
            _ => built.is_empty() && dev.is_empty(),
        };
        if !allowed {
            broken.push(format!("{package} depends directly on {built:?} {dev:?}"));
        }
        let aws: Vec<String> = graph
            .direct(package, BUILT)
            .into_iter()
            .filter(|dep| is_aws_sdk_crate(dep))
            .collect();
        let builds_sdk_config = ["certwatch-scanner", "certwatch", "certwatch-bench"];
        if !aws.is_empty() && !builds_sdk_config.contains(&package.as_str()) {
            broken.push(format!("{package} depends directly on {aws:?}"));
        }
    }

    let probe = graph.transitive("certwatch-probe", BUILT);
    let members: Vec<String> = graph
        .direct("certwatch-probe", BUILT)
        .into_iter()
        .filter(|dep| graph.workspace.contains(dep))
        .collect();
    if members != ["certwatch-core"] {
        broken.push(format!("certwatch-probe depends on {members:?}"));
    }
    let bad: Vec<&String> = probe
        .iter()
        .filter(|dep| {
            is_aws_sdk_crate(dep) || (graph.workspace.contains(*dep) && *dep != "certwatch-core")
        })
        .collect();
    if !bad.is_empty() {
        broken.push(format!("certwatch-probe depends on {bad:?}"));
    }

    let bad: Vec<String> = graph
        .transitive("certwatch-sim", ALL)
        .into_iter()
        .filter(|dep| dep == "certwatch-core" || dep == "certwatch-scanner")
        .collect();
    if !bad.is_empty() {
        broken.push(format!("certwatch-sim depends on {bad:?}"));
    }

    assert!(
        broken.is_empty(),
        "crate dependencies break ARCHITECTURE.md's rules:\n{}",
        broken.join("\n")
    );
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn only_scanner_act_writes_to_aws() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/scanner/src");
    let mut broken = Vec::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap_or(&file).to_owned();
        let name = relative.to_string_lossy().replace('\\', "/");
        if name == "act.rs" {
            continue;
        }
        let is_aws = name == "aws.rs" || name.starts_with("aws/");
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let at = format!("crates/scanner/src/{name}:{}", i + 1);
            if code.contains("resend_validation_email") || code.contains("ResendValidationEmail") {
                broken.push(format!("{at}: the resend belongs to `act` alone: {code}"));
            }
            let declares_act =
                name == "lib.rs" && (code == "mod act;" || code.starts_with("pub use act::"));
            let uses_act = code.match_indices("act::").any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            }) || code.contains("Resender");
            if uses_act && !declares_act {
                broken.push(format!("{at}: the scan must not use `act`: {code}"));
            }
            if code.contains("aws_sdk_") && !is_aws {
                broken.push(format!(
                    "{at}: only `aws` and `act` name aws_sdk_* types: {code}"
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "ARCHITECTURE.md: the only call that changes AWS is made by `scanner::act`:\n{}",
        broken.join("\n")
    );
}
