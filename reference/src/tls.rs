//! TLS for the clients: which certificates to trust, and the client's configuration.
//! Used by `smtp-client --starttls` (RFC 3207; SPEC `smtp/4`), and by `imap-read` and
//! `pop3-fetch`, with `--tls` or after STARTTLS/STLS (RFC 8314, RFC 9051 §6.2.1, RFC 2595;
//! SPEC `read/4`).
//!
//! TLS is plumbing (rustls does it); what the labs show is *when* it starts: from the
//! first byte (`--tls`, "implicit TLS"), or after the server's yes to STARTTLS (STLS in
//! POP3), over the same TCP connection, before any password or message.
//!
//! A server's certificate is checked against trusted roots (certificate authorities). The
//! roots come from, in this order, as OpenSSL and Python's `ssl` find them:
//!
//! 1. the PEM file given with `--ca-file` (a lab's own test CA);
//! 2. the PEM file named by the `SSL_CERT_FILE` environment variable;
//! 3. the system's bundle ([`SYSTEM_BUNDLES`]).
//!
//! The certificate must also name the server as the client knows it: the HOST of
//! `--server`, a DNS name or an IP address (RFC 6125). A client that skips these checks
//! talks TLS to whoever answers: encrypted, but perhaps to the attacker.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Where Linux and BSD systems keep their trusted roots, one PEM file each: Debian and
/// Ubuntu, Fedora and RHEL, Alpine and macOS.
pub const SYSTEM_BUNDLES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The file the roots were taken from, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootsSource {
    /// `--ca-file`.
    Given(PathBuf),
    /// `SSL_CERT_FILE`.
    Environment(PathBuf),
    /// The system's bundle.
    System(PathBuf),
}

impl RootsSource {
    /// The roots to use: `ca_file` if given, else `ssl_cert_file` (the environment
    /// variable's value), else the first system bundle that `exists`.
    pub fn choose(
        ca_file: Option<&Path>,
        ssl_cert_file: Option<PathBuf>,
        exists: impl Fn(&Path) -> bool,
    ) -> Option<RootsSource> {
        if let Some(path) = ca_file {
            return Some(RootsSource::Given(path.to_path_buf()));
        }
        if let Some(path) = ssl_cert_file.filter(|path| !path.as_os_str().is_empty()) {
            return Some(RootsSource::Environment(path));
        }
        SYSTEM_BUNDLES
            .iter()
            .map(Path::new)
            .find(|path| exists(path))
            .map(|path| RootsSource::System(path.to_path_buf()))
    }

    /// The PEM file.
    pub fn path(&self) -> &Path {
        match self {
            RootsSource::Given(path) | RootsSource::Environment(path) => path,
            RootsSource::System(path) => path,
        }
    }
}

/// The TLS client configuration: the roots of `--ca-file`, `SSL_CERT_FILE` or the system.
///
/// Built before connecting, so that a missing or empty CA file is reported before any
/// byte is sent.
pub async fn client_config(ca_file: Option<&Path>) -> io::Result<Arc<ClientConfig>> {
    let environment = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let source = RootsSource::choose(ca_file, environment, Path::exists).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no trusted certificates: none of the system's bundles exists; give --ca-file",
        )
    })?;
    let pem = tokio::fs::read(source.path()).await.map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot read {}: {error}", source.path().display()),
        )
    })?;
    let mut roots = RootCertStore::empty();
    // Certificates that do not parse are skipped, as OpenSSL does with a bundle.
    let certificates = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no certificate in {}", source.path().display()),
        ));
    }
    // The ring provider, named here: with two crypto backends compiled in, rustls
    // cannot choose one by itself and panics (CRATES.md).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The TLS handshake as a client over `stream`: the server's certificate must chain to
/// one of `config`'s roots and name `host` (the HOST of `--server`: a DNS name or an IP
/// address). A failure here means: do not send anything secret on this connection.
pub async fn handshake<S>(
    config: Arc<ClientConfig>,
    host: &str,
    stream: S,
) -> io::Result<TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_owned())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
    TlsConnector::from(config).connect(name, stream).await
}

/// A connection that is in clear or, since a handshake, TLS: the same dialogue code reads
/// and writes either (`imap_read`, `pop3_fetch`: STARTTLS/STLS upgrades it in the middle
/// of the dialogue).
pub enum MaybeTls<S> {
    /// In clear: anyone on the path reads and can change what crosses.
    Plain(S),
    /// TLS over the same stream (boxed: a TLS stream is large, a plain one is not).
    Tls(Box<TlsStream<S>>),
}

impl<S> MaybeTls<S> {
    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, MaybeTls::Tls(_))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(stream) => Pin::new(stream).poll_read(context, buffer),
            MaybeTls::Tls(stream) => Pin::new(stream.as_mut()).poll_read(context, buffer),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(stream) => Pin::new(stream).poll_write(context, bytes),
            MaybeTls::Tls(stream) => Pin::new(stream.as_mut()).poll_write(context, bytes),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(stream) => Pin::new(stream).poll_flush(context),
            MaybeTls::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(context),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(stream) => Pin::new(stream).poll_shutdown(context),
            MaybeTls::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_come_from_the_option_then_the_environment_then_the_system() {
        let given = Path::new("/lab/ca.pem");
        let environment = || Some(PathBuf::from("/env/ca.pem"));
        let debian = |path: &Path| path == Path::new(SYSTEM_BUNDLES[0]);
        let nothing = |_: &Path| false;
        assert_eq!(
            RootsSource::choose(Some(given), environment(), debian),
            Some(RootsSource::Given(given.into()))
        );
        assert_eq!(
            RootsSource::choose(None, environment(), debian),
            Some(RootsSource::Environment("/env/ca.pem".into()))
        );
        assert_eq!(
            RootsSource::choose(None, Some(PathBuf::new()), debian),
            Some(RootsSource::System(SYSTEM_BUNDLES[0].into()))
        );
        assert_eq!(RootsSource::choose(None, None, nothing), None);
    }

    #[tokio::test]
    async fn a_file_without_certificates_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "not a certificate\n").unwrap();
        let error = client_config(Some(file.path())).await.unwrap_err();
        assert!(error.to_string().contains("no certificate in"), "{error}");
    }
}
