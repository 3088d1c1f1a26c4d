//! `wait_listening`: a server is ready when the kernel lists its socket listening on the
//! port it was given (read from `/proc`, never probed with a connection). It fails when the
//! server ends first, listens on other ports only for [`ELSEWHERE_GRACE`], is blocked for
//! good (see `stillness`), or at the deadline.

use super::*;

/// How often `wait_listening` looks after its first quarter second.
const LISTEN_POLL_LATER: Duration = Duration::from_millis(50);
/// How long a server may listen on other ports only before `wait_listening` takes it
/// that it will not listen on the one it was given.
const ELSEWHERE_GRACE: Duration = Duration::from_millis(2000);

impl Run<'_> {
    /// Waits until the program listens on its port, as the kernel sees it: at most
    /// `within`, or [`ELSEWHERE_GRACE`] once it listens on other ports only.
    pub(crate) async fn wait_listening(&mut self, name: &str, within: Duration) -> StepResult {
        let program = &self.programs[name];
        let port = program
            .port
            .ok_or_else(|| harness_trouble(format!("`{name}` has no port to listen on")))?;
        let mut deadline = Deadline::start(&*self, within);
        let mut elsewhere_since: Option<Instant> = None;
        let mut polls = 0u32;
        loop {
            // Listening, but on a port of its own choosing: given a moment (a server may
            // open another socket first), it will not come to the one it was given.
            // (Looked for every fifth poll: it reads every process's entry in `/proc`.)
            polls += 1;
            let listening = program.handle.listening(port, polls.is_multiple_of(5));
            if listening.on_port {
                self.note(format!("{name} listens on port {port}"));
                return Ok(());
            }
            match listening.tcp_elsewhere {
                Some(elsewhere) if elsewhere.is_empty() => elsewhere_since = None,
                Some(elsewhere)
                    if elsewhere_since.get_or_insert_with(Instant::now).elapsed()
                        >= ELSEWHERE_GRACE =>
                {
                    return Err(listening_elsewhere(name, port, &elsewhere));
                }
                _ => {}
            }
            if let Some(info) = program.handle.exit_info() {
                // It may have listened for a moment between two looks (a server that
                // crashes just after `listen()`): what the harness knows is that it ended
                // before it was seen listening, and the end of its stderr says why.
                let stderr_end = self.stderr_end_once_read(name).await;
                let why = match super::cause::last_words(&stderr_end) {
                    Some(words) => format!("; its stderr ends with: {words}"),
                    None => "; its stderr is empty".to_owned(),
                };
                return Err(StepFailure::fail(
                    format!("{name} to listen on port {port}"),
                    format!(
                        "it ended ({}) before the harness saw it listening on port {port}{why}",
                        info.kind
                    ),
                ));
            }
            // Blocked for good, it will not come to listen where it does not yet.
            if let Some(stuck) = self.blocked_for_good() {
                let elsewhere = program.handle.listening(port, true).tcp_elsewhere;
                if let Some(elsewhere) = elsewhere.filter(|ports| !ports.is_empty()) {
                    return Err(listening_elsewhere(name, port, &elsewhere));
                }
                return Err(StepFailure::fail(
                    format!("{name} to listen on port {port}"),
                    format!("{name} does not listen on port {port}, and will not: {stuck}"),
                ));
            }
            if deadline.passed(&*self) {
                return Err(StepFailure::fail(
                    format!("{name} to listen on port {port} {}", deadline.describe()),
                    format!("{name} never listened on port {port}"),
                ));
            }
            // Often at first (a server is usually up within a few hundred milliseconds),
            // then less: each look reads the kernel's TCP tables, a millisecond of system
            // time however few sockets there are, and eight scenarios may be waiting.
            let pause = if polls < 25 { POLL } else { LISTEN_POLL_LATER };
            tokio::time::sleep(pause).await;
        }
    }
}

/// The failure of a server that listens on `elsewhere` only, not on `port`.
fn listening_elsewhere(name: &str, port: u16, elsewhere: &[u16]) -> StepFailure {
    StepFailure::fail(
        format!("{name} to listen on port {port}, the port it was given"),
        format!(
            "it listens on port {} instead (for {} ms now): a port of its own choosing, or one written into the program. Take the port from the command line; if the handout fixes it, say so in submission.toml (`port = {}` in the task's table)",
            join_ports(elsewhere),
            ELSEWHERE_GRACE.as_millis(),
            elsewhere[0]
        ),
    )
}

/// Ports as a report lists them: `4001`, `4001 and 4002`, `4001, 4002 and 4003`.
fn join_ports(ports: &[u16]) -> String {
    let shown: Vec<String> = ports.iter().map(u16::to_string).collect();
    match shown.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
