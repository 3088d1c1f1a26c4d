//! What the generic server peer asks of a protocol it speaks by a pack's script
//! (`crate::protocols`): an SMTP server, a ping server, an HTTP origin.
//!
//! The server peer keeps what every protocol shares: the listening socket, the transport,
//! the transcript, the capture of everything received, slicing, listening late. A pack
//! plugs in three things:
//!
//! - a [`ProtocolScript`]: the scenario's options, checked when the scenario loads, held
//!   by the `listen` step's plan;
//! - a [`ProtocolServer`]: one running peer of that script, which serves each TCP
//!   [`Conversation`](super::Conversation) or answers each datagram;
//! - a [`ProtocolRecord`]: what it saw happen (sessions, commands, pings), which its own
//!   judges read back through `crate::judge::output::Facts`.
//!
//! Nothing here names a pack: the peer and the engine hold them as trait objects.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Conversation, DatagramAnswer};
use crate::settings::RunSettings;

/// A pack's script for a server peer, as the scenario gave it (checked at load).
pub trait ProtocolScript: Debug + Send + Sync {
    /// What the peer does, for the step log: `playing a mail server that offers STARTTLS`.
    fn describe(&self) -> String;
    /// [`ProtocolScript::describe`] as a run with `settings` plays it: the same line
    /// unless who plays the peer depends on the run (`--mysql real`: a real MariaDB).
    fn describe_in_run(&self, settings: &RunSettings) -> String {
        let _ = settings;
        self.describe()
    }
    /// Whether it offers TLS: the programs that talk to it must then trust the harness's
    /// test CA.
    fn offers_tls(&self) -> bool {
        false
    }
    /// Whether it speaks TLS from the first byte (IMAPS, POP3S): only such a peer is
    /// reached through the well-known ports of implicit TLS (465, 990, 993, 995).
    fn tls_from_first_byte(&self) -> bool {
        false
    }
    /// Whether a peer that does not speak TLS from the first byte on its own port opens a
    /// second port where it does, with the same certificate and the same mailbox: a real
    /// mail server listens on 143 and 993 both, and a client that always connects to
    /// IMAPS, POP3S or SMTPS (`imaplib.IMAP4_SSL('imap.gmail.com')`) is sent there, in
    /// every scenario. Each connection says where it came ([`Conversation`]).
    fn tls_port_too(&self) -> bool {
        false
    }
    /// Whether a TCP peer also answers datagrams on its port (DNS: UDP first, TCP when
    /// an answer is too large, one port for both, RFC 1035 §4.2).
    fn datagrams_too(&self) -> bool {
        false
    }
    /// Files a program that talks to this peer at `host:port` finds in its `HOME`
    /// before it starts, by path below `HOME`: the SSH pack's `.ssh/known_hosts`.
    fn client_home_files(&self, host: &str, port: u16) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let _ = (host, port);
        Vec::new()
    }
    /// Why a run with `settings` cannot play the script, if it cannot (a pack setting that
    /// leaves out what it asks: `--mysql real` has no `caching_sha2_password`). Such a
    /// scenario is skipped, saying so.
    fn unplayable(&self, settings: &RunSettings) -> Option<String> {
        let _ = settings;
        None
    }
    /// A fresh peer following this script in a run with `settings`, with an empty record.
    fn start(&self, settings: &RunSettings) -> Arc<dyn ProtocolServer>;
}

/// What serving one TCP connection returns, boxed: protocols are values behind `dyn`.
pub type Served = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One running server peer of a pack: it serves, and it keeps its record.
pub trait ProtocolServer: Debug + Send + Sync {
    /// What it saw happen, for the pack's judges.
    fn record(&self) -> &dyn ProtocolRecord;
    /// TCP: serves one client connection, whose opening the transcript already holds,
    /// until the dialogue is over. (A UDP protocol's peer never accepts one.)
    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        drop(conversation);
        Box::pin(std::future::ready(()))
    }
    /// UDP: one datagram came (already in the transcript and the capture); `answer`
    /// sends the replies. (A TCP protocol's peer never reads one.)
    fn datagram(&self, datagram: &[u8], answer: &mut DatagramAnswer<'_>) {
        let _ = (datagram, answer);
    }
}

/// What a server peer of a pack saw happen, read back by the pack's judges (which know
/// its type: [`ProtocolRecord::as_any`]) and, for what crossed in clear, by the generic
/// `never_in_clear` judge.
pub trait ProtocolRecord: Any + Send + Sync {
    /// The record as its concrete type, for the pack's own judges to downcast.
    fn as_any(&self) -> &dyn Any;
    /// What each connection sent outside TLS, if the protocol carries passwords (`None`:
    /// it keeps no such record, and `never_in_clear` cannot be asked of it).
    fn in_clear(&self) -> Option<Vec<ClearConnection>> {
        None
    }
    /// How far its clients got, in the words every protocol shares (`None`: it keeps no
    /// sessions). `expect_reached` reads it: an error scenario proves the program met the
    /// error it is about (it connected, it tried to log in, it sent the command the server
    /// refuses) before it judges how the program ended.
    fn progress(&self) -> Option<Progress> {
        None
    }
    /// Why the harness could not do its own part of the peer, if it could not (start the
    /// database that answers for it, make its account, load its tables): a scenario where
    /// it is said is the harness's trouble, an ERROR whatever its programs then did, never
    /// theirs (`crate::engine::finish`).
    fn trouble(&self) -> Option<String> {
        None
    }
}

/// How far the clients of a server peer got: what every protocol with sessions can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The connections the peer accepted (SSH: those whose client sent its version line
    /// or more; every connection, for the others).
    pub connections: usize,
    /// Each login tried (a password or a key's signature sent), in order: whether the
    /// server accepted it.
    pub logins: Vec<bool>,
    /// The commands its clients sent, in order: the verb in capitals (`CWD`, `RCPT`,
    /// `LOGIN`, `UID FETCH`; an SSH command line as it came; a MySQL statement's first
    /// word), never an argument that could hold a password.
    pub commands: Vec<String>,
    /// The connections whose client began a TLS handshake (its first handshake bytes
    /// came), whether the handshake then completed or the client refused the certificate.
    pub tls_handshakes: usize,
}

/// A record of nothing: for a protocol whose judges need only the bytes received.
impl ProtocolRecord for () {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What one client connection let out where anyone on the way could read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClearConnection {
    /// The commands that carry credentials (SMTP's `AUTH`) and came outside TLS, as sent:
    /// each is a leak whether or not the password can be read in it.
    pub credentials_in_clear: Vec<String>,
    /// Every byte the client sent outside TLS, as it came (up to the protocol's cap).
    pub bytes: Vec<u8>,
    /// The dialogue is over (the client quit or closed): nothing more can leak.
    pub ended: bool,
}
