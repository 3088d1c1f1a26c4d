//! The web server: accept connections forever, each served by its own task.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use super::files::{Found, open_in_root};
use super::head::{Head, MAX_HEAD, Request, read_head};
use super::response::{HTML, Status, error_page, head};
use super::target::resolve_target;
use crate::BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::{Listener, Network};

/// HTTP file server: serves the files under a folder, and nothing outside it.
#[derive(Parser)]
#[command(name = "web-server")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
    /// Folder whose files are served; `/` is its `index.html`.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// How long a client may take to send its whole request head.
///
/// Without a limit, a client that connects and sends nothing (or one byte a minute, the
/// "slowloris" attack) holds a task and a socket forever; enough of them and the server
/// runs out of sockets. The limit is on the whole head, not on each read, so trickling
/// does not reset it. 10 s is generous for a head that takes a browser microseconds.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the server keeps reading, after its response, what the client still sends
/// (a lingering close, see `linger` below).
pub const LINGER: Duration = Duration::from_secs(1);

/// `web-server PORT [--root DIR]`: binds, then serves requests concurrently, forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    // The root, made absolute and free of links once: every served file's real path is
    // compared with it (SPEC web/5). A root that does not exist is an error now, not a
    // 404 for every request later.
    let root = match served_root(&args.root).await {
        Ok(root) => root,
        Err(error) => {
            let context = format!("cannot serve {}", args.root.display());
            return cli::fail(&mut stdio.stderr, "web-server", context, error).await;
        }
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, "web-server", context, error).await;
        }
    };
    // The server prints nothing on stdout: its output is the responses it sends.
    let never = std::future::pending::<()>();
    serve(net, listener, root.into(), &mut stdio.stderr, never).await;
    0
}

/// `root` made canonical (absolute, links resolved), if it is a folder.
async fn served_root(root: &Path) -> io::Result<PathBuf> {
    let root = tokio::fs::canonicalize(root).await?;
    if !tokio::fs::metadata(&root).await?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            "not a directory",
        ));
    }
    Ok(root)
}

/// How serving one connection ended.
///
/// A client that misbehaves is an expected condition, not an error of the server: the
/// server reports it on stderr and goes on serving the others (SPEC `web/4`).
#[derive(Debug)]
pub enum ConnectionOutcome {
    /// A response was sent in full: `status`, and `body_bytes` bytes of body after the head.
    Answered {
        /// The response's status.
        status: Status,
        /// The bytes of body sent after the head.
        body_bytes: u64,
    },
    /// The client closed without sending anything (a port check, a browser's spare
    /// connection): nothing to answer, nothing to report.
    NoRequest,
    /// The client sent no complete head within [`HEAD_TIMEOUT`]; the connection was closed.
    TimedOut,
    /// The client closed its side after `received` bytes of a head; it was sent a 400.
    Truncated {
        /// The bytes of the head received.
        received: usize,
    },
    /// The connection failed (reset, vanished) before the response was sent in full.
    Broken {
        /// What the connection said.
        error: io::Error,
    },
    /// Reading the file failed after its head was sent: the client got fewer bytes than
    /// the `Content-Length`, which is how it can tell.
    FileFailed {
        /// What reading the file said.
        error: io::Error,
    },
}

/// Accepts connections until `shutdown` completes, serving each in its own task.
///
/// `root` must be canonical (see [`server_main`]). `diagnostics` (stderr in the binary)
/// receives a line per connection that failed. A failed `accept` (for example too many
/// open files) is reported and retried: it concerns one client only.
pub async fn serve<N, E>(
    net: N,
    listener: N::Listener,
    root: Arc<Path>,
    diagnostics: &mut E,
    shutdown: impl Future,
) where
    N: Network,
    E: AsyncWrite + Unpin,
{
    // The tasks serving connections. Each returns how its connection ended; this loop
    // collects the outcomes and reports them, so only this loop writes on stderr.
    let mut connections: JoinSet<(SocketAddr, ConnectionOutcome)> = JoinSet::new();
    tokio::pin!(shutdown);
    // Forever (SPEC web/4): wait for whichever comes first, a new connection or the end of
    // one being served, and handle it.
    loop {
        tokio::select! {
            // In this order, not at random: finished connections are reaped before new
            // ones are taken, so the set of tasks cannot fill up with finished ones, and
            // the simulated world replays exactly (no random draw).
            biased;
            // `join_next` gives `None` while no connection is being served; the pattern
            // then does not match and `select!` waits for the other branches only.
            Some(finished) = connections.join_next() => match finished {
                Ok((peer, outcome)) => {
                    if let Some(line) = describe(peer, &outcome) {
                        report(diagnostics, line).await;
                    }
                }
                // A task that panicked: a bug of this server, but it concerned one
                // connection only, and the others are still served.
                Err(error) => {
                    report(diagnostics, format!("a connection's task failed: {error}")).await;
                }
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // A task per connection: a browser opens several at once (the page,
                    // its style sheet, its images), and a slow or silent client must not
                    // hold up the others. `spawn` works on the real network and on a
                    // simulated host alike.
                    let (net, root) = (net.clone(), Arc::clone(&root));
                    let served = async move { (peer, serve_one(stream, net, &root).await) };
                    connections.spawn(served);
                }
                Err(error) => report(diagnostics, format!("accept failed: {error}")).await,
            },
            _ = &mut shutdown => return,
        }
    }
}

/// The diagnostic line for a connection that ended badly; `None` for one that went well.
fn describe(peer: SocketAddr, outcome: &ConnectionOutcome) -> Option<String> {
    match outcome {
        ConnectionOutcome::Answered { .. } | ConnectionOutcome::NoRequest => None,
        ConnectionOutcome::TimedOut => Some(format!(
            "client {peer} sent no complete request within {} s; closed",
            HEAD_TIMEOUT.as_secs()
        )),
        ConnectionOutcome::Truncated { received } => Some(format!(
            "client {peer} closed its side after {received} bytes of a request; answered 400"
        )),
        ConnectionOutcome::Broken { error } => Some(format!("client {peer} failed: {error}")),
        ConnectionOutcome::FileFailed { error } => {
            Some(format!("reading a file for client {peer} failed: {error}"))
        }
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("web-server: {line}")).await;
}

/// Serves one connection: reads a request head, answers it, and closes.
///
/// ```text
/// read until the blank line, 16 KiB, FIN, or 10 s  ->  parse (httparse)
///   ->  GET/HEAD?  ->  target -> relative path  ->  open it under the root
///   ->  send the head, then the file 4 KiB at a time  ->  FIN
///   ->  discard what the client still sends, for at most LINGER  ->  close
/// ```
///
/// Everything that can go wrong is the client's doing or the file's, so it is a
/// [`ConnectionOutcome`].
pub async fn serve_one<S, N>(mut stream: S, net: N, root: &Path) -> ConnectionOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    // One fixed buffer per connection: first the request head (at most 16 KiB, SPEC
    // web/5), then, once the head is parsed, 4 KiB of it carry the file on its way out.
    // On the heap: 16 KiB is a lot for a task's stack, and it is allocated once, never
    // grown.
    let mut buffer = vec![0u8; MAX_HEAD];
    // SPEC web/3: read the whole head, however it is sliced, but not forever.
    let head = tokio::select! {
        // The deadline first: a client trickling bytes cannot keep the read branch always
        // ready and postpone the deadline.
        biased;
        () = net.sleep(HEAD_TIMEOUT) => return ConnectionOutcome::TimedOut,
        head = read_head(&mut stream, &mut buffer) => head,
    };
    let outcome = match head {
        // A reset or a vanished client: nobody to answer. The server goes on (web/4).
        Err(error) => return ConnectionOutcome::Broken { error },
        Ok(Head::Nothing) => return ConnectionOutcome::NoRequest,
        // The client stopped sending but may still read: tell it why nothing else comes.
        Ok(Head::Truncated { received }) => {
            match answer_error(&mut stream, Status::BadRequest, false).await {
                ConnectionOutcome::Answered { .. } => ConnectionOutcome::Truncated { received },
                broken => return broken,
            }
        }
        // SPEC web/5, web/6: malformed (400) or too large (431).
        Ok(Head::Refused(status)) => answer_error(&mut stream, status, false).await,
        Ok(Head::Request(request)) => answer(&mut stream, &request, root, &mut buffer).await,
    };
    match outcome {
        ConnectionOutcome::Answered { .. } | ConnectionOutcome::Truncated { .. } => {
            match finish(&mut stream, &net, &mut buffer).await {
                Ok(()) => outcome,
                Err(error) => ConnectionOutcome::Broken { error },
            }
        }
        // The response is incomplete: close at once, dropping the stream. A client that
        // counts the body against `Content-Length` sees that it was cut.
        failed => failed,
    }
}

/// Answers a parsed request: the file its target names, or the status that says why not.
async fn answer<S>(
    stream: &mut S,
    request: &Request,
    root: &Path,
    buffer: &mut [u8],
) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
{
    let head_only = match request.method.as_str() {
        "GET" => false,
        // RFC 9110 §9.3.2: HEAD is GET without the body; the head is the same, with the
        // Content-Length the body would have.
        "HEAD" => true,
        // SPEC web/6: POST, PUT, DELETE...: this server only reads files. Nothing is
        // written or deleted, whatever the method.
        _ => return answer_error(stream, Status::NotImplemented, false).await,
    };
    // SPEC web/5: the target becomes a path under the root, or is refused (400, 403).
    let relative = match resolve_target(&request.target) {
        Ok(relative) => relative,
        Err(status) => return answer_error(stream, status, head_only).await,
    };
    match open_in_root(root, &relative).await {
        Ok(found) => send_file(stream, found, head_only, buffer).await,
        // SPEC web/2: a missing file is a 404 with a page; a link out of the root a 403.
        Err(status) => answer_error(stream, status, head_only).await,
    }
}

/// Sends a `200 OK` head and the file's bytes, through `buffer` (SPEC `web/1`).
async fn send_file<S>(
    stream: &mut S,
    found: Found,
    head_only: bool,
    buffer: &mut [u8],
) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
{
    let Found {
        mut file,
        length,
        content_type,
    } = found;
    // `write_all` loops over `write`, which may accept only part of the bytes.
    let response_head = head(Status::Ok, length, content_type);
    if let Err(error) = stream.write_all(response_head.as_bytes()).await {
        return ConnectionOutcome::Broken { error };
    }
    if head_only {
        return ConnectionOutcome::Answered {
            status: Status::Ok,
            body_bytes: 0,
        };
    }
    // BUFFER_SIZE (4 KiB) at a time, as every stream in this crate is moved.
    let chunk = BUFFER_SIZE.min(buffer.len());
    let buffer = &mut buffer[..chunk];
    let mut sent: u64 = 0;
    // One buffer's worth at a time until the `Content-Length` promised is sent: the file
    // is never read whole into memory (the handout's `f.read()`), so a 10 MB file costs
    // the same 4 KiB as a 20 KB one. Bytes are sent as read, never decoded as text, so
    // images arrive intact (SPEC web/1).
    while sent < length {
        // Never more than promised: a file that grows while being sent is cut at its
        // size when opened, or the client would take the extra bytes for a next response.
        let wanted =
            usize::try_from(length - sent).map_or(buffer.len(), |left| left.min(buffer.len()));
        let read = match file.read(&mut buffer[..wanted]).await {
            Ok(0) => {
                let error = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the file shrank to {sent} of {length} bytes while being sent"),
                );
                return ConnectionOutcome::FileFailed { error };
            }
            Ok(read) => read,
            Err(error) => return ConnectionOutcome::FileFailed { error },
        };
        // A client that disconnects mid-response ends here: reported, and the server
        // goes on (SPEC web/4).
        if let Err(error) = stream.write_all(&buffer[..read]).await {
            return ConnectionOutcome::Broken { error };
        }
        sent += read as u64;
    }
    ConnectionOutcome::Answered {
        status: Status::Ok,
        body_bytes: sent,
    }
}

/// Sends `status` with its small HTML page (just the head for a HEAD request).
async fn answer_error<S>(stream: &mut S, status: Status, head_only: bool) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
{
    let page = error_page(status);
    let mut response = head(status, page.len() as u64, HTML);
    if !head_only {
        response.push_str(&page);
    }
    // Head and page in one write: they are small, and go out in one segment.
    match stream.write_all(response.as_bytes()).await {
        Ok(()) => ConnectionOutcome::Answered {
            status,
            body_bytes: if head_only { 0 } else { page.len() as u64 },
        },
        Err(error) => ConnectionOutcome::Broken { error },
    }
}

/// Ends a connection whose response was sent: FIN, then a lingering close.
///
/// The proxy ends its connections to clients the same way. `scratch` is any buffer: what
/// is read into it is thrown away.
pub(crate) async fn finish<S, N>(stream: &mut S, net: &N, scratch: &mut [u8]) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    // FIN: `Connection: close` promised the client that the connection ends after this
    // response; a client that reads until the end knows now that it has everything.
    stream.shutdown().await?;
    linger(stream, net, scratch).await;
    Ok(())
}

/// A "lingering close" (RFC 9112 §9.6): before closing, read and discard what the client
/// still sends, until it closes too or [`LINGER`] passes.
///
/// Why: closing a socket whose receive buffer still holds unread bytes (the rest of a
/// 20 KiB head refused at 16 KiB, a request body, a second request) makes the kernel send
/// a reset (RST) instead of a FIN, and a reset can destroy the response still in flight
/// or waiting in the client's buffer: the client would see "connection reset" instead of
/// the 431. Errors are ignored: the response is already sent, and the connection ends
/// anyway.
async fn linger<S, N>(stream: &mut S, net: &N, scratch: &mut [u8])
where
    S: AsyncRead + Unpin,
    N: Network,
{
    let give_up = net.sleep(LINGER);
    tokio::pin!(give_up);
    // Until the client closes (read returns 0 or fails) or we stop waiting: a client that
    // keeps the connection open does not hold this task forever.
    loop {
        tokio::select! {
            // The deadline first: a client sending without pause cannot keep the read
            // branch always ready and this task busy forever.
            biased;
            () = &mut give_up => return,
            read = stream.read(scratch) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            },
        }
    }
}

#[cfg(test)]
mod properties;
