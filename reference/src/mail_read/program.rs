//! The program both readers are: the command line, the work in order, what is printed.
//! Each protocol brings its dialogue as a [`Protocol`].

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser};
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Failure;
use super::render;
use super::wire::{Wire, secure};
use crate::cli::{self, Server, Stdio, connect, parse_server};
use crate::net::Network;
use crate::tls::{MaybeTls, client_config};

/// Reads mail: lists the mailbox, or shows messages decoded.
#[derive(Parser)]
struct Args {
    /// The mail server, HOST:PORT (an IPv6 address in brackets: [::1]:143).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_server)]
    server: Server,
    /// The user to log in as.
    #[arg(long, value_parser = without_line_end)]
    user: String,
    /// The password.
    ///
    /// A lab shortcut: on a command line, other users of the machine see it (`ps`); a real
    /// client asks for it, or reads it from a file.
    #[arg(long, value_parser = without_line_end)]
    password: String,
    /// TLS from the first byte (IMAPS, POP3S). Without it, the connection is upgraded
    /// (STARTTLS, STLS) before logging in whenever the server offers it.
    #[arg(long)]
    tls: bool,
    /// One line per message: number, sender, subject, separated by tabs.
    #[arg(long, conflicts_with = "show", required_unless_present = "show")]
    list: bool,
    /// Show these messages (numbers separated by commas), in the order given.
    #[arg(long, value_name = "N[,N...]", value_parser = parse_numbers)]
    show: Option<Numbers>,
    /// Trust the certificates of this PEM file (default: $SSL_CERT_FILE, then the system's).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
}

/// The numbers of `--show`, in the order given.
#[derive(Debug, Clone)]
struct Numbers(Vec<u32>);

/// Parses `3` or `2,1,5`.
fn parse_numbers(argument: &str) -> Result<Numbers, String> {
    argument
        .split(',')
        .map(|number| {
            number
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("{number:?} is not a message number"))
        })
        .collect::<Result<Vec<u32>, String>>()
        .map(Numbers)
}

/// A user name or password goes on a command line of the protocol: it cannot hold a line
/// end (POP3 has no way to quote one) or a NUL *(decided)*.
fn without_line_end(argument: &str) -> Result<String, String> {
    if argument.contains(['\r', '\n', '\0']) {
        return Err("cannot hold a line end or a NUL".into());
    }
    Ok(argument.to_owned())
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `--list`: every message's sender and subject.
    List,
    /// `--show N,...`: these messages, in this order (a number may repeat).
    Show(Vec<u32>),
}

impl Wanted {
    /// The message numbers to fetch from a mailbox of `count` messages, each once, in
    /// mailbox order; or the first that does not exist (SPEC `read/2`: checked before
    /// anything is fetched, let alone printed).
    pub fn to_fetch(&self, count: u32) -> Result<Vec<u32>, Failure> {
        match self {
            Wanted::List => Ok((1..=count).collect()),
            Wanted::Show(numbers) => {
                if let Some(&number) = numbers.iter().find(|&&n| n == 0 || n > count) {
                    return Err(Failure::NoSuchMessage { number, count });
                }
                let distinct: BTreeSet<u32> = numbers.iter().copied().collect();
                Ok(distinct.into_iter().collect())
            }
        }
    }
}

/// The credentials of `--user` and `--password`.
pub struct Login {
    /// The user name, as `--user` gives it.
    pub user: String,
    /// The password, as `--password` gives it.
    pub password: String,
}

/// What a dialogue brings back: for `--list` each message's header (`From` and `Subject`
/// at least), for `--show` each wanted message whole; by message number.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Each message's bytes, by its number in the mailbox.
    pub messages: Vec<(u32, Vec<u8>)>,
}

impl Fetched {
    fn get(&self, number: u32) -> Option<&[u8]> {
        self.messages
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, bytes)| bytes.as_slice())
    }
}

/// What a dialogue is asked to do, and with what.
pub struct Request<'a> {
    /// Who logs in.
    pub login: &'a Login,
    /// Which messages, and whether headers only (`--list`) or whole (`--show`).
    pub wanted: &'a Wanted,
    /// The server's name as the user gave it: what its certificate must name.
    pub host: &'a str,
    /// The TLS configuration, or why there is none (no trusted roots could be read): a
    /// dialogue needs it only if the server offers STARTTLS/STLS.
    pub tls: &'a Result<Arc<ClientConfig>, String>,
}

impl Request<'_> {
    /// The configuration for STARTTLS/STLS, or the failure that stops the dialogue before
    /// the password is sent.
    pub fn tls_config(&self) -> Result<Arc<ClientConfig>, Failure> {
        self.tls
            .clone()
            .map_err(|why| Failure::NoTrustedRoots { why })
    }
}

/// A mail protocol's dialogue, from the greeting to LOGOUT or QUIT.
pub trait Protocol {
    /// The program's name, for its usage and its messages.
    const PROGRAM: &'static str;

    /// Holds the dialogue over `wire` (already TLS with `--tls`): logs in (after
    /// STARTTLS/STLS if offered on a connection in clear), counts the messages, checks
    /// the wanted ones exist ([`Wanted::to_fetch`]), fetches them, and logs out.
    fn read<S, N>(
        wire: Wire<S, N>,
        request: &Request<'_>,
    ) -> impl Future<Output = Result<Fetched, Failure>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        N: Network;
}

/// `PROGRAM --server HOST:PORT --user U --password P [--tls] [--ca-file PEM] (--list |
/// --show N[,N...])`: prints the list or the messages, exits 0; on any failure prints
/// nothing on stdout, a message on stderr, and exits 1 (2 for a usage error).
pub async fn read_main<P: Protocol, N: Network>(
    net: N,
    args: Vec<String>,
    mut stdio: Stdio,
) -> i32 {
    let program = P::PROGRAM;
    let args = match parse_args(program, args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let wanted = match &args.show {
        Some(Numbers(numbers)) => Wanted::Show(numbers.clone()),
        None => Wanted::List,
    };
    let login = Login {
        user: args.user.clone(),
        password: args.password.clone(),
    };
    // Read before connecting: with --tls, no roots means no run; without, they are needed
    // only if the server offers STARTTLS/STLS.
    let tls = client_config(args.ca_file.as_deref())
        .await
        .map_err(|error| error.to_string());
    if let (true, Err(why)) = (args.tls, &tls) {
        return cli::fail(&mut stdio.stderr, program, "cannot set up TLS", why).await;
    }
    let server = &args.server;
    let place = format!("{}:{}", server.host, server.port);
    let stream = match connect(&net, server).await {
        Ok(stream) => stream,
        Err(error) => {
            let context = format!("cannot connect to {place}");
            return cli::fail(&mut stdio.stderr, program, context, error).await;
        }
    };
    let stream = match (&tls, args.tls) {
        // RFC 8314: TLS from the first byte, before the greeting.
        (Ok(config), true) => match secure(&net, Arc::clone(config), &server.host, stream).await {
            Ok(secured) => MaybeTls::Tls(Box::new(secured)),
            Err(failure) => {
                let context = format!("cannot read mail from {place}");
                return cli::fail(&mut stdio.stderr, program, context, failure).await;
            }
        },
        _ => MaybeTls::Plain(stream),
    };
    let request = Request {
        login: &login,
        wanted: &wanted,
        host: &server.host,
        tls: &tls,
    };
    let fetched = match P::read(Wire::new(stream, net), &request).await {
        Ok(fetched) => fetched,
        Err(failure) => {
            let context = format!("cannot read mail from {place}");
            return cli::fail(&mut stdio.stderr, program, context, failure).await;
        }
    };
    let output = match render_all(&wanted, &fetched) {
        Ok(output) => output,
        Err(failure) => {
            let context = format!("cannot read mail from {place}");
            return cli::fail(&mut stdio.stderr, program, context, failure).await;
        }
    };
    let written = async {
        stdio.stdout.write_all(output.as_bytes()).await?;
        stdio.stdout.flush().await
    };
    if let Err(error) = written.await {
        return cli::fail(&mut stdio.stderr, program, "cannot write stdout", error).await;
    }
    0
}

/// Everything printed, built before the first byte goes out: a failure prints nothing.
fn render_all(wanted: &Wanted, fetched: &Fetched) -> Result<String, Failure> {
    let missing = |number| Failure::Malformed {
        command: "FETCH".into(),
        why: format!("message {number} was not sent"),
    };
    match wanted {
        Wanted::List => {
            // In mailbox order (the dialogues fetch in that order; sorted to be sure).
            let mut headers: Vec<&(u32, Vec<u8>)> = fetched.messages.iter().collect();
            headers.sort_unstable_by_key(|(number, _)| *number);
            let mut output = String::new();
            for (number, header) in headers {
                output.push_str(&render::list_line(*number, header));
            }
            Ok(output)
        }
        Wanted::Show(numbers) => {
            let mut blocks = Vec::with_capacity(numbers.len());
            for &number in numbers {
                let raw = fetched.get(number).ok_or_else(|| missing(number))?;
                blocks.push(render::show(raw));
            }
            // SPEC read/2: separated by a blank line.
            Ok(blocks.join("\n"))
        }
    }
}

/// Parses `args` with clap under the program's own name (the two programs share
/// [`Args`]); on `--help` or a usage error, prints what clap prints and returns the exit
/// status (as [`cli::parse_args`]).
async fn parse_args(
    program: &'static str,
    args: Vec<String>,
    stdio: &mut Stdio,
) -> Result<Args, i32> {
    let command = Args::command().name(program).bin_name(program);
    let parsed = command
        .try_get_matches_from(args)
        .and_then(|matches| Args::from_arg_matches(&matches));
    match parsed {
        Ok(args) => Ok(args),
        Err(error) => {
            let text = error.render().to_string();
            let stream = if error.use_stderr() {
                &mut stdio.stderr
            } else {
                &mut stdio.stdout
            };
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.flush().await;
            Err(error.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_before_anything_is_fetched_and_fetched_once_in_order() {
        let show = Wanted::Show(vec![3, 1, 3]);
        assert_eq!(show.to_fetch(5).unwrap(), vec![1, 3]);
        let error = show.to_fetch(2).unwrap_err();
        assert!(matches!(
            error,
            Failure::NoSuchMessage {
                number: 3,
                count: 2
            }
        ));
        assert!(Wanted::Show(vec![0]).to_fetch(5).is_err());
        assert!(Wanted::Show(vec![1]).to_fetch(0).is_err());
        assert_eq!(Wanted::List.to_fetch(3).unwrap(), vec![1, 2, 3]);
        assert!(Wanted::List.to_fetch(0).unwrap().is_empty());
    }

    #[test]
    fn show_takes_numbers_separated_by_commas() {
        assert_eq!(parse_numbers("2").unwrap().0, vec![2]);
        assert_eq!(parse_numbers("2,1,5").unwrap().0, vec![2, 1, 5]);
        assert!(parse_numbers("2,x").is_err());
        assert!(parse_numbers("").is_err());
        assert!(parse_numbers("-1").is_err());
    }

    #[test]
    fn several_messages_are_separated_by_a_blank_line() {
        let fetched = Fetched {
            messages: vec![
                (1, b"From: a@x\r\nSubject: one\r\n\r\nbody 1\r\n".to_vec()),
                (2, b"From: b@x\r\nSubject: two\r\n\r\nbody 2\r\n".to_vec()),
            ],
        };
        let output = render_all(&Wanted::Show(vec![2, 1]), &fetched).unwrap();
        assert_eq!(
            output,
            "From: b@x\nTo: \nDate: \nSubject: two\n\nbody 2\n\n\
             From: a@x\nTo: \nDate: \nSubject: one\n\nbody 1\n"
        );
        let listed = render_all(&Wanted::List, &fetched).unwrap();
        assert_eq!(listed, "1\ta@x\tone\n2\tb@x\ttwo\n");
    }
}
