//! The program: arguments, the archive and the message in temporary files, then the SMTP
//! dialogue of `smtp-client` (reused: `crate::smtp_client::transmit`).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use clap::{CommandFactory, Parser};

use super::archive::write_zip;
use super::message::{Envelope, write_message};
use crate::cli::{self, Stdio};
use crate::net::Network;
use crate::smtp_client::message::identifiers;
use crate::smtp_client::{Outgoing, Sender, Submission, refuse_login_in_clear, submit};

const PROGRAM: &str = "mail-archive";

/// Archive a folder (zip) and mail it as an attachment, through an SMTP server.
#[derive(Parser)]
#[command(name = "mail-archive")]
struct Args {
    /// The folder to archive.
    folder: PathBuf,
    #[command(flatten)]
    submission: Submission,
}

/// `mail-archive DIR --server HOST:PORT --from A --to B [--starttls] [--user U --password
/// P]`: mails `DIR.zip`; exits 0 once the server took it. Nothing on stdout.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    if args.submission.login_in_clear() {
        return refuse_login_in_clear(Args::command(), &mut stdio).await;
    }
    // Everything that can fail without the server fails before connecting: the folder,
    // the archive, the message, the CA file (SPEC archive/3).
    let name = match folder_name(&args.folder) {
        Ok(name) => name,
        Err(error) => {
            let context = format!("cannot archive {}", args.folder.display());
            return cli::fail(&mut stdio.stderr, PROGRAM, context, error).await;
        }
    };
    let workspace = match tempfile::Builder::new().prefix("mail-archive-").tempdir() {
        Ok(workspace) => workspace,
        Err(error) => {
            let context = "cannot make a temporary folder";
            return cli::fail(&mut stdio.stderr, PROGRAM, context, error).await;
        }
    };
    let since_epoch = net.since_epoch();
    let options = &args.submission;
    let (message_id, boundary) = identifiers(&options.from, since_epoch.as_nanos() as u64);
    let envelope = Envelope {
        from: options.from.clone(),
        to: options.to.clone(),
        subject: format!("Archive of the folder {name}"),
        date: UNIX_EPOCH + since_epoch,
        message_id,
        boundary,
    };
    let message = workspace.path().join("message.eml");
    let written = prepare(&args.folder, &name, workspace.path(), &envelope, &message);
    let (size, skipped) = match written {
        Ok(written) => written,
        Err(error) => {
            let context = format!("cannot archive {}", args.folder.display());
            return cli::fail(&mut stdio.stderr, PROGRAM, context, error).await;
        }
    };
    for path in skipped {
        let note = format!(
            "{PROGRAM}: note: left out of the archive (a link or a special file): {}",
            path.display()
        );
        cli::diagnose(&mut stdio.stderr, note).await;
    }
    let outgoing = Outgoing::File {
        path: &message,
        size,
    };
    let archive = format!("{name}.zip");
    let sender = Sender {
        program: PROGRAM,
        what: &archive,
    };
    submit(net, options, outgoing, sender, &mut stdio).await
}

/// The folder's own name (`lab-notes` for `.` run inside it), which names the archive.
fn folder_name(folder: &Path) -> std::io::Result<String> {
    let real = std::fs::canonicalize(folder)?;
    if !real.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            "not a folder",
        ));
    }
    real.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| std::io::Error::other("the folder has no name of its own (/)"))
}

/// Writes `<workspace>/archive.zip`, then the whole mail into `message`; returns the
/// mail's size and what the archive left out.
fn prepare(
    folder: &Path,
    name: &str,
    workspace: &Path,
    envelope: &Envelope,
    message: &Path,
) -> std::io::Result<(u64, Vec<PathBuf>)> {
    let zip_path = workspace.join("archive.zip");
    let archived = write_zip(folder, name, std::fs::File::create(&zip_path)?)?;
    let text = format!(
        "Attached: {name}.zip, the folder {name} ({} files, {} bytes).\n",
        archived.files, archived.bytes
    );
    let mut out = std::io::BufWriter::new(std::fs::File::create(message)?);
    let mut zip = std::fs::File::open(&zip_path)?;
    write_message(&mut out, envelope, &text, &mut zip, &format!("{name}.zip"))?;
    std::io::Write::flush(&mut out)?;
    Ok((std::fs::metadata(message)?.len(), archived.skipped))
}
