//! The mail client's program: arguments, the message, the connection, and the dialogue
//! in order.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use clap::{CommandFactory, Parser};
use lettre::message::Mailbox;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::message::{Draft, read_attachment};
use super::session::{Authentication, Envelope, Failure, MessageSource, REPLY_TIMEOUT, Session};
use crate::cli::{self, Server, Stdio, connect, parse_server};
use crate::net::Network;
use crate::tls::client_config;

/// Mail client (SMTP): sends the message on stdin to the recipients, through the server.
#[derive(Parser)]
#[command(name = "smtp-client")]
struct Args {
    #[command(flatten)]
    submission: Submission,
    /// The subject.
    #[arg(long)]
    subject: String,
    /// A file to attach (repeat for several).
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
}

/// What every program that sends mail is told (`smtp-client`, `mail-archive`): the server,
/// the envelope, TLS and the login.
#[derive(clap::Args)]
pub struct Submission {
    /// The SMTP server, HOST:PORT (an IPv6 address in brackets: [::1]:2525).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_server)]
    pub server: Server,
    /// The sender: an address, or `Name <address>`.
    #[arg(long, value_name = "ADDRESS")]
    pub from: Mailbox,
    /// A recipient (repeat for several).
    #[arg(long, value_name = "ADDRESS", required = true)]
    pub to: Vec<Mailbox>,
    /// Upgrade the connection to TLS (STARTTLS) before logging in and sending.
    #[arg(long)]
    pub starttls: bool,
    /// Log in with AUTH PLAIN as this user (needs --starttls and --password).
    #[arg(long, requires = "password")]
    pub user: Option<String>,
    /// The password for --user.
    ///
    /// A lab shortcut: on a command line, other users of the machine see it (`ps`); a real
    /// client asks for it, or reads it from a file.
    #[arg(long, requires = "user")]
    pub password: Option<String>,
    /// Trust the certificates of this PEM file (default: $SSL_CERT_FILE, then the system's).
    #[arg(long, value_name = "PEM", requires = "starttls")]
    pub ca_file: Option<PathBuf>,
}

impl Submission {
    /// `--user` without `--starttls`: the password would cross the network in clear.
    pub fn login_in_clear(&self) -> bool {
        self.user.is_some() && !self.starttls
    }
}

/// `smtp-client --server HOST:PORT --from A --to B... --subject S [--attach FILE]...
/// [--starttls] [--user U --password P] [--ca-file PEM] < BODY`: sends one message, exits
/// 0 once the server took it; prints nothing on stdout.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    // SPEC smtp/4: never send the password in clear text.
    if args.submission.login_in_clear() {
        return refuse_login_in_clear(Args::command(), &mut stdio).await;
    }
    // Everything that can fail without the server fails before connecting: the body, the
    // attachments, the message, the CA file.
    let mut body = Vec::new();
    if let Err(error) = stdio.stdin.read_to_end(&mut body).await {
        return cli::fail(&mut stdio.stderr, "smtp-client", "cannot read stdin", error).await;
    }
    let Ok(text) = String::from_utf8(body) else {
        let error = "the message on stdin is not UTF-8 text";
        return cli::fail(&mut stdio.stderr, "smtp-client", "cannot send", error).await;
    };
    let mut attachments = Vec::new();
    for path in &args.attach {
        match read_attachment(path).await {
            Ok(attachment) => attachments.push(attachment),
            Err(error) => {
                let context = format!("cannot attach {}", path.display());
                return cli::fail(&mut stdio.stderr, "smtp-client", context, error).await;
            }
        }
    }
    let since_epoch = net.since_epoch();
    let options = &args.submission;
    let draft = Draft::new(
        options.from.clone(),
        options.to.clone(),
        args.subject.clone(),
        text,
        attachments,
        UNIX_EPOCH + since_epoch,
        since_epoch.as_nanos() as u64,
    );
    if let Err(error) = draft.format(true) {
        let context = "cannot build the message";
        return cli::fail(&mut stdio.stderr, "smtp-client", context, error).await;
    }
    let sender = Sender {
        program: "smtp-client",
        what: "mail",
    };
    submit(net, options, Outgoing::Draft(&draft), sender, &mut stdio).await
}

/// Who sends, for the messages on stderr: `smtp-client: mail not sent through ...`.
pub struct Sender<'a> {
    /// The program's name.
    pub program: &'a str,
    /// What it sends (`mail`, `lab-notes.zip`).
    pub what: &'a str,
}

/// The part every mail-sending program shares once its message is ready: TLS set up,
/// connecting, the dialogue ([`transmit`]), and the exit status, with a message on stderr
/// for any failure (SPEC smtp/5, archive/3: the server's reply in it). Nothing on stdout.
pub async fn submit<N: Network>(
    net: N,
    options: &Submission,
    message: Outgoing<'_>,
    sender: Sender<'_>,
    stdio: &mut Stdio,
) -> i32 {
    let Sender { program, what } = sender;
    let tls = if options.starttls {
        match client_config(options.ca_file.as_deref()).await {
            Ok(config) => Some(config),
            Err(error) => {
                return cli::fail(&mut stdio.stderr, program, "cannot set up TLS", error).await;
            }
        }
    } else {
        None
    };
    let server = &options.server;
    let stream = match connect(&net, server).await {
        Ok(stream) => stream,
        // SPEC conventions: cannot connect -> stderr, non-zero exit.
        Err(error) => {
            let context = format!("cannot connect to {}:{}", server.host, server.port);
            return cli::fail(&mut stdio.stderr, program, context, error).await;
        }
    };
    let mail = Mail {
        message,
        envelope: Envelope {
            from: options.from.email.to_string(),
            to: options.to.iter().map(|to| to.email.to_string()).collect(),
        },
        login: options.user.as_deref().zip(options.password.as_deref()),
    };
    match transmit(net, stream, server, tls, &mail).await {
        Ok(None | Some(Authentication::Done)) => 0,
        Ok(Some(Authentication::NotOffered)) => {
            let note = format!(
                "{program}: note: the server does not offer AUTH; the {what} was sent without logging in"
            );
            cli::diagnose(&mut stdio.stderr, note).await;
            0
        }
        // SPEC smtp/5: a message naming the command and the reply; non-zero exit.
        Err(failure) => {
            let context = format!("{what} not sent through {}:{}", server.host, server.port);
            cli::fail(&mut stdio.stderr, program, context, failure).await
        }
    }
}

/// `--user` without `--starttls`: refused before connecting, as clap refuses bad
/// arguments (status 2), since the password would cross the network readable by anyone
/// on the way (SPEC smtp/4, archive/3). `command` is the program's, for the usage line.
pub async fn refuse_login_in_clear(mut command: clap::Command, stdio: &mut Stdio) -> i32 {
    let error = command.error(
        clap::error::ErrorKind::MissingRequiredArgument,
        "--user needs --starttls: without TLS the password would cross the network in \
         clear text (AUTH PLAIN is only base64)",
    );
    // clap's rendering ends with its own newline; `diagnose` adds one.
    let text = error.render().to_string();
    cli::diagnose(&mut stdio.stderr, text.trim_end().to_owned()).await;
    error.exit_code()
}

/// What to send and how to log in.
pub struct Mail<'a> {
    /// The message.
    pub message: Outgoing<'a>,
    /// Who it is from and to, for MAIL FROM and RCPT TO.
    pub envelope: Envelope,
    /// `--user` and `--password`.
    pub login: Option<(&'a str, &'a str)>,
}

/// The message to send.
pub enum Outgoing<'a> {
    /// Built by lettre in memory, formatted again (quoted-printable) for a server that
    /// does not announce 8BITMIME.
    Draft(&'a Draft),
    /// Formatted already, in a file read a buffer at a time: `mail-archive`'s message,
    /// 7-bit only (ASCII header fields, base64 and quoted-printable parts).
    File {
        /// The file.
        path: &'a Path,
        /// Its size in bytes, for `SIZE=` (RFC 1870).
        size: u64,
    },
}

/// The whole dialogue on a connected `stream`, with TLS first when `tls` is given
/// (`--starttls`): greeting, EHLO, [STARTTLS, EHLO], [AUTH], the mail, QUIT. Says
/// whether the client logged in (`None`: no login asked).
pub async fn transmit<N: Network>(
    net: N,
    stream: N::Stream,
    server: &Server,
    tls: Option<Arc<ClientConfig>>,
    mail: &Mail<'_>,
) -> Result<Option<Authentication>, Failure> {
    match tls {
        None => deliver(Session::new(stream, net), mail, false).await,
        Some(config) => deliver_over_tls(stream, net, config, server, mail).await,
    }
}

/// The dialogue with `--starttls` (RFC 3207 §4, SPEC `smtp/4`):
///
/// ```text
/// S: 220 ...                  C: EHLO localhost       S: 250-... 250-STARTTLS ...
/// C: STARTTLS                 S: 220 ready
/// ---- TLS handshake over the same TCP connection; from here all is encrypted ----
/// C: EHLO localhost           S: 250-... 250-AUTH PLAIN ...
/// C: AUTH PLAIN ...           S: 235          (then the mail, as without TLS)
/// ```
async fn deliver_over_tls<N: Network>(
    stream: N::Stream,
    net: N,
    config: Arc<ClientConfig>,
    server: &Server,
    mail: &Mail<'_>,
) -> Result<Option<Authentication>, Failure> {
    let mut session = Session::new(stream, net.clone());
    let step = async {
        session.greeting().await?;
        let extensions = session.hello().await?;
        if !extensions.starttls {
            return Err(Failure::NoStartTls);
        }
        session.start_tls().await
    };
    if let Err(failure) = step.await {
        session.quit_after(&failure).await;
        return Err(failure);
    }
    // The certificate must name the host the user asked for: a DNS name or an address.
    let name = ServerName::try_from(server.host.clone()).map_err(|error| Failure::Handshake {
        error: io::Error::new(io::ErrorKind::InvalidInput, error),
    })?;
    let handshake = TlsConnector::from(config).connect(name, session.into_stream());
    let secured = tokio::select! {
        biased;
        () = net.sleep(REPLY_TIMEOUT) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no handshake within the reply timeout",
        )),
        secured = handshake => secured,
    };
    let secured = secured.map_err(|error| Failure::Handshake { error })?;
    deliver(Session::new(secured, net), mail, true).await
}

/// The dialogue from the greeting (or, after TLS, from the second EHLO) to QUIT; ends it
/// with QUIT after a failure where possible (SPEC `smtp/5`). Says whether the client
/// logged in (`None`: no `--user`).
///
/// ```text
/// S: 220 ...                         (not after TLS: the server does not greet again)
/// C: EHLO localhost                  S: 250 ...      (HELO if EHLO gets a 5xx)
/// C: AUTH PLAIN ...                  S: 235          (with --user, over TLS only)
/// C: MAIL FROM / RCPT TO / DATA / message / .        (Session::send_mail)
/// C: QUIT                            S: 221
/// ```
async fn deliver<S, N>(
    mut session: Session<S, N>,
    mail: &Mail<'_>,
    secured: bool,
) -> Result<Option<Authentication>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let dialogue = async {
        let extensions = if secured {
            session.hello_again().await?
        } else {
            session.greeting().await?;
            session.hello().await?
        };
        let authentication = match mail.login {
            // SPEC smtp/4: only over TLS (client_main refused --user without --starttls).
            Some((user, password)) if secured => {
                Some(session.authenticate(&extensions, user, password).await?)
            }
            _ => None,
        };
        match mail.message {
            Outgoing::Draft(draft) => {
                // RFC 6152 §3: 8-bit text only to a server that announced 8BITMIME; for
                // others the same message is formatted again, quoted-printable.
                let message = draft
                    .format(extensions.eight_bit_mime)
                    .expect("the message was built once already");
                session
                    .send_mail(&extensions, &mail.envelope, &message)
                    .await?;
            }
            Outgoing::File { path, size } => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|error| Failure::Unreadable { error })?;
                let source = MessageSource {
                    size,
                    eight_bit: false,
                    bytes: file,
                };
                session
                    .send_mail_from(&extensions, &mail.envelope, source)
                    .await?;
            }
        }
        session.quit().await?;
        Ok(authentication)
    };
    let outcome = dialogue.await;
    if let Err(failure) = &outcome {
        session.quit_after(failure).await;
    }
    outcome
}
