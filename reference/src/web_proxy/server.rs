//! The proxy: accept clients forever, each served by its own task.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use super::relay::{Relayed, relay};
use super::request::origin_request;
use super::target::{Target, parse_target};
use crate::BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::{Listener, Network};
use crate::web_server::head::{Head, MAX_HEAD, Request, read_head};
use crate::web_server::response::{HTML, error_page, error_page_explaining, head};
use crate::web_server::{HEAD_TIMEOUT, Status, finish};

/// Web proxy: fetches `http://` URLs from their servers for its clients.
#[derive(Parser)]
#[command(name = "web-proxy")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
}

/// How long the proxy waits for the origin server to accept its connection.
///
/// A host that is down does not always refuse: packets to it may simply go unanswered,
/// and the operating system's own limit is over a minute. The client deserves its 502
/// sooner (SPEC `proxy/3`). 5 s is long for a connection that takes milliseconds when the
/// server is up, even across the world.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `web-proxy PORT`: binds, then serves clients concurrently, forever.
pub async fn proxy_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, "web-proxy", context, error).await;
        }
    };
    // The proxy prints nothing on stdout: its output is the responses it relays.
    let never = std::future::pending::<()>();
    serve(net, listener, &mut stdio.stderr, never).await;
    0
}

/// How serving one client ended.
///
/// A client that misbehaves and an origin that is down are expected conditions, not
/// errors of the proxy: it reports them on stderr and goes on serving the others.
#[derive(Debug)]
pub enum ConnectionOutcome {
    /// The origin's response was relayed whole: `bytes` bytes, up to the origin's close
    /// (SPEC `proxy/1`). `origin` is its URL's `host[:port]`.
    Relayed {
        /// The origin, as `host[:port]`.
        origin: String,
        /// The bytes relayed.
        bytes: u64,
    },
    /// The request was not forwarded, and the client was told why with `status`: 400
    /// (malformed, or not an `http://` URL), 431 (too large), 501 (not GET, or https).
    Refused {
        /// The status the client was answered.
        status: Status,
    },
    /// The origin could not be reached (refused, unknown host, no answer within
    /// [`CONNECT_TIMEOUT`]) or closed without a byte of response; the client got a 502
    /// (SPEC `proxy/3`).
    BadGateway {
        /// The origin, as `host[:port]`.
        origin: String,
        /// Why it could not be reached.
        error: io::Error,
    },
    /// The client closed without sending anything: nothing to answer, nothing to report.
    NoRequest,
    /// The client sent no complete head within [`HEAD_TIMEOUT`]; the connection was closed.
    TimedOut,
    /// The client closed its side after `received` bytes of a head; it was sent a 400.
    Truncated {
        /// The bytes of the head received.
        received: usize,
    },
    /// The client's connection failed (reset, vanished) before its response was sent in
    /// full.
    ClientBroken {
        /// What the client's connection said.
        error: io::Error,
    },
    /// The origin's connection failed (a reset) after `bytes` bytes of its response were
    /// relayed. The client's connection was closed at once: a client that counts the
    /// body against its `Content-Length` sees that it was cut.
    OriginBroken {
        /// The origin whose response was cut, as the request named it.
        origin: String,
        /// How many bytes of its response were relayed.
        bytes: u64,
        /// What the origin's connection said.
        error: io::Error,
    },
}

/// Accepts clients until `shutdown` completes, serving each in its own task.
///
/// `diagnostics` (stderr in the binary) receives a line per client that was refused or
/// failed. A failed `accept` (for example too many open files) is reported and retried:
/// it concerns one client only.
pub async fn serve<N, E>(net: N, listener: N::Listener, diagnostics: &mut E, shutdown: impl Future)
where
    N: Network,
    E: AsyncWrite + Unpin,
{
    // The tasks serving clients. Each returns how its client ended; this loop collects
    // the outcomes and reports them, so only this loop writes on stderr.
    let mut connections: JoinSet<(SocketAddr, ConnectionOutcome)> = JoinSet::new();
    tokio::pin!(shutdown);
    // Forever: wait for whichever comes first, a new client or the end of one being
    // served, and handle it.
    loop {
        tokio::select! {
            // In this order, not at random: finished clients are reaped before new ones
            // are taken, so the set of tasks cannot fill up with finished ones, and the
            // simulated world replays exactly (no random draw).
            biased;
            // `join_next` gives `None` while no client is being served; the pattern then
            // does not match and `select!` waits for the other branches only.
            Some(finished) = connections.join_next() => match finished {
                Ok((peer, outcome)) => {
                    if let Some(line) = describe(peer, &outcome) {
                        report(diagnostics, line).await;
                    }
                }
                // A task that panicked: a bug of this proxy, but it concerned one client
                // only, and the others are still served.
                Err(error) => {
                    report(diagnostics, format!("a connection's task failed: {error}")).await;
                }
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // SPEC proxy/2: a task per client. Most of a proxy's time is waiting
                    // for origins; while one origin is slow, the other clients' requests
                    // go ahead. `spawn` works on the real network and on a simulated
                    // host alike.
                    let net = net.clone();
                    connections.spawn(async move { (peer, serve_one(stream, net).await) });
                }
                Err(error) => report(diagnostics, format!("accept failed: {error}")).await,
            },
            _ = &mut shutdown => return,
        }
    }
}

/// The diagnostic line for a client that was refused or failed; `None` for one served.
fn describe(peer: SocketAddr, outcome: &ConnectionOutcome) -> Option<String> {
    match outcome {
        ConnectionOutcome::Relayed { .. } | ConnectionOutcome::NoRequest => None,
        ConnectionOutcome::Refused { status } => Some(format!(
            "client {peer}: request refused with {} {}",
            status.code(),
            status.reason()
        )),
        ConnectionOutcome::BadGateway { origin, error } => Some(format!(
            "client {peer}: origin {origin} failed: {error}; answered 502"
        )),
        ConnectionOutcome::TimedOut => Some(format!(
            "client {peer} sent no complete request within {} s; closed",
            HEAD_TIMEOUT.as_secs()
        )),
        ConnectionOutcome::Truncated { received } => Some(format!(
            "client {peer} closed its side after {received} bytes of a request; answered 400"
        )),
        ConnectionOutcome::ClientBroken { error } => Some(format!("client {peer} failed: {error}")),
        ConnectionOutcome::OriginBroken {
            origin,
            bytes,
            error,
        } => Some(format!(
            "client {peer}: origin {origin} failed after {bytes} bytes of its response: \
             {error}; closed the client's connection"
        )),
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("web-proxy: {line}")).await;
}

/// Serves one client: reads its request head, forwards the request, relays the response,
/// and closes.
///
/// ```text
/// read until the blank line, 16 KiB, FIN, or 10 s  ->  parse (httparse)
///   ->  GET?  ->  URL -> host, port, path  ->  connect to the origin (5 s at most)
///   ->  send it the request  ->  relay its response 4 KiB at a time, until it closes
///   ->  FIN to the client  ->  discard what it still sends, for at most LINGER  ->  close
/// ```
///
/// Everything that can go wrong is the client's doing or the origin's, so it is a
/// [`ConnectionOutcome`].
pub async fn serve_one<S, N>(mut client: S, net: N) -> ConnectionOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    // One fixed buffer per client: first the request head (at most 16 KiB), then 4 KiB of
    // it carry the response on its way through. On the heap: 16 KiB is a lot for a task's
    // stack, and it is allocated once, never grown.
    let mut buffer = vec![0u8; MAX_HEAD];
    // The request head, however it is sliced, but not forever. The same reader as the
    // file server's (`web_server::head`): a proxy reads requests as a server does.
    let head = tokio::select! {
        // The deadline first: a client trickling bytes cannot keep the read branch always
        // ready and postpone the deadline.
        biased;
        () = net.sleep(HEAD_TIMEOUT) => return ConnectionOutcome::TimedOut,
        head = read_head(&mut client, &mut buffer) => head,
    };
    let outcome = match head {
        // A reset or a vanished client: nobody to answer. The proxy goes on.
        Err(error) => return ConnectionOutcome::ClientBroken { error },
        Ok(Head::Nothing) => return ConnectionOutcome::NoRequest,
        // The client stopped sending but may still read: tell it why nothing else comes.
        Ok(Head::Truncated { received }) => {
            match answer_error(&mut client, Status::BadRequest).await {
                Ok(()) => ConnectionOutcome::Truncated { received },
                Err(error) => return ConnectionOutcome::ClientBroken { error },
            }
        }
        // Malformed (400) or too large (431): garbage never reaches an origin.
        Ok(Head::Refused(status)) => refuse(&mut client, status).await,
        Ok(Head::Request(request)) => forward(&mut client, &net, &request, &mut buffer).await,
    };
    // The client has its whole response (relayed, or an error page)? Then end the
    // connection as the file server does, with a FIN and a lingering close.
    let answered = matches!(
        outcome,
        ConnectionOutcome::Relayed { .. }
            | ConnectionOutcome::Refused { .. }
            | ConnectionOutcome::BadGateway { .. }
            | ConnectionOutcome::Truncated { .. }
    );
    if !answered {
        // The response is incomplete: close at once, dropping the connection.
        return outcome;
    }
    match finish(&mut client, &net, &mut buffer).await {
        Ok(()) => outcome,
        Err(error) => ConnectionOutcome::ClientBroken { error },
    }
}

/// Forwards a parsed request to its origin and relays the response (SPEC `proxy/1`), or
/// answers with the status that says why not.
async fn forward<S, N>(
    client: &mut S,
    net: &N,
    request: &Request,
    buffer: &mut [u8],
) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
    N: Network,
{
    // GET only. CONNECT (the tunnel browsers ask for to reach https:// sites) and the
    // methods that carry a body (POST, PUT) are refused with 501: nothing is forwarded.
    if request.method != "GET" {
        return refuse(client, Status::NotImplemented).await;
    }
    // SPEC proxy/1: the absolute URL names the origin; 400 or 501 if it does not.
    let target = match parse_target(&request.target) {
        Ok(target) => target,
        Err(status) => return refuse(client, status).await,
    };
    let origin_name = target.authority();
    // SPEC proxy/3: an origin that is down or unknown is a 502, never a hang or a crash.
    let mut origin = match connect(net, &target).await {
        Ok(origin) => origin,
        Err(error) => return bad_gateway(client, origin_name, error).await,
    };
    // The whole request head, in one `write_all` (which loops over short writes).
    let forwarded = origin_request(&target, &request.headers);
    if let Err(error) = origin.write_all(&forwarded).await {
        return bad_gateway(client, origin_name, error).await;
    }
    // BUFFER_SIZE (4 KiB) at a time, as every stream in this crate is moved.
    let chunk = BUFFER_SIZE.min(buffer.len());
    match relay(&mut origin, client, &mut buffer[..chunk]).await {
        // Not a byte came: the client has nothing yet, and can still be told (RFC 9110
        // §15.6.3: no valid response from the origin is a 502).
        Relayed::Complete { bytes: 0 } => {
            let error = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "it closed the connection without a response",
            );
            bad_gateway(client, origin_name, error).await
        }
        Relayed::OriginFailed { bytes: 0, error } => bad_gateway(client, origin_name, error).await,
        Relayed::Complete { bytes } => ConnectionOutcome::Relayed {
            origin: origin_name,
            bytes,
        },
        // Part of the response is with the client already; no status can follow it. The
        // connection is closed as it is (see `serve_one`).
        Relayed::OriginFailed { bytes, error } => ConnectionOutcome::OriginBroken {
            origin: origin_name,
            bytes,
            error,
        },
        Relayed::ClientFailed { error, .. } => ConnectionOutcome::ClientBroken { error },
    }
}

/// Connects to the origin server, giving up after [`CONNECT_TIMEOUT`].
async fn connect<N: Network>(net: &N, target: &Target) -> io::Result<N::Stream> {
    tokio::select! {
        // The deadline first, as everywhere: it wins a tie.
        biased;
        () = net.sleep(CONNECT_TIMEOUT) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
        )),
        connected = net.connect_tcp(&target.host, target.port) => connected,
    }
}

/// Answers a 502 (SPEC `proxy/3`), reporting why the origin failed.
async fn bad_gateway<S>(client: &mut S, origin: String, error: io::Error) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
{
    match answer_error(client, Status::BadGateway).await {
        Ok(()) => ConnectionOutcome::BadGateway { origin, error },
        Err(error) => ConnectionOutcome::ClientBroken { error },
    }
}

/// Answers `status` to a request that is not forwarded.
async fn refuse<S>(client: &mut S, status: Status) -> ConnectionOutcome
where
    S: AsyncWrite + Unpin,
{
    match answer_error(client, status).await {
        Ok(()) => ConnectionOutcome::Refused { status },
        Err(error) => ConnectionOutcome::ClientBroken { error },
    }
}

/// Sends `status` with a small HTML page that explains it: the file server's head and
/// page (`web_server::response`), with the proxy's own explanation.
async fn answer_error<S>(client: &mut S, status: Status) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let page = proxy_error_page(status);
    let mut response = head(status, page.len() as u64, HTML);
    response.push_str(&page);
    // Head and page in one write: they are small, and go out in one segment.
    client.write_all(response.as_bytes()).await
}

/// The error page for `status`, in the proxy's words.
///
/// Like the file server's, it never repeats the URL or the origin's name: echoing them
/// into HTML without escaping would let a crafted link run a script (cross-site scripting).
fn proxy_error_page(status: Status) -> String {
    let explanation = match status {
        Status::BadRequest => {
            "This proxy takes requests for http:// URLs: GET http://host[:port]/path HTTP/1.1."
        }
        Status::RequestHeaderFieldsTooLarge => {
            "The request's header fields are larger than this proxy accepts (16 KiB)."
        }
        Status::NotImplemented => {
            "This proxy only forwards GET requests for http:// URLs: no other method, and no \
             https:// (CONNECT)."
        }
        Status::BadGateway => {
            "The proxy could not reach the server that has this page, or got no response \
             from it."
        }
        // Never answered by the proxy itself: an origin's 404 is relayed, not made here.
        Status::Ok | Status::Forbidden | Status::NotFound => return error_page(status),
    };
    error_page_explaining(status, explanation)
}
