//! # `ftp-upload`: storing a file on an FTP server
//!
//! Reading list: the handout (000, item \[22\], "loading of a local file to a remote
//! FTP", written there with Python's `ftplib`) and its contract,
//! `scenarios/SPEC.md#ftp-upload`, clauses `ftp/1`–`ftp/2`. For FTP: RFC 959 §2.3 and §3.2 (two
//! connections: control and data), §3.1.1 (representation types: `TYPE A` and `TYPE I`),
//! §3.4 (stream mode: the data connection's close ends the file), §4.1 (the commands),
//! §4.2 (replies, multi-line replies), §5.4 (which replies each command may get); RFC 2428
//! §3 (`EPSV`); RFC 2577 §3 (why the address in a `227` reply is not trusted); RFC 1123
//! §4.1.2 (what hosts must do of FTP).
//!
//! ```text
//! client                                         server (port 21)
//!   |  <-- 220 ready --------------------------  |  control connection
//!   | ---- USER alice -------------------------> |
//!   |  <-- 331 Password required ---------------  |
//!   | ---- PASS s3cret ------------------------> |
//!   |  <-- 230 Logged in -----------------------  |
//!   | ---- TYPE I -----------------------------> |  binary: bytes as they are
//!   |  <-- 200 ---------------------------------  |
//!   | ---- CWD uploads ------------------------> |  --dir uploads
//!   |  <-- 250 ---------------------------------  |
//!   | ---- EPSV -------------------------------> |  "open a data port for me"
//!   |  <-- 229 (|||40123|) ---------------------  |
//!   | ==== connect to port 40123 =============== |  data connection
//!   | ---- STOR photo.bin ---------------------> |
//!   |  <-- 150 Ok to send data -----------------  |
//!   | ==== the file's bytes, then close ======== |  the close ends the file
//!   |  <-- 226 Transfer complete ---------------  |
//!   | ---- QUIT -------------------------------> |  also after any failure
//!   |  <-- 221 Goodbye -------------------------  |
//! ```
//!
//! What a first FTP client usually gets wrong, and this reference does instead:
//!
//! - **`storlines` on a binary file** (or a file opened in text mode): the file goes as
//!   text lines, each ending in CRLF, so every LF of a binary file gets a CR in front and
//!   the stored copy is corrupt, with no error anywhere. Here the file is read as bytes
//!   and sent as bytes ([`session::upload`]'s `send_file`).
//! - **No `TYPE I`**: a session starts in `TYPE A` (text), where the server may rewrite
//!   line ends (vsftpd can, with `ascii_upload_enable`; Windows servers do). `ftplib`'s
//!   `storbinary` sends `TYPE I` for you; a hand-written client must.
//! - **No `QUIT` on error**: a refused login or store raises an exception, the program
//!   exits, and the server sees the connection drop. Here `QUIT` is sent whenever the
//!   control connection was opened, whatever happened after (SPEC ftp/2); `with
//!   ftplib.FTP(...) as ftp:` does it in Python.
//! - **Reading one reply with one `recv`**: a reply may come in pieces, or two at once (a
//!   short file's `150` and `226`), or over several lines (`211-` ... `211 End`). Here
//!   replies are read line by line until their last ([`reply`]).
//! - **Storing under the local path** (`STOR /home/me/lab/photo.bin`): the name on the
//!   server is the file's base name ([`base_name`]), in `--dir` when given.
//! - **Exit status 0 after a failure**: a message on stderr and exit status 1.
//!
//! ## Layout
//!
//! - [`session`]: the control connection and the dialogue in order.
//! - [`reply`]: whole replies, multi-line ones included.
//! - [`passive`]: the data port of a `229` or `227` reply.
//!
//! Shared: [`crate::lines`] (the line reader), [`crate::cli`] (`--server`, connecting).

pub mod passive;
pub mod reply;
pub mod session;

use std::path::Path;

use clap::Parser;
use tokio::io::AsyncWriteExt;

use crate::cli::{Server, Stdio, fail, parse_args, parse_server};
use crate::net::Network;
use session::{Control, Upload};

/// The program's name, in its messages.
const PROGRAM: &str = "ftp-upload";

/// `ftp-upload --server HOST:PORT --user U --password P FILE [--dir REMOTE]`
#[derive(Debug, Parser)]
#[command(name = PROGRAM, about = "Store a local file on an FTP server, byte for byte.")]
struct Args {
    /// The FTP server, HOST:PORT (the well-known port is 21).
    #[arg(long, value_parser = parse_server)]
    server: Server,
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    /// The local file to upload; it is stored under its own base name.
    file: String,
    /// The remote folder to store it in (it must exist).
    #[arg(long)]
    dir: Option<String>,
}

/// The name a local path is stored under: its last component, or why it has none. A
/// name with a line end would end the `STOR` command early and send the rest as a command
/// of its own (`a\r\nDELE b`): refused.
///
/// | path                 | name        |
/// |----------------------|-------------|
/// | `photo.bin`          | `photo.bin` |
/// | `/tmp/lab/photo.bin` | `photo.bin` |
/// | `lab/..`, `/`        | error       |
pub fn base_name(path: &str) -> Result<String, String> {
    let name = Path::new(path)
        .file_name()
        .ok_or_else(|| format!("{path}: not a file name"))?
        .to_string_lossy()
        .into_owned();
    if name.contains(['\r', '\n']) {
        return Err(format!("{path:?}: a name with a line end cannot be sent"));
    }
    Ok(name)
}

/// `ftp-upload --server HOST:PORT --user U --password P FILE [--dir REMOTE]`.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let stderr = &mut stdio.stderr;
    let name = match base_name(&args.file) {
        Ok(name) => name,
        Err(why) => return fail(stderr, PROGRAM, "cannot upload", why).await,
    };
    if let Some(dir) = &args.dir
        && dir.contains(['\r', '\n'])
    {
        return fail(stderr, PROGRAM, "--dir", "a folder name with a line end").await;
    }
    // The local file first: a missing file is known before anyone is bothered (SPEC
    // ftp/2), and no connection is left to end.
    let mut file = match open_file(&args.file).await {
        Ok(file) => file,
        Err(error) => return fail(stderr, PROGRAM, &args.file, error).await,
    };
    // One address for both connections: the data connection goes where the control
    // connection went (a name may resolve to 127.0.0.1 and ::1).
    let server = &args.server;
    let address = match net.resolve(&server.host, server.port).await {
        Ok(address) => address.ip().to_string(),
        Err(error) => return fail(stderr, PROGRAM, &server.host, error).await,
    };
    let target = Server {
        host: address.clone(),
        port: server.port,
    };
    let stream = match crate::cli::connect(&net, &target).await {
        Ok(stream) => stream,
        Err(error) => {
            let place = format!("cannot connect to {}:{}", server.host, server.port);
            return fail(stderr, PROGRAM, place, error).await;
        }
    };
    let mut control = Control::new(stream, net.clone());
    let upload = Upload {
        host: &address,
        user: &args.user,
        password: &args.password,
        name: &name,
        dir: args.dir.as_deref(),
    };
    let stored = session::upload(&mut control, &net, &upload, &mut file).await;
    // SPEC ftp/2: the control connection ends with QUIT whenever it was opened.
    control.quit().await;
    match stored {
        Ok(bytes) => {
            let place = args.dir.as_deref().unwrap_or("the login folder");
            let line = format!("stored {name} ({bytes} bytes) in {place}\n");
            let _ = stdio.stdout.write_all(line.as_bytes()).await;
            let _ = stdio.stdout.flush().await;
            0
        }
        Err(failure) => fail(stderr, PROGRAM, format!("uploading {name}"), failure).await,
    }
}

/// Opens the local file for reading; a folder is refused here, not halfway.
async fn open_file(path: &str) -> std::io::Result<tokio::fs::File> {
    let file = tokio::fs::File::open(path).await?;
    if file.metadata().await?.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a folder, not a file",
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn a_file_is_stored_under_its_base_name() {
        let table = [
            ("photo.bin", Ok("photo.bin")),
            ("/tmp/lab/photo.bin", Ok("photo.bin")),
            ("./notes with spaces.txt", Ok("notes with spaces.txt")),
            ("lab/..", Err(())),
            ("/", Err(())),
            ("a\r\nDELE b", Err(())),
        ];
        for (path, expected) in table {
            let name = base_name(path).map_err(drop);
            assert_eq!(name, expected.map(str::to_owned), "{path}");
        }
    }
}
