//! Java's trust store, holding the test CA alone.
//!
//! Java does not read `/etc/ssl/certs/ca-certificates.crt`: it reads its own store,
//! `$JAVA_HOME/lib/security/cacerts`, which on Debian is a link to
//! `/etc/ssl/certs/java/cacerts`. The view replaces `/etc/ssl/certs` with a folder of the
//! harness's, so that link would lead nowhere and a Java client (`SSLSocketFactory`,
//! JavaMail's `imaps`) would trust nothing at all; this module writes the store it finds
//! there instead, in the format Debian ships it in: JKS.
//!
//! A JKS file is small and fixed (the format of `sun.security.provider.JavaKeyStore`):
//!
//! ```text
//! FEEDFEED | version 2 | entry count
//! per entry: tag 2 (trusted certificate) | alias | creation time (ms) | "X.509" | DER
//! SHA-1( password as UTF-16BE | "Mighty Aphrodite" | everything above )
//! ```
//!
//! Written by hand, about thirty lines, rather than through a PKCS#12 crate and its
//! dependency tree: one certificate, no key, no encryption.

/// The password Java's own `cacerts` has; Java reads a trust store without one, but
/// `keytool -list -storepass changeit` checks the file's digest with it.
pub(crate) const PASSWORD: &str = "changeit";

/// A JKS store whose one entry trusts the certificate `der` under `alias`.
pub(crate) fn trusting(alias: &str, der: &[u8]) -> Vec<u8> {
    let mut store = Vec::with_capacity(der.len() + 128);
    store.extend_from_slice(&0xFEED_FEEDu32.to_be_bytes());
    store.extend_from_slice(&2u32.to_be_bytes());
    store.extend_from_slice(&1u32.to_be_bytes());
    // Tag 2: a trusted certificate entry (1 would be a private key).
    store.extend_from_slice(&2u32.to_be_bytes());
    put_utf(&mut store, alias);
    // Its creation time; a fixed one keeps the file the same from run to run.
    store.extend_from_slice(&0u64.to_be_bytes());
    put_utf(&mut store, "X.509");
    let length = u32::try_from(der.len()).expect("a certificate is far below 4 GiB");
    store.extend_from_slice(&length.to_be_bytes());
    store.extend_from_slice(der);

    let mut digest = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    for unit in PASSWORD.encode_utf16() {
        digest.update(&unit.to_be_bytes());
    }
    digest.update(b"Mighty Aphrodite");
    digest.update(&store);
    store.extend_from_slice(digest.finish().as_ref());
    store
}

/// Java's `writeUTF`: a 16-bit length, then the text (ASCII here, which modified UTF-8
/// writes as UTF-8 does).
fn put_utf(out: &mut Vec<u8>, text: &str) {
    debug_assert!(text.is_ascii());
    let length = u16::try_from(text.len()).expect("a short alias");
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_has_the_layout_and_digest_java_checks() {
        let store = trusting("ca", &[0x30, 0x03, 1, 2, 3]);
        assert_eq!(
            &store[..12],
            &[0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 1]
        );
        let (body, digest) = store.split_at(store.len() - 20);
        let mut again = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
        for unit in "changeit".encode_utf16() {
            again.update(&unit.to_be_bytes());
        }
        again.update(b"Mighty Aphrodite");
        again.update(body);
        assert_eq!(digest, again.finish().as_ref());
        assert!(body.ends_with(&[0, 0, 0, 5, 0x30, 0x03, 1, 2, 3]));
    }
}
