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

use super::CheckContext;

use crate::outcome::{StepFailure, harness_trouble};

use crate::outcome::Status;

/// The check's name in scenario files.
pub const NAME: &str = "browser";

/// This check, for the registry (`super::kinds`).
pub(crate) const KIND: super::CheckKind = super::CheckKind {
    name: NAME,
    validate: |params, _| {
        // It browses a server the scenario started.
        Params::parse(params)?;
        Ok(Vec::new())
    },
    real_only: Some("the `browser` check needs the real world"),
    schema: |generator| generator.subschema_for::<BrowserParams>(),
    run: |context, params| Box::pin(run(context, params)),
};
/// The longest the browser may take.
const BROWSER_DEADLINE: Duration = Duration::from_secs(60);

/// `params = { server = "server", path = "/index.html", expect = "image loaded" }`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BrowserParams {
    /// The started web server browsed (default `server`).
    server: Option<String>,
    /// The page's path, from `/` (default `/`).
    path: Option<String>,
    /// The text the page must show once loaded (required).
    expect: Option<String>,
}

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
        let raw: BrowserParams = super::params_of(NAME, params)?;
        let path = raw.path.unwrap_or_else(|| "/".into());
        if !path.starts_with('/') {
            return Err("`path` must start with `/`".into());
        }
        Ok(Params {
            server: super::server_or_default(raw.server),
            path,
            expect: raw
                .expect
                .ok_or("`expect` (the text the page must show) is required")?,
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

pub(crate) async fn run(
    run: &mut dyn CheckContext,
    params: &toml::Table,
) -> Result<(), StepFailure> {
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
    let output = render(&browser, &url, run).await?;
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

/// Runs the browser on `url` and returns what it printed (`--dump-dom`).
///
/// The page comes from a student's program, so the browser runs in the same sandbox as the
/// programs under test (`crate::world::real::sandbox`: PID and mount namespaces, a cgroup,
/// a clean environment, no privilege, seccomp), with a profile of its own in the sandbox's
/// folder, as a user of its own when the harness is root, and without Chromium's own
/// sandbox (`--no-sandbox`), which ours replaces.
/// The TCP ports the browser may reach where scenarios share the machine's loopback: the
/// page's own (its server under test), nothing else; and unix sockets of its own, which
/// Chromium makes for itself (its profile's lock among them).
fn page_port(url: &str) -> sandbox::TcpPorts {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let port = authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(if url.starts_with("https:") { 443 } else { 80 });
    sandbox::TcpPorts::default().with(port).with_unix_sockets()
}

async fn render(
    browser: &std::path::Path,
    url: &str,
    run: &mut dyn CheckContext,
) -> Result<std::process::Output, StepFailure> {
    use crate::world::real::cleanup;
    use sandbox::{Launch, Layer};
    let trouble = |what: &str, error: std::io::Error| harness_trouble(format!("{what}: {error}"));
    let sandboxed = &run.settings().sandbox;
    let enclosure = crate::temporary::sandboxes()
        .and_then(|parent| sandbox::Enclosure::new(&parent, None, sandboxed))
        .map_err(|error| trouble("cannot make the browser's sandbox", error))?;
    let profile = enclosure.folder().join("profile");
    std::fs::create_dir(&profile)
        .map_err(|error| trouble("cannot make a browser profile", error))?;
    // Chromium's own sandbox makes namespaces, which the sandbox the browser runs in
    // refuses (its seccomp filter), and which a platform's container refuses too: inside
    // ours (no privilege, its own view, seccomp) it runs without its own. Only where
    // `sandbox-init` cannot be had does it run bare, and then never as root.
    let ours = sandboxed.layers.allows(Layer::Init).is_ok();
    let not_root = enclosure.not_as_root();
    let mut argv: Vec<std::ffi::OsString> = vec![
        browser.into(),
        "--headless".into(),
        "--disable-gpu".into(),
        "--no-first-run".into(),
        "--disable-extensions".into(),
        // Nothing but the page: this machine's network may be closed.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--virtual-time-budget=5000".into(),
    ];
    if ours || !not_root {
        argv.push("--no-sandbox".into());
        // No zygote either (which needs its own sandbox's namespaces anyway): a zygote
        // learns its renderers' process ids from the credentials their messages carry,
        // and on a shared loopback where sandbox-init's warden copies the program's
        // sockets it sends the program's unix socket messages itself, with its own. (Where
        // the warden owns datagram sockets instead, the browser gets no warden: its
        // processes pass descriptors with `sendmsg`, which that warden's filter refuses.)
        argv.push("--no-zygote".into());
    }
    // Without a view the machine's `/dev/shm` is not its own (Landlock's walls keep it
    // out): its shared memory goes to its own temporary folder instead.
    if sandboxed.layers.allows(Layer::View).is_err() {
        argv.push("--disable-dev-shm-usage".into());
    }
    argv.push(format!("--user-data-dir={}", profile.display()).into());
    argv.push("--dump-dom".into());
    argv.push(url.into());
    let visible: Vec<PathBuf> = browser
        .parent()
        .map(|dir| dir.to_owned())
        .into_iter()
        .collect();
    let workdir = enclosure.folder().to_owned();
    let replaced = enclosure
        .etc_files(None)
        .map_err(|error| trouble("cannot write the browser's /etc files", error))?;
    let mut command = enclosure
        .command(Launch {
            argv: &argv,
            workdir: &workdir,
            writable: &[],
            visible: &visible,
            replaced: &replaced,
            report_fd: None,
            connects_fd: None,
            environment: Vec::new(),
            // V8's cage alone reserves far more address space than the cap.
            cap_address_space: false,
            // On a shared loopback, the page's port is the one it may reach.
            tcp_ports: Some(&page_port(url)),
            short_calls: None,
        })
        .map_err(|error| trouble("cannot hand the browser's folder to its user", error))?;
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    run.note(format!(
        "{} --headless --dump-dom {url}{}",
        browser.display(),
        if not_root { "" } else { " (as root)" }
    ));
    let child =
        crate::world::real::spawning::spawn_tokio(&mut tokio::process::Command::from(command))
            .map_err(|error| trouble(&format!("cannot run {}", browser.display()), error))?;
    let group = child.id().map(|pid| pid as i32);
    if let Some(group) = group {
        cleanup::register(group);
    }
    // Whatever happens, the browser's whole group goes with this scope.
    struct KillGroup(Option<i32>);
    impl Drop for KillGroup {
        fn drop(&mut self) {
            if let Some(group) = self.0 {
                cleanup::kill_group(group);
            }
        }
    }
    let _kill = KillGroup(group);
    match tokio::time::timeout(BROWSER_DEADLINE, child.wait_with_output()).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(error)) => Err(trouble(&format!("cannot run {}", browser.display()), error)),
        Err(_) => Err(StepFailure::fail(
            format!(
                "the browser to load {url} within {} s",
                BROWSER_DEADLINE.as_secs()
            ),
            "it was still loading: stopped",
        )),
    }
}
