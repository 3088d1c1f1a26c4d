//! What every pack's tests share: the pack's server peer on a fresh loopback port, as a
//! `listen` step starts it, for clients nobody here wrote to talk to.

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use crate::faults::SlicePlan;
use crate::peers::{ProtocolScript, ServerPeer, ServerPlan, Speaks, Transport};
use crate::transcript::Transcript;
use crate::world::sockets::{Family, PeerNet};

/// A server peer speaking `script` on a fresh loopback port.
pub(crate) async fn start_peer(script: Arc<dyn ProtocolScript>) -> ServerPeer {
    let plan = ServerPlan {
        transport: Transport::Tcp,
        speaks: Speaks::Protocol(script),
        slices: SlicePlan::WHOLE,
        family: Family::Ipv4,
        listen_after: Duration::ZERO,
    };
    let transcript = Transcript::new(tokio::time::Instant::now());
    let settings = crate::settings::RunSettings::machine_defaults();
    ServerPeer::start(
        &PeerNet::Real(Default::default()),
        "peer",
        plan,
        1,
        transcript,
        &settings,
    )
    .await
    .expect("the peer listens on loopback")
}

/// Runs a program off the async threads (the peer serves on them); the clients run
/// with timeouts of their own. A missing program fails the test, saying what to install.
pub(crate) async fn run(program: &'static str, args: Vec<String>, install: &'static str) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(program);
        command.args(&args);
        match command.output() {
            Ok(output) => output,
            Err(error) => panic!("cannot run `{program}` ({error}): install {install}"),
        }
    })
    .await
    .expect("the client ran")
}

/// The sessions a session-keeping pack's peer (IMAP, POP3, SMTP, FTP) recorded so far.
pub(super) fn sessions_of<S: super::sessions::Session>(peer: &ServerPeer) -> Vec<S> {
    let record = peer.record().expect("a protocol peer keeps a record");
    super::sessions::copy_of(
        record
            .as_any()
            .downcast_ref::<std::sync::Mutex<Vec<S>>>()
            .expect("the pack's own record"),
    )
}

/// The peer's sessions once `count` of them (any number, for `None`) have all ended: the
/// peer marks the end after its last reply, which the client may have read a moment
/// earlier. Bounded: after 5 s, what there is.
pub(super) async fn sessions_over<S: super::sessions::Session>(
    peer: &ServerPeer,
    count: Option<usize>,
) -> Vec<S> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let sessions: Vec<S> = sessions_of(peer);
        let all_there = count.is_none_or(|count| sessions.len() == count);
        let over = all_there && sessions.iter().all(super::sessions::Session::ended);
        if over || tokio::time::Instant::now() > deadline {
            return sessions;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
