//! TLS for `--starttls`: which certificates to trust, and the client's configuration
//! (RFC 3207; SPEC `smtp/4`).
//!
//! TLS is plumbing (rustls does it); what the lab shows is *when* it starts: after the
//! server's 220 to STARTTLS, over the same TCP connection, before any password or message.
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
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

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
