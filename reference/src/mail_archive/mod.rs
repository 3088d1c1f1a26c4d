//! # `mail-archive`: compress a folder and mail it
//!
//! Reading list: the handout (000, items \[18\], "compress a folder", and \[23\], "mail it
//! as an attachment", written there with `shutil.make_archive` and `smtplib`) and its
//! contract, `scenarios/SPEC.md#mail-archive`, clauses `archive/1`–`archive/3`.
//! For the archive: PKWARE's APPNOTE.TXT (the zip format: local headers, the central
//! directory, the UTF-8 flag of §4.4.4 bit 11). For the message: RFC 2045 §6.8 (base64 in
//! lines of 76 characters), RFC 2046 §5.1 (multipart/mixed and its boundary), RFC 2183 and
//! RFC 2231 (`Content-Disposition: attachment; filename=...`, a non-ASCII name encoded),
//! RFC 2047 (an encoded subject). For SMTP: `crate::smtp_client`, whose dialogue this
//! program reuses as it is (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH).
//!
//! ```text
//! mail-archive lab-notes --server mail:587 ...
//!   1. lab-notes/ ──zip──> /tmp/mail-archive-X/archive.zip      (outside the folder)
//!   2. archive.zip ──base64, 57 bytes a line──> /tmp/mail-archive-X/message.eml
//!   3. message.eml ──SMTP DATA, a buffer at a time, dot-stuffed──> the server
//!
//! client                                        server
//!   |  <-- 220 ---------------------------------  |
//!   | ---- EHLO, [STARTTLS, TLS, EHLO, AUTH] --->  |  as smtp-client
//!   | ---- MAIL FROM / RCPT TO / DATA --------->  |
//!   | ---- message.eml (13.7 MB for 10 MB) ---->  |  never whole in memory
//!   | ---- . ---------------------------------->  |
//!   |  <-- 250 (or 552: too large -> stderr) ---  |
//!   | ---- QUIT ------------------------------->  |
//! ```
//!
//! What a first archive mailer usually gets wrong, and this reference does instead:
//!
//! - `zf.write(path)` with the path as found by `os.walk`: the entries carry the folder's
//!   whole path on the sender's machine (`home/alice/lab-notes/README.txt`), and unzip
//!   recreates it. Here each entry is named by its path inside the folder, under the
//!   folder's own name ([`archive`]).
//! - `os.listdir` instead of a walk: nested folders are lost. Here the walk recurses,
//!   and empty folders get entries too.
//! - `shutil.make_archive(folder, 'zip', folder)` writes `folder.zip` *inside* the
//!   folder it is archiving when the names line up, and the archive holds a half-written
//!   copy of itself. Here the zip goes to a temporary folder elsewhere.
//! - Reading the zip whole (`open(...).read()`) and building the message as one string:
//!   memory grows with the folder. Here it is encoded and sent a buffer at a time
//!   ([`message`]).
//! - `except Exception: print("sent")`: a 552 after DATA ("message too large") is the
//!   most common real failure of this program, and it must reach the user with the
//!   server's words and a non-zero exit (SPEC archive/3).
//! - Logging in before STARTTLS: as `smtp-client`, `--user` without `--starttls` is
//!   refused before connecting.
//!
//! ## Layout
//!
//! - `client`: the program: arguments, the folder, the files, the dialogue (reused).
//! - [`archive`]: the folder as a zip file.
//! - [`message`]: the mail, with the zip in base64, written into a file.

pub mod archive;
mod client;
pub mod message;

pub use client::client_main;
