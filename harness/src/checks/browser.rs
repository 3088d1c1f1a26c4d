//! `browser`: a real browser loads a page from the server and shows it (SPEC web/4).
//!
//! Headless Chromium fetches the page the way students check their server by hand: one
//! connection for the page, more for its style sheet and image, each request in the
//! browser's own words (keep-alive, compression offers, many headers). `--dump-dom` prints
//! the document after its scripts ran; the test page's script writes what really arrived
//! (image decoded, style applied) into the page, and the check looks for that text.
//!
//! ```toml
//! [[step]]
//! check = "browser"
//! params = { server = "server", path = "/index.html", expect = "image loaded; stylesheet applied" }
//! ```
//!
//! Without a browser on the machine the scenario is skipped, with the reason: install
//! Debian's `chromium`, or point `SOCKET_LAB_CHROMIUM` at a Chromium or Chrome binary.

use std::path::PathBuf;
use std::time::Duration;

use crate::engine::{Run, Status, StepFailure, harness_trouble};

/// The check's name in scenario files.
pub const NAME: &str = "browser";
/// The longest the browser may take.
const BROWSER_DEADLINE: Duration = Duration::from_secs(60);

/// Parameters.
#[derive(Debug, Clone)]
pub struct Params {
    server: String,
    path: String,
    expect: String,
}

impl Params {
    /// Reads and checks `params`.
    pub fn parse(params: &toml::Table) -> Result<Params, String> {
        const KNOWN: [&str; 3] = ["server", "path", "expect"];
        super::only_known(NAME, params, &KNOWN)?;
        let text = |key: &str| -> Result<Option<String>, String> {
            params
                .get(key)
                .map(|value| {
                    value
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("`{key}` must be a string"))
                })
                .transpose()
        };
        let path = text("path")?.unwrap_or_else(|| "/".into());
        if !path.starts_with('/') {
            return Err("`path` must start with `/`".into());
        }
        Ok(Params {
            server: super::server_param(params)?,
            path,
            expect: text("expect")?.ok_or("`expect` (the text the page must show) is required")?,
        })
    }
}

/// The browser to run: `SOCKET_LAB_CHROMIUM`, else the first Chromium or Chrome on the PATH.
pub fn find_browser() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOCKET_LAB_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

pub(crate) async fn run(run: &mut Run<'_>, params: &toml::Table) -> Result<(), StepFailure> {
    let params =
        Params::parse(params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let Some(browser) = find_browser() else {
        return Err(StepFailure {
            status: Status::Skipped,
            expected: "a headless browser".into(),
            seen: "no Chromium or Chrome on this machine (install Debian's `chromium`, or set SOCKET_LAB_CHROMIUM)".into(),
            diff: None,
        });
    };
    let (host, port) = run.endpoint_address(&params.server)?;
    let url = format!("http://{host}:{port}{}", params.path);
    // A profile of its own: two browsers at once would fight over the default one.
    let profile = tempfile::tempdir()
        .map_err(|error| harness_trouble(format!("cannot make a browser profile: {error}")))?;
    let mut command = tokio::process::Command::new(&browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    run.note(format!("{} --headless --dump-dom {url}", browser.display()));
    let output = match tokio::time::timeout(BROWSER_DEADLINE, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => {
            return Err(harness_trouble(format!(
                "cannot run {}: {error}",
                browser.display()
            )));
        }
        Err(_) => {
            return Err(StepFailure::fail(
                format!(
                    "the browser to load {url} within {} s",
                    BROWSER_DEADLINE.as_secs()
                ),
                "it was still loading: stopped",
            ));
        }
    };
    let dom = String::from_utf8_lossy(&output.stdout);
    run.note(format!(
        "the browser rendered {} bytes of document",
        dom.len()
    ));
    if dom.contains(&params.expect) {
        Ok(())
    } else {
        let shown: String = dom.chars().take(600).collect();
        Err(StepFailure::fail(
            format!(
                "the page at {url}, rendered by a browser, to show “{}”",
                params.expect
            ),
            if dom.trim().is_empty() {
                format!(
                    "an empty document (browser said: {})",
                    String::from_utf8_lossy(&output.stderr)
                        .lines()
                        .last()
                        .unwrap_or("nothing")
                )
            } else {
                format!("the rendered document: {shown}")
            },
        ))
    }
}
