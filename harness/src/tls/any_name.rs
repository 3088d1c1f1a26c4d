//! A certificate for whatever name the client asks for.
//!
//! A student's client verifies the server's certificate against the name it connected to
//! (`ssl.create_default_context()` with `server_hostname='smtp.gmail.com'`: the name must
//! be in the certificate's subject alternative names, RFC 6125 §6). Inside a scenario
//! every name leads to the harness, so the harness must hold a certificate for every name.
//! The client says which one it wants in the first message of the handshake (the Server
//! Name Indication extension, RFC 6066 §3), and the harness's test CA signs one for that
//! name then, once: later handshakes for the name reuse it. A client that sends no name
//! (one that connected to an address: SNI carries names only) gets the CA's certificate
//! for `localhost`, `127.0.0.1`, `::1` and `harness`.
//!
//! All certificates share one key pair: a fresh key per name would cost time and buy
//! nothing here, where the CA itself dies with the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The most names a certificate is kept for; past it, each is signed anew (a client that
/// asks for endless names must not fill the harness's memory).
const KEPT: usize = 256;

/// Resolves a server certificate by the client's SNI name, signing it on demand.
pub struct AnyName {
    /// The test CA, which signs.
    issuer: Issuer<'static, KeyPair>,
    /// The key pair every server certificate carries.
    server_key: KeyPair,
    /// The certificate without a name asked for.
    fallback: Arc<CertifiedKey>,
    /// Certificates made so far, by lower-case name.
    made: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for AnyName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AnyName").finish_non_exhaustive()
    }
}

impl AnyName {
    /// `issuer` signs certificates for `server_key`; `names` are the fallback's.
    pub fn new(
        issuer: Issuer<'static, KeyPair>,
        server_key: KeyPair,
        names: &[&str],
        provider: Arc<CryptoProvider>,
    ) -> Result<AnyName, Box<dyn std::error::Error>> {
        let fallback = certify(&issuer, &server_key, names, &provider)?;
        Ok(AnyName {
            issuer,
            server_key,
            fallback,
            made: Mutex::new(HashMap::new()),
            provider,
        })
    }

    /// The certificate for `name`, made now if it was not before.
    fn for_name(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let name = name.to_ascii_lowercase();
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(known) = made.get(&name) {
            return Some(Arc::clone(known));
        }
        let certified = certify(&self.issuer, &self.server_key, &[&name], &self.provider).ok()?;
        if made.len() < KEPT {
            made.insert(name, Arc::clone(&certified));
        }
        Some(certified)
    }
}

impl ResolvesServerCert for AnyName {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match client_hello.server_name() {
            Some(name) => self.for_name(name),
            None => Some(Arc::clone(&self.fallback)),
        }
    }
}

/// A certificate for `names` (DNS names or IP addresses), signed by `issuer`, for a server.
pub(super) fn certify(
    issuer: &Issuer<'static, KeyPair>,
    key: &KeyPair,
    names: &[&str],
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, Box<dyn std::error::Error>> {
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "socket-lab harness");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let certificate = params.signed_by(key, issuer)?;
    let chain: Vec<CertificateDer<'static>> = vec![certificate.der().clone()];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok(Arc::new(CertifiedKey::from_der(chain, private, provider)?))
}
