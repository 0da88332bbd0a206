//! Command-line behaviour that needs no AWS peer: bad input gets a clear error naming the key.

use std::process::Command;

fn certwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(args)
        .env_remove("CERTWATCH_CONFIG")
        // Nothing here may reach AWS: a config error must stop the run first.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("run certwatch")
}

#[test]
fn bad_config_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for (text, wanted) in [
        (
            "[scan]\nregions = [\"eu-west-1\", \"mars-1\"]\n",
            "scan.regions: \"mars-1\"",
        ),
        (
            "[organization]\nmember_role = \"x\"\n",
            "unknown field `member_role`",
        ),
        ("[policy]\naction_days = 3\n", "policy.action_days"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = certwatch(&["scan", "--config", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(wanted), "{text:?}: {stderr}");
        assert!(
            stderr.contains("bad.toml"),
            "the error names the file: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let out = certwatch(&["scan", "--config", "/nonexistent/certwatch.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/certwatch.toml"),
        "{stderr}"
    );
}

#[test]
fn check_config_accepts_the_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let out = certwatch(&["check-config", "--config", example]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}
