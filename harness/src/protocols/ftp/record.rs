//! What the FTP server peer saw: one session per control connection, every command as it
//! came (the password masked), the logins, each `STOR` with the representation type in
//! force and the bytes it stored, and whether the client ended with `QUIT`.

use std::sync::{Arc, Mutex};

use crate::protocols::sessions::{Session, accepted};
use crate::world::capture::Capture;

/// The representation type in force (RFC 959 §3.1.1): what the client said with `TYPE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum TransferType {
    /// `TYPE A`, the default of every session (§5.1): text, whose line ends a server may
    /// change to its own.
    #[default]
    Ascii,
    /// `TYPE I`: bytes as they are.
    Image,
}

/// How one `STOR` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StoreOutcome {
    /// The data connection ended normally: the file is stored (226).
    Stored,
    /// Refused before any data moved, with this reply (553 no such folder, 550 ...).
    Refused(String),
    /// The data connection failed (none came, refused, reset), with this reply (425, 426).
    Failed(String),
}

/// One `STOR` a client sent.
#[derive(Debug, Clone)]
pub(super) struct FtpStore {
    /// Its argument, as sent.
    pub asked: String,
    /// The absolute path it names (the current folder applied, `.` and `..` resolved).
    pub path: String,
    /// The `TYPE` in force when it came.
    pub transfer_type: TransferType,
    /// How it ended.
    pub outcome: StoreOutcome,
    /// The bytes that came on the data connection (up to `server::MAX_STORED` for all
    /// files of the peer).
    pub bytes: Arc<Capture>,
}

/// What one control connection did.
#[derive(Debug, Clone, Default)]
pub(super) struct FtpSession {
    /// Its command lines in order, without line ends; a `PASS` shown as `PASS ****`.
    pub commands: Vec<String>,
    /// Each `PASS` tried: the user name, whether accepted, and (always) `false`: FTP has
    /// no TLS here (the shape the mail packs' login judge reads).
    pub logins: Vec<(String, bool, bool)>,
    /// Each `STOR`, in order.
    pub stores: Vec<FtpStore>,
    /// The client sent `QUIT`.
    pub quit: bool,
    /// The client quit or closed: the session is over.
    pub ended: bool,
    /// The first bound the client passed (files stored past what the peer keeps), said:
    /// what came past it was not kept, and the judge says this first.
    pub past_bound: Option<String>,
    /// Why the peer could not open a passive data port, if it could not: the harness's
    /// trouble (the client was answered `425`), never the client's.
    pub data_port_trouble: Option<String>,
}

impl FtpSession {
    /// The files this session stored whole, last `STOR` of a path last.
    pub(super) fn stored(&self) -> impl Iterator<Item = &FtpStore> {
        self.stores
            .iter()
            .filter(|store| store.outcome == StoreOutcome::Stored)
    }
}

/// The sessions of one FTP server peer, shared with the pack's judges.
pub(super) type FtpSessions = Arc<Mutex<Vec<FtpSession>>>;

impl Session for FtpSession {
    const PROTOCOL: &'static str = "FTP";
    const KEEPS_CLEAR_TEXT: bool = false;

    fn ended(&self) -> bool {
        self.ended
    }

    fn logins_tried(&self) -> Vec<bool> {
        accepted(&self.logins)
    }

    fn trouble(&self) -> Option<String> {
        self.data_port_trouble.clone()
    }

    fn verbs(&self) -> Vec<String> {
        self.commands
            .iter()
            .map(|line| {
                line.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase()
            })
            .collect()
    }
}
