//! The HTML report (`--format html`) in a real browser: Debian's `chromium`, headless. The page
//! is loaded from a file as a person would open it; the DOM after its script ran is what is
//! checked (the rows shown, a filter read from the URL fragment, the timeline's groups), with the
//! browser's console log and a screenshot that must not be blank.
//!
//! Chromium is required, not optional: without it this test fails and says how to install it
//! (`.ci/run` installs it).

use certwatch_core::Report;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHROMIUM: &str = "/usr/bin/chromium";

fn certwatch(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_certwatch"))
        .args(args)
        .env_remove("CERTWATCH_CONFIG")
        .env_remove("CERTWATCH_CONFIG_TOML")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run certwatch");
    assert!(
        out.status.success(),
        "certwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Debian's chromium, installed on first use when missing and this runs as root with apt-get
/// (as the moto venv is built on first use), so that the README's test command works on a fresh
/// Debian machine; otherwise the test fails saying what to install.
fn chromium_path() -> &'static Path {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let path = Path::new(CHROMIUM);
    INSTALL.call_once(|| {
        if path.exists() || !Path::new("/usr/bin/apt-get").exists() {
            return;
        }
        eprintln!("{CHROMIUM} is missing: installing Debian's chromium package with apt-get");
        let apt = |args: &[&str]| {
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        let _ = apt(&["update"]) && apt(&["install", "-y", "--no-install-recommends", "chromium"]);
    });
    assert!(
        path.exists(),
        "{CHROMIUM} is missing: this test needs Debian's chromium package \
         (`apt-get install -y --no-install-recommends chromium`, as root; .ci/run installs it)"
    );
    path
}

/// Headless Chromium on `url` with `extra` arguments: (stdout, stderr).
fn chromium(url: &str, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("a profile directory");
    let out = Command::new(chromium_path())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium on {url}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The console messages and uncaught errors of pages under `dir`, from Chromium's log: it logs
/// every console call as `…:INFO:CONSOLE:…] "message", source: file:///…`, uncaught
/// exceptions as `"Uncaught …"`.
fn console_lines(stderr: &str, dir: &Path) -> Vec<String> {
    let source = format!("file://{}", dir.display());
    stderr
        .lines()
        .filter(|l| (l.contains(":CONSOLE") && l.contains(&source)) || l.contains("Uncaught"))
        .map(str::to_owned)
        .collect()
}

/// The opening tags of the `<tr class="cert">` rows in `dom`, in order.
fn cert_rows(dom: &str) -> Vec<&str> {
    dom.match_indices("<tr class=\"cert\"")
        .map(|(at, _)| &dom[at..at + dom[at..].find('>').expect("a closed tag")])
        .collect()
}

fn shown(rows: &[&str]) -> Vec<String> {
    rows.iter()
        .filter(|tag| !tag.contains(" hidden"))
        .map(|tag| attribute(tag, "data-arn"))
        .collect()
}

fn attribute(tag: &str, name: &str) -> String {
    let start = tag
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("{name} in {tag}"))
        + name.len()
        + 3;
    let len = tag[start..].find('"').expect("a closing quote");
    tag[start..start + len].replace("&amp;", "&")
}

/// The data the page embeds (`<script type="application/json" id="certwatch-data">`).
fn embedded(page: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"certwatch-data\">";
    let start = page.find(open).expect("the embedded data") + open.len();
    let len = page[start..].find("</script>").expect("its end");
    serde_json::from_str(&page[start..start + len]).expect("JSON")
}

fn url(path: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", path.display())
}

#[test]
fn demo_report_in_headless_chromium() {
    chromium_path();
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Chromium resolves symlinks in file URLs only sometimes: use the real path.
    let dir_path: PathBuf = dir.path().canonicalize().expect("the directory");
    let page_path = dir_path.join("report.html");

    // The two runs close together: the demo's dates are relative to now.
    let page = String::from_utf8(certwatch(&["demo", "--format", "html"]).stdout).expect("utf-8");
    let report: Report =
        serde_json::from_slice(&certwatch(&["demo", "--format", "json"]).stdout).expect("JSON");
    std::fs::write(&page_path, &page).expect("write the page");
    let data = embedded(&page);
    let certificates = data["certificates"].as_array().expect("certificates");
    assert_eq!(certificates.len(), report.certificates.len());
    assert!(!certificates.is_empty());

    // Self-contained: nothing for the browser to fetch.
    for fetch in [
        "src=\"http",
        "href=\"http://",
        "@import",
        "url(http",
        "<link rel=\"stylesheet",
    ] {
        assert!(!page.contains(fetch), "the page fetches something: {fetch}");
    }

    // Loaded as it is: every certificate shown, in the embedded data's order.
    let (dom, log) = chromium(&url(&page_path, ""), &["--dump-dom"]);
    let rows = cert_rows(&dom);
    let arns: Vec<&str> = certificates
        .iter()
        .map(|c| c["arn"].as_str().expect("an ARN"))
        .collect();
    assert_eq!(shown(&rows), arns, "every row shown, in the embedded order");
    assert_eq!(rows.len(), report.certificates.len());
    assert!(
        dom.contains(&format!(
            "{} of {} certificates shown",
            arns.len(),
            arns.len()
        )),
        "the script ran"
    );
    assert_eq!(
        console_lines(&log, &dir_path),
        Vec::<String>::new(),
        "{log}"
    );

    // The timeline: the expired group, then one group per week.
    let weeks: Vec<String> = dom
        .match_indices("class=\"week\" data-week=\"")
        .map(|(at, m)| {
            let rest = &dom[at + m.len()..];
            rest[..rest.find('"').expect("a quote")].to_owned()
        })
        .collect();
    let expected: Vec<String> = std::iter::once("expired".to_owned())
        .chain((0..26).map(|w| w.to_string()))
        .collect();
    assert_eq!(weeks, expected);

    // A filter by code from the URL fragment: exactly the certificates with that finding.
    let with_code = |code: &str| -> Vec<&str> {
        certificates
            .iter()
            .filter(|c| {
                c["codes"]
                    .as_array()
                    .expect("codes")
                    .iter()
                    .any(|x| x == code)
            })
            .map(|c| c["arn"].as_str().expect("an ARN"))
            .collect()
    };
    let imported = with_code("IMPORTED");
    assert!(!imported.is_empty(), "the demo has imported certificates");
    assert!(imported.len() < arns.len());
    let (dom, log) = chromium(&url(&page_path, "#code=IMPORTED"), &["--dump-dom"]);
    assert_eq!(shown(&cert_rows(&dom)), imported);
    assert_eq!(
        console_lines(&log, &dir_path),
        Vec::<String>::new(),
        "{log}"
    );

    // And by account and code together.
    let first = &certificates[0];
    let account = first["account_id"].as_str().expect("an account");
    let code = first["codes"][0].as_str().expect("a code");
    let both: Vec<&str> = with_code(code)
        .into_iter()
        .filter(|arn| arn.contains(&format!(":{account}:")))
        .collect();
    let (dom, _) = chromium(
        &url(&page_path, &format!("#account={account}&code={code}")),
        &["--dump-dom"],
    );
    assert_eq!(shown(&cert_rows(&dom)), both);

    // A screenshot that is not blank; a copy at /tmp/report.png for a person to look at.
    let png = dir_path.join("report.png");
    let (_, log) = chromium(
        &url(&page_path, ""),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,1800",
            "--hide-scrollbars",
        ],
    );
    assert_eq!(
        console_lines(&log, &dir_path),
        Vec::<String>::new(),
        "{log}"
    );
    let colours = distinct_colours(&png);
    assert!(colours > 8, "the screenshot looks blank: {colours} colours");
    let _ = std::fs::copy(&png, "/tmp/report.png");
}

/// `certwatch report --from-store`: the stored inventory's page, one row per stored certificate.
#[test]
fn report_from_store_writes_the_page() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store_path = dir.path().join("certwatch.sqlite");
    let report: Report =
        serde_json::from_slice(&certwatch(&["demo", "--format", "json"]).stdout).expect("JSON");
    let count = report.certificates.len();
    let mut store = certwatch_store::Store::open(&store_path).expect("a store");
    store.merge_scan(report).expect("merged");
    drop(store);
    let config = dir.path().join("certwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[serve]\nstore_path = {:?}\n",
            store_path.display().to_string()
        ),
    )
    .expect("write the config");
    let config = config.to_str().expect("a UTF-8 path");
    let out = certwatch(&[
        "report",
        "--from-store",
        "--config",
        config,
        "--format",
        "html",
    ]);
    let page = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(cert_rows(&page).len(), count);
    assert_eq!(
        embedded(&page)["certificates"].as_array().map(Vec::len),
        Some(count)
    );
}

/// The log check above sees console errors at all: a page that logs and throws shows up.
#[test]
fn chromium_logs_console_errors_where_the_test_looks() {
    chromium_path();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir_path = dir.path().canonicalize().expect("the directory");
    let page = dir_path.join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><title>x</title><script>console.error('bad');\
         throw new Error('boom');</script>",
    )
    .expect("write the page");
    let (_, log) = chromium(&url(&page, ""), &["--dump-dom"]);
    let lines = console_lines(&log, &dir_path);
    assert!(
        lines.iter().any(|l| l.contains("bad")) && lines.iter().any(|l| l.contains("Uncaught")),
        "{log}"
    );
}

/// Distinct RGBA values of a PNG (the screenshot).
fn distinct_colours(path: &Path) -> usize {
    let file = std::fs::File::open(path).expect("the screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!((info.width, info.height), (1280, 1800));
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut seen = std::collections::BTreeSet::new();
    for pixel in pixels.chunks_exact(channels) {
        seen.insert(pixel.to_vec());
        if seen.len() > 1000 {
            break;
        }
    }
    seen.len()
}
