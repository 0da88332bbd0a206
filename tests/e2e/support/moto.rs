//! A private moto server per test, and the organization `tests/moto/seed_org.py` puts in it.
//!
//! moto holds one organization per server, so every test starts its own [`Moto`] on a free
//! port and the server dies with the value. The Python that runs it is `CERTWATCH_MOTO_PYTHON`
//! if set (any interpreter with the packages of `tests/moto/requirements.txt`), else a venv at
//! `<target>/moto-venv` that the first test to need it builds from that file, under a file
//! lock so parallel tests and test processes build it once. Changing the requirements
//! rebuilds it.

use std::env;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How long a fresh server may take to answer HTTP (a cold Python imports a lot).
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);
/// Attempts with a new port when another process took ours between probe and bind.
const PORT_ATTEMPTS: usize = 3;

/// A running `moto_server` on 127.0.0.1; killed and reaped on drop.
pub struct Moto {
    child: Child,
    url: String,
    python: PathBuf,
    /// moto's stdout and stderr (one line per request); kept if the test fails.
    log: PathBuf,
}

impl Moto {
    /// Starts a server and waits until it answers; panics with moto's output if it cannot.
    pub fn start() -> Moto {
        let python = moto_python();
        let mut last_log = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match spawn(python) {
                Ok(moto) => return moto,
                Err(log) => last_log = log,
            }
        }
        panic!(
            "moto_server found no free port in {PORT_ATTEMPTS} attempts; \
             last output:\n{last_log}"
        );
    }

    /// `http://127.0.0.1:<port>`, the value for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The interpreter that runs moto; it also has boto3 and cryptography for the seed.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Points `command` at this server with moto's static credentials, after removing every
    /// inherited `AWS_*` variable so that no profile, real credential or endpoint of the
    /// developer's shell can leak in.
    pub fn aws_env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        for (key, _) in env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .env("AWS_ENDPOINT_URL", &self.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
    }

    fn read_log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Kill by our own child's PID, then reap it so no zombie outlives the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("moto request log kept at {}", self.log.display());
        } else {
            let _ = fs::remove_file(&self.log);
        }
    }
}

/// One start attempt on a fresh port. `Err(output)` if the port was taken; panics on
/// anything else.
fn spawn(python: &Path) -> Result<Moto, String> {
    let port = free_port();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("moto-{}-{port}.log", std::process::id()));
    let log_file = File::create(&log)
        .unwrap_or_else(|e| panic!("cannot create moto log {}: {e}", log.display()));
    let stderr = log_file.try_clone().expect("clone moto log handle");
    let child = Command::new(python)
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .env("MOTO_ACM_VALIDATION_WAIT", "0")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} -m moto.server: {e}", python.display()));
    let mut moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
        python: python.to_path_buf(),
        log,
    };

    let started = Instant::now();
    loop {
        if let Some(status) = moto.child.try_wait().expect("poll moto_server") {
            let output = moto.read_log();
            if output.contains("Address already in use") {
                return Err(output);
            }
            panic!("moto_server on port {port} exited with {status} before answering:\n{output}");
        }
        if answers_http(port) {
            return Ok(moto);
        }
        if started.elapsed() > STARTUP_DEADLINE {
            // Kill before reading, so the panic shows everything it wrote.
            let _ = moto.child.kill();
            let _ = moto.child.wait();
            panic!(
                "moto_server on port {port} did not answer GET /moto-api/ \
                 within {STARTUP_DEADLINE:?}; its output:\n{}",
                moto.read_log()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// A port nobody listens on right now (the OS picks it; moto binds it a moment later).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Whether an HTTP server answers `GET /moto-api/` on the port.
fn answers_http(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status_line = [0u8; 12];
    stream.read_exact(&mut status_line).is_ok() && status_line.starts_with(b"HTTP/1.")
}

/// The test venv's interpreter (built if needed) without starting moto: it also has
/// `prometheus_client`, whose parser reads serve's `/metrics` in tests/e2e/metrics.rs.
pub fn python() -> &'static Path {
    moto_python()
}

/// The Python that runs moto, resolved (and its venv built) once per test process.
fn moto_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| match env::var_os("CERTWATCH_MOTO_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => ensure_venv(&target_dir().join("moto-venv")),
    })
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `CARGO_TARGET_DIR` (relative to the workspace if relative) or `<workspace>/target`.
fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace().join(dir),
        None => workspace().join("target"),
    }
}

/// Builds the venv unless it was built from the current requirements; returns its python.
fn ensure_venv(venv: &Path) -> PathBuf {
    let requirements = workspace().join("tests/moto/requirements.txt");
    let wanted = fs::read_to_string(&requirements)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements.display()));
    // Written last, so a venv whose build was interrupted is rebuilt.
    let stamp = venv.join("certwatch-requirements.txt");
    let python = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };

    let parent = venv.parent().expect("venv has a parent directory");
    fs::create_dir_all(parent)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
    let lock_path = venv.with_extension("lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    if python.exists() && fs::read_to_string(&stamp).is_ok_and(|built| built == wanted) {
        return python;
    }
    // Straight to stderr, past the test harness's capture: this pause is worth explaining.
    let _ = writeln!(
        std::io::stderr(),
        "building the moto venv at {} from {} (once, ~15 s)",
        venv.display(),
        requirements.display()
    );
    if venv.exists() {
        fs::remove_dir_all(venv)
            .unwrap_or_else(|e| panic!("cannot remove {}: {e}", venv.display()));
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    fs::write(&stamp, wanted).unwrap_or_else(|e| panic!("cannot write {}: {e}", stamp.display()));
    python
    // `lock` is released when dropped here.
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What `seed_org.py` created (its stdout).
#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub management_account: String,
    /// moto names the management account "master".
    pub management_name: String,
    /// Every account but the management one, including the suspended.
    pub members: Vec<Member>,
    pub suspended: Vec<String>,
    pub regions: Vec<String>,
    /// Certificates of the active accounts only.
    pub certificates: Vec<SeededCertificate>,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// ListAccounts' `State`: ACTIVE or SUSPENDED.
    pub state: String,
}

#[derive(Debug, Deserialize)]
pub struct SeededCertificate {
    pub account_id: String,
    pub region: String,
    pub arn: String,
    pub domain: String,
    pub kind: Kind,
    /// RFC 3339, as DescribeCertificate returned it.
    pub not_after: String,
    pub key_algorithm: String,
    pub in_use_by: Vec<String>,
    pub expected: Vec<ExpectedFinding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Requested, DNS-validated, served by an ALB HTTPS listener: renews by itself.
    DnsInUse,
    /// Requested, DNS-validated, used by nothing: will not renew.
    DnsUnused,
    /// Imported RSA-2048, expiring in 5 or 30 days.
    ImportedRsa,
    /// Imported EC P-256, expiring in about 200 days.
    ImportedEc,
    /// Imported, already expired.
    ImportedExpired,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct ExpectedFinding {
    pub code: String,
    pub urgency: String,
}

impl Manifest {
    /// The accounts a scan must cover: the management account and the ACTIVE members.
    pub fn active_accounts(&self) -> Vec<&str> {
        let members = self.members.iter().filter(|m| m.state == "ACTIVE");
        std::iter::once(self.management_account.as_str())
            .chain(members.map(|m| m.id.as_str()))
            .collect()
    }

    /// The name ListAccounts gives `account_id`.
    pub fn account_name(&self, account_id: &str) -> Option<&str> {
        if account_id == self.management_account {
            return Some(&self.management_name);
        }
        self.members
            .iter()
            .find(|m| m.id == account_id)
            .map(|m| m.name.as_str())
    }
}

/// Creates the organization of `tests/moto/seed_org.py` in `moto` and returns its manifest.
pub fn seed(moto: &Moto) -> Manifest {
    run_script(moto, "seed_org.py", &[])
}

/// What `place_org.py` did: the OUs it made and where every account of the organization is.
#[derive(Debug, Deserialize)]
pub struct Placement {
    /// Root/Workloads, then Root/Workloads/Payments.
    pub ous: Vec<PlacedUnit>,
    /// Every account, ACTIVE or not, by name.
    pub accounts: Vec<PlacedAccount>,
}

#[derive(Debug, Deserialize)]
pub struct PlacedUnit {
    pub id: String,
    /// `Root/Workloads/Payments`.
    pub path: String,
}

#[derive(Debug, Deserialize)]
pub struct PlacedAccount {
    pub name: String,
    pub ou_path: String,
}

impl Placement {
    /// The id of the OU at `path` (`Root/Workloads`).
    pub fn ou_id(&self, path: &str) -> &str {
        let unit = self.ous.iter().find(|u| u.path == path);
        &unit
            .unwrap_or_else(|| panic!("place_org.py made no {path}"))
            .id
    }
}

/// Puts the accounts of [`seed`] into OUs and tags some (`tests/moto/place_org.py`).
pub fn place(moto: &Moto) -> Placement {
    run_script(moto, "place_org.py", &[])
}

/// Runs `tests/moto/<name>` with the venv's python against `moto` (its URL, then `args`) and
/// reads the JSON it prints.
fn run_script<T: serde::de::DeserializeOwned>(moto: &Moto, name: &str, args: &[String]) -> T {
    let script = workspace().join("tests/moto").join(name);
    let mut command = Command::new(moto.python());
    command.arg(&script).arg(moto.url()).args(args);
    let output = moto
        .aws_env(&mut command)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed with {}:\n{}\nmoto's log:\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr),
        moto.read_log()
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON ({e}):\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// What [`change_one_target`] did, in one member's account-region.
pub struct Changed<'m> {
    /// Deleted (an unused certificate: NOT_IN_USE).
    pub deleted: &'m SeededCertificate,
    /// Re-imported with a NotAfter 300 days away.
    pub reimported: &'m SeededCertificate,
    /// Imported, expiring in 3 days: `soon.example.com`.
    pub new_arn: String,
}

/// In the first member target with an imported RSA certificate: deletes its unused
/// certificate, imports `soon.example.com` expiring in 3 days, re-imports the RSA one.
pub fn change_one_target<'m>(moto: &Moto, manifest: &'m Manifest) -> Changed<'m> {
    let reimported = manifest
        .certificates
        .iter()
        .find(|c| c.kind == Kind::ImportedRsa && c.account_id != manifest.management_account)
        .expect("a member has an imported RSA certificate");
    let deleted = manifest
        .certificates
        .iter()
        .find(|c| {
            c.kind == Kind::DnsUnused
                && c.account_id == reimported.account_id
                && c.region == reimported.region
        })
        .expect("the same target has an unused certificate");
    let answer = change(
        moto,
        &serde_json::json!({
            "account_id": reimported.account_id,
            "region": reimported.region,
            "delete": deleted.arn,
            "new_domain": "soon.example.com",
            "reimport": reimported.arn,
            "reimport_domain": reimported.domain,
        }),
    );
    Changed {
        deleted,
        reimported,
        new_arn: answer["new"].as_str().expect("the new ARN").to_owned(),
    }
}

/// Re-imports `certificate` with a NotAfter `days` away.
pub fn reimport(moto: &Moto, certificate: &SeededCertificate, days: i64) {
    change(
        moto,
        &serde_json::json!({
            "account_id": certificate.account_id,
            "region": certificate.region,
            "reimport": certificate.arn,
            "reimport_domain": certificate.domain,
            "reimport_days": days,
        }),
    );
}

/// Serves `certificate` from a new ALB HTTPS listener (it becomes in use).
pub fn attach(moto: &Moto, certificate: &SeededCertificate) {
    change(
        moto,
        &serde_json::json!({
            "account_id": certificate.account_id,
            "region": certificate.region,
            "attach": certificate.arn,
        }),
    );
}

/// Runs `tests/moto/change_org.py` with `plan` (see that script) and returns its JSON answer.
fn change(moto: &Moto, plan: &serde_json::Value) -> serde_json::Value {
    run_script(moto, "change_org.py", &[plan.to_string()])
}

/// A scan of 8 account-regions on moto takes seconds; this only stops a hang.
const SCAN_DEADLINE: Duration = Duration::from_secs(180);

/// Runs `certwatch scan --config <tmp>/certwatch.toml --format json <args>` against moto, with
/// the organization's regions, the default policy written out, and `extra_toml` appended (a
/// `[checks]` table: every caller says how the network checks run).
pub fn scan(moto: &Moto, manifest: &Manifest, extra_toml: &str, args: &[&str]) -> Output {
    let args: Vec<&str> = ["--format", "json"].iter().chain(args).copied().collect();
    certwatch(moto, manifest, "scan", extra_toml, &args)
}

/// Runs `certwatch <subcommand> --config <tmp>/certwatch.toml <args>` against moto, with the
/// config of [`scan`].
pub fn certwatch(
    moto: &Moto,
    manifest: &Manifest,
    subcommand: &str,
    extra_toml: &str,
    args: &[&str],
) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("certwatch.toml");
    let regions: Vec<String> = manifest.regions.iter().map(|r| format!("{r:?}")).collect();
    let toml = format!(
        r#"[organization]
member_role_name = "OrganizationAccountAccessRole"
include_management_account = true

[scan]
regions = [{}]

[policy]
urgent_days = 7
action_days = 45

{extra_toml}"#,
        regions.join(", ")
    );
    fs::write(&config, toml).expect("write the config");

    let mut command = Command::new(env!("CARGO_BIN_EXE_certwatch"));
    command
        .args([subcommand, "--config"])
        .arg(&config)
        .args(args);
    for (key, _) in env::vars_os() {
        if key.to_string_lossy().starts_with("CERTWATCH_") {
            command.env_remove(key);
        }
    }
    moto.aws_env(&mut command);
    output_within(&mut command, SCAN_DEADLINE)
}

/// `command.output()`, but killed with a panic after `deadline`.
fn output_within(command: &mut Command, deadline: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // Drain both pipes while waiting, or a full pipe would block the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll certwatch") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.join().unwrap_or_default();
            panic!(
                "{command:?} did not finish within {deadline:?}; its stderr:\n{}",
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}
