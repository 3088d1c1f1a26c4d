//! The harness's test certificate authority, for peers that speak TLS (the SMTP server
//! peer's STARTTLS).
//!
//! Made once per harness process, at first use: a CA certificate, and a server
//! certificate it signed for every name a program may use to reach the harness
//! (`localhost`, `127.0.0.1`, `::1`, and the simulated host `harness`), or, when the client
//! names the server it wants (SNI: `smtp.example.com`), one for that name, signed then
//! ([`any_name`]: inside a scenario every name leads to the harness). Programs are told
//! to trust the CA through `SSL_CERT_FILE` (OpenSSL, and so Python's `ssl`, read it), or
//! `--ca-file` for the reference in the simulated world, which has no environment of its
//! own. Nothing here is secret: the key dies with the process.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;

pub mod any_name;

/// The test CA and what a TLS server of the harness needs.
pub struct TestCa {
    /// The CA's certificate, PEM: what programs must trust.
    pub ca_pem: String,
    /// A server configuration presenting the certificate the CA signed.
    pub server_config: Arc<ServerConfig>,
    /// A server configuration presenting a certificate the CA signed for
    /// [`ANOTHER_NAME`] only, whatever name the client asks for: a client that checks
    /// which server it reached must refuse it (SPEC read/4).
    pub another_name_config: Arc<ServerConfig>,
    /// Where `ca_pem` is written, for `SSL_CERT_FILE`.
    ca_file: PathBuf,
    /// The folder of `ca_file`, for the life of the process: in a static, never dropped,
    /// it is removed when the process exits ([`crate::temporary`]).
    _folder: crate::temporary::Folder,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestCa")
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// The file holding the CA certificate (PEM).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
}

/// The names the server certificate is valid for.
const SERVER_NAMES: [&str; 4] = [
    "localhost",
    "127.0.0.1",
    "::1",
    crate::world::sockets::HARNESS_HOST,
];

/// The only name of the certificate of [`TestCa::another_name_config`]: a name that can
/// never be the one a client asked for (RFC 6761 reserves `.invalid`).
pub const ANOTHER_NAME: &str = "another-server.invalid";

/// The process's test CA, made at the first call.
pub fn test_ca() -> io::Result<&'static TestCa> {
    static CA: OnceLock<Result<TestCa, String>> = OnceLock::new();
    CA.get_or_init(|| make().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|error| io::Error::other(format!("cannot make the test CA: {error}")))
}

fn make() -> Result<TestCa, Box<dyn std::error::Error>> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "socket-lab harness test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    // One crypto backend, named here: with two enabled, rustls would panic at runtime.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_key = KeyPair::generate()?;
    let another = any_name::certify(&issuer, &server_key, &[ANOTHER_NAME], &provider)?;
    let another_name_config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(another)));
    let certificates = any_name::AnyName::new(
        issuer,
        KeyPair::generate()?,
        &SERVER_NAMES,
        Arc::clone(&provider),
    )?;
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(certificates));

    let ca_pem = ca_cert.pem();
    let folder = crate::temporary::folder("socket-lab-ca-")?;
    let ca_file = folder.path().join("test-ca.pem");
    std::fs::write(&ca_file, &ca_pem)?;
    Ok(TestCa {
        ca_pem,
        server_config: Arc::new(server_config),
        another_name_config: Arc::new(another_name_config),
        ca_file,
        _folder: folder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_trusting_the_ca_accepts_the_server_certificate() {
        let ca = test_ca().unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile_certs(&ca.ca_pem) {
            roots.add(cert).unwrap();
        }
        assert_eq!(roots.len(), 1);
        assert!(
            std::fs::read_to_string(ca.ca_file())
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = Arc::new(client);
        // By address (no SNI: the certificate for the loopback), and by any name.
        for name in [
            "127.0.0.1",
            "localhost",
            "smtp.example.com",
            "imap.gmail.com",
        ] {
            handshake(&client, &ca.server_config, name);
        }
    }

    /// A handshake in memory: client and server exchange records until both are done.
    fn handshake(client: &Arc<rustls::ClientConfig>, server: &Arc<ServerConfig>, name: &str) {
        let name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
        let mut client = rustls::ClientConnection::new(Arc::clone(client), name).unwrap();
        let mut server = rustls::ServerConnection::new(Arc::clone(server)).unwrap();
        for _ in 0..10 {
            let mut records = Vec::new();
            client.write_tls(&mut records).unwrap();
            server.read_tls(&mut records.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut records = Vec::new();
            server.write_tls(&mut records).unwrap();
            client.read_tls(&mut records.as_slice()).unwrap();
            client.process_new_packets().unwrap();
            if !client.is_handshaking() && !server.is_handshaking() {
                return;
            }
        }
        panic!("the handshake did not finish");
    }

    /// Clients nobody here wrote, verifying as they do by default: Python's
    /// `ssl.create_default_context` and `openssl s_client -verify_return_error`, each asking
    /// for a name the harness has never seen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn python_and_openssl_verify_a_certificate_for_a_name_they_choose() {
        let ca = test_ca().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&ca.server_config));
        let server = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                // A failed handshake is the client's verdict, read from its output.
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls.write_all(b"hello\n").await;
                    let _ = tls.shutdown().await;
                }
            }
        });
        let ca_file = ca.ca_file().display().to_string();
        let python = format!(
            "import socket, ssl\n\
             context = ssl.create_default_context(cafile={ca_file:?})\n\
             raw = socket.create_connection(('127.0.0.1', {port}))\n\
             tls = context.wrap_socket(raw, server_hostname='smtp.example.com')\n\
             print(tls.recv(100).decode().strip(), tls.getpeercert()['subjectAltName'])\n"
        );
        let output = tokio::process::Command::new("python3")
            .args(["-c", &python])
            .output()
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            "hello (('DNS', 'smtp.example.com'),)",
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let openssl = tokio::process::Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", "imap.example.com"])
            .args(["-verify_hostname", "imap.example.com"])
            .args(["-CAfile", &ca_file, "-verify_return_error"])
            .stdin(std::process::Stdio::null())
            .output()
            .await;
        match openssl {
            Ok(output) => {
                let text = String::from_utf8_lossy(&output.stdout);
                assert!(
                    output.status.success(),
                    "{text}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
            }
            Err(_) => eprintln!("openssl is not installed: Python's check only"),
        }
        server.abort();
    }

    fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
            .map(|cert| cert.unwrap())
            .collect()
    }
}
