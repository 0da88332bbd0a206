//! `certwatch serve` as a child process: its config, its start and stop (by signal), and
//! slash commands signed as Slack signs them.

use super::http::request;
use chrono::Utc;
use hmac::{Hmac, Mac};
use nix::sys::signal::Signal;
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const BOT_TOKEN: &str = "xoxb-test-token";
pub const APP_TOKEN: &str = "xapp-test-token";
pub const ADMIN: &str = "UADMIN0001";

pub fn sign(timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// A slash-command form from `user` in channel C0001 of workspace T0001.
pub fn form(user: &str, text: &str, response_url: &str) -> String {
    form_in("C0001", user, text, response_url)
}

pub fn form_in(channel: &str, user: &str, text: &str, response_url: &str) -> String {
    let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    format!(
        "token=unused&team_id=T0001&team_domain=example&channel_id={channel}&channel_name=ops\
         &user_id={user}&user_name=someone&command=%2Fcerts&text={}&response_url={}\
         &trigger_id=123.456.abc",
        enc(text),
        enc(response_url)
    )
}

/// A digest time a few seconds from now, in whole seconds (the configured time has no
/// fraction), and the `[slack]` tables that post it to CDIGEST01 over the HTTP transport.
pub fn http_slack(seconds_from_now: i64) -> (chrono::DateTime<Utc>, String) {
    http_slack_with(seconds_from_now, "")
}

/// [`http_slack`] with `slack_keys` (lines such as `route_by_tag = "…"`) added to its `[slack]`
/// table.
pub fn http_slack_with(seconds_from_now: i64, slack_keys: &str) -> (chrono::DateTime<Utc>, String) {
    let at = chrono::Timelike::with_nanosecond(
        &(Utc::now() + chrono::Duration::seconds(seconds_from_now)),
        0,
    )
    .unwrap();
    let tables = format!(
        r#"[slack]
transport = "http"
api_url = "{{api}}"
admin_user_ids = ["{ADMIN}"]
team_id = "T0001"
channel_ids = ["C0001", "C0002"]
{slack_keys}
[slack.digest]
channel = "CDIGEST01"
time = "{time}"
time_zone = "UTC"
"#,
        time = at.format("%H:%M:%S"),
    );
    (at, tables)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where a test's serve keeps its files and listens.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Setup {
    /// A config with `[serve]` filled in (listen address, store in a temp dir) and no network
    /// checks; `rest` is the rest of the file (`[slack]` …), with `{api}` replaced by the fake
    /// Slack's API URL.
    pub fn new(api_url: &str, rest: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let config = dir.path().join("certwatch.toml");
        let text = format!(
            "[organization]\nmember_role_name = \"OrganizationAccountAccessRole\"\n\
             [checks]\ndns = false\ntls = false\n\
             [serve]\nlisten = \"{addr}\"\nstore_path = \"{store}\"\n{rest}",
            store = dir.path().join("store.sqlite").display(),
            rest = rest.replace("{api}", api_url),
        );
        std::fs::write(&config, text).unwrap();
        let log = dir.path().join("serve.log");
        Setup {
            dir,
            addr,
            config,
            log,
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store.sqlite")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts `certwatch serve` against `aws`, appending to the log.
    pub fn start(&self, aws: &str) -> Serve {
        self.start_with_env(aws, &[])
    }

    /// Starts `certwatch serve` like [`Setup::start`], with these environment variables on top:
    /// `Some` sets one (`CERTWATCH_LOG_FORMAT=json`), `None` removes it (`CERTWATCH_LOG`, which
    /// `start` sets to `info`, to see serve's own default).
    pub fn start_with_env(&self, aws: &str, env: &[(&str, Option<&str>)]) -> Serve {
        self.spawn(&[], Some(aws), env)
    }

    /// Starts `certwatch serve --demo`, with no AWS setting at all in its environment.
    pub fn start_demo(&self) -> Serve {
        self.spawn(&["--demo"], None, &[])
    }

    fn spawn(&self, extra: &[&str], aws: Option<&str>, env: &[(&str, Option<&str>)]) -> Serve {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_certwatch"));
        command
            .args(["serve", "--config", self.config.to_str().unwrap()])
            .args(extra)
            .env_remove("CERTWATCH_CONFIG_TOML")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_APP_TOKEN", APP_TOKEN)
            .env("CERTWATCH_LOG", "info")
            .env_remove("CERTWATCH_LOG_FORMAT")
            .stdout(Stdio::null())
            .stderr(log);
        let aws_env = [
            ("AWS_ENDPOINT_URL", aws.unwrap_or_default()),
            ("AWS_ACCESS_KEY_ID", "sim"),
            ("AWS_SECRET_ACCESS_KEY", "sim"),
            ("AWS_REGION", "us-east-1"),
        ];
        for (name, value) in aws_env {
            match aws {
                Some(_) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        for (name, value) in env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let child = command.spawn().expect("start certwatch serve");
        Serve { child }
    }

    /// Waits until `/readyz` says 200 and returns its JSON.
    pub async fn wait_ready(&self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = request(&self.addr, "GET", "/readyz", &[], "").await {
                if r.status == 200 {
                    return serde_json::from_str(&r.body).expect("readyz JSON");
                }
            }
            assert!(
                Instant::now() < deadline,
                "serve never became ready; its log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `/readyz` now, whatever its status.
    pub async fn readyz(&self) -> serde_json::Value {
        let r = request(&self.addr, "GET", "/readyz", &[], "")
            .await
            .expect("readyz");
        serde_json::from_str(&r.body).expect("readyz JSON")
    }

    /// POSTs a slash command with these headers.
    pub async fn command(
        &self,
        body: &str,
        timestamp: i64,
        signature: Option<String>,
    ) -> (u16, String) {
        let mut headers = vec![
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("X-Slack-Request-Timestamp", timestamp.to_string()),
        ];
        if let Some(sig) = signature {
            headers.push(("X-Slack-Signature", sig));
        }
        let r = request(&self.addr, "POST", "/slack/commands", &headers, body)
            .await
            .expect("command request");
        (r.status, r.body)
    }

    /// A slash command signed now.
    pub async fn signed(&self, body: &str) -> (u16, String) {
        let now = Utc::now().timestamp();
        self.command(body, now, Some(sign(now, body))).await
    }
}

/// A running `certwatch serve`, killed when dropped.
pub struct Serve {
    child: Child,
}

impl Serve {
    pub fn signal(&self, signal: Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("signal certwatch serve");
    }

    /// Waits for the process to exit, at most `limit`; `None` if it is still running.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Serve {
    /// Stops it as ECS does (SIGTERM) and returns its exit status; panics, with its log, if it
    /// is still running after 30 s.
    pub async fn terminate(mut self, setup: &Setup) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        match self.exit_within(Duration::from_secs(30)).await {
            Some(status) => status,
            None => panic!(
                "serve still running 30 s after SIGTERM; log:\n{}",
                setup.log_text()
            ),
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `certwatch serve` to its end (a start that must fail) and returns its status and
/// standard error.
pub fn run_to_exit(setup: &Setup, aws: &str) -> (ExitStatus, String) {
    let mut serve = setup.start(aws);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit; log:\n{}",
            setup.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, setup.log_text())
}

/// The store file's path as it appears in messages.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}
