//! # `ssh-info`: a remote machine's CPU and memory, over SSH
//!
//! Reading list: the handout (000, item \[27\], "logs in to a remote machine over SSH and
//! reports its CPU and memory", written there with Python's `paramiko`) and its contract,
//! `scenarios/SPEC.md#ssh-info`, clauses `ssh/1`–`ssh/2`. For SSH: RFC 4251 §1 (the three
//! layers) and §4.1 (host keys: "the client has a local database"; what accepting an
//! unknown key costs), RFC 4253 §7–§8 (key exchange; the host key signs the exchange
//! hash, which proves only that the server holds *that* key), RFC 4252 §7–§8 (`publickey`
//! and `password` authentication), RFC 4254 §6.5 and §6.10 (`exec` on a session channel,
//! `exit-status`); sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"; proc(5) for `/proc/cpuinfo` and
//! `/proc/meminfo`.
//!
//! ```text
//! client                                              server (port 22)
//!   | ---- SSH-2.0-... -------------------------------> |  transport (RFC 4253)
//!   |  <-- SSH-2.0-OpenSSH_9.2 ------------------------  |
//!   | <=== KEXINIT, ECDH: host key + signature ========> |
//!   |      host key in ~/.ssh/known_hosts?               |  refused here: nothing else sent
//!   | ---- NEWKEYS (encrypted from now on) ------------> |
//!   | ---- SERVICE_REQUEST ssh-userauth --------------> |  user authentication (RFC 4252)
//!   | ---- USERAUTH_REQUEST alice password ... -------> |  (or publickey + signature)
//!   |  <-- USERAUTH_SUCCESS ---------------------------  |
//!   | ---- CHANNEL_OPEN session ----------------------> |  connection (RFC 4254)
//!   | ---- CHANNEL_REQUEST exec "cat /proc/cpuinfo" --> |
//!   |  <-- CHANNEL_DATA ... ---------------------------  |
//!   |  <-- CHANNEL_REQUEST exit-status 0, EOF, CLOSE --  |
//!   |      (a second channel: cat /proc/meminfo)        |  same connection
//!   | ---- DISCONNECT --------------------------------> |
//! ```
//!
//! What a first SSH client usually gets wrong, and this reference does instead:
//!
//! - **`AutoAddPolicy`** (`client.set_missing_host_key_policy(paramiko.AutoAddPolicy())`,
//!   as the handout's example does): any server that answers is trusted on first contact,
//!   and the password goes to it. Here the host key is checked against
//!   `~/.ssh/known_hosts` during the key exchange ([`session::Checker`]); an unknown or
//!   changed key ends the connection before the `ssh-userauth` service is even asked for
//!   (paramiko: `load_system_host_keys()` and `RejectPolicy`).
//! - **`Transport.connect()` without `hostkey=`**: paramiko's low-level transport checks
//!   nothing at all, not even a changed key.
//! - **Reading the local `/proc`** (`open('/proc/cpuinfo')`, `os.cpu_count()`,
//!   `psutil`): those are the figures of the machine the program runs on. The figures
//!   here are the output of commands run on the remote machine.
//! - **One connection per figure** (`ssh host nproc`, `ssh host free`, ...): each costs a
//!   key exchange and an authentication. One connection carries many channels: here two
//!   commands, one after the other, over the same authenticated connection.
//! - **Not checking the exit status**: `exec_command` returns at once; a command that
//!   failed (no such file, permission denied) prints nothing on stdout, and the program
//!   would print empty figures. Here a non-zero `exit-status` is an error, with the
//!   command's stderr ([`session::Connection::run`]).
//! - **Exit status 0 after a failure**: a message on stderr and exit status 1.
//!
//! ## Layout
//!
//! - [`known_hosts`]: the host key database: `[host]:port`, hashed names, changed keys.
//! - [`session`]: the connection: the host key check, authentication, one channel per
//!   command.
//! - [`figures`]: the CPU model, cores and memory from `/proc/cpuinfo` and `/proc/meminfo`.

pub mod figures;
pub mod known_hosts;
pub mod session;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio::io::AsyncWriteExt;

use crate::cli::{Server, Stdio, fail, parse_args};
use crate::net::Network;
use figures::Figures;
use session::{Checker, Connection, Credential};

/// The program's name, in its messages.
const PROGRAM: &str = "ssh-info";

/// How long the whole exchange may take, connection to last byte: a server that stops
/// answering halfway is an error, not a hang.
const DEADLINE: Duration = Duration::from_secs(20);

/// `ssh-info --host HOST --port PORT --user U (--password P | --key FILE)`
#[derive(Debug, Parser)]
#[command(
    name = PROGRAM,
    about = "Print a remote machine's CPU model, cores and memory, over SSH."
)]
struct Args {
    /// The SSH server's name or address.
    #[arg(long)]
    host: String,
    /// Its port (the well-known port is 22).
    #[arg(long, default_value_t = 22)]
    port: u16,
    #[arg(long)]
    user: String,
    /// Authenticate with this password.
    #[arg(long, conflicts_with = "key", required_unless_present = "key")]
    password: Option<String>,
    /// Authenticate with this private key file (OpenSSH format: ed25519, RSA, ECDSA).
    #[arg(long)]
    key: Option<PathBuf>,
}

/// `ssh-info --host HOST --port PORT --user U (--password P | --key FILE)`.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let stderr = &mut stdio.stderr;
    // The user's own database of host keys, as OpenSSH and paramiko's
    // `load_system_host_keys()` read it.
    let Some(home) = std::env::var_os("HOME") else {
        return fail(stderr, PROGRAM, "~/.ssh/known_hosts", "HOME is not set").await;
    };
    let credential = match (&args.password, &args.key) {
        (Some(password), _) => Credential::Password(password.clone()),
        (None, Some(key)) => Credential::Key(key.clone()),
        (None, None) => unreachable!("clap requires one"),
    };
    let place = format!("{}:{}", args.host, args.port);
    let work = async {
        let server = Server {
            host: args.host.clone(),
            port: args.port,
        };
        let stream = crate::cli::connect(&net, &server)
            .await
            .map_err(|error| format!("cannot connect to {place}: {error}"))?;
        let checker = Checker {
            known_hosts: PathBuf::from(home).join(".ssh").join("known_hosts"),
            host: args.host.clone(),
            port: args.port,
            found: Default::default(),
            presented: Default::default(),
        };
        let connection = Connection::open(stream, checker, &args.user, &credential).await?;
        // Two commands, two channels, one connection; the connection is closed whatever
        // they did.
        let figures = read_figures(&connection).await;
        connection.close().await;
        figures
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = net.sleep(DEADLINE) => Err(format!("no answer from {place} within {} s", DEADLINE.as_secs())),
    };
    match outcome {
        Ok(figures) => {
            let _ = stdio.stdout.write_all(figures.lines().as_bytes()).await;
            let _ = stdio.stdout.flush().await;
            0
        }
        Err(why) => fail(stderr, PROGRAM, place, why).await,
    }
}

/// Runs `cat /proc/cpuinfo` and `cat /proc/meminfo` on the remote machine, each checked
/// by its exit status, and reads the figures from their output.
async fn read_figures(connection: &Connection) -> Result<Figures, String> {
    let mut texts = Vec::new();
    for command in ["cat /proc/cpuinfo", "cat /proc/meminfo"] {
        let ran = connection.run(command).await?;
        match ran.status {
            Some(0) => texts.push(String::from_utf8_lossy(&ran.stdout).into_owned()),
            status => {
                let said = String::from_utf8_lossy(&ran.stderr);
                let status = status.map_or("no exit status".to_owned(), |status| {
                    format!("exit status {status}")
                });
                return Err(format!(
                    "`{command}` failed on the remote machine ({status}): {}",
                    said.trim()
                ));
            }
        }
    }
    Figures::parse(&texts[0], &texts[1])
}
