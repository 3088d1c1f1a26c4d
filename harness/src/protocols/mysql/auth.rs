//! The two password methods a MySQL client answers the greeting's salt with: the
//! password itself never crosses, only a hash of it mixed with the salt, which the server
//! computes the same way from the password it knows.

/// `SHA1(password) XOR SHA1(salt + SHA1(SHA1(password)))`: what a client sends for
/// `mysql_native_password`.
pub(in crate::protocols) fn native_scramble(password: &str, salt: &[u8]) -> Vec<u8> {
    use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY as SHA1, digest};
    let once = digest(&SHA1, password.as_bytes());
    let twice = digest(&SHA1, once.as_ref());
    let mut salted = salt.to_vec();
    salted.extend_from_slice(twice.as_ref());
    let mixed = digest(&SHA1, &salted);
    once.as_ref()
        .iter()
        .zip(mixed.as_ref())
        .map(|(a, b)| a ^ b)
        .collect()
}

/// `SHA256(password) XOR SHA256(SHA256(SHA256(password)) + salt)`: what a client sends
/// for `caching_sha2_password`'s fast path.
pub(in crate::protocols) fn sha2_scramble(password: &str, salt: &[u8]) -> Vec<u8> {
    use ring::digest::{SHA256, digest};
    let once = digest(&SHA256, password.as_bytes());
    let twice = digest(&SHA256, once.as_ref());
    let mut salted = twice.as_ref().to_vec();
    salted.extend_from_slice(salt);
    let mixed = digest(&SHA256, &salted);
    once.as_ref()
        .iter()
        .zip(mixed.as_ref())
        .map(|(a, b)| a ^ b)
        .collect()
}

/// Whether a handshake's answer logs `user` in as the account, and the method the answer
/// used, told by its length: 20 bytes (SHA-1) or 32 (SHA-256). The user is as the
/// handshake carries it, up to its NUL ([`crate::protocols::accounts`]); an empty answer
/// is a login without a password, which the account (it has one) refuses.
pub(in crate::protocols) fn scramble_login(
    user: &str,
    salt: &[u8],
    answer: &[u8],
    account_user: &str,
    account_password: &str,
) -> (super::AuthPlugin, bool) {
    let salt = &salt[..salt.len().min(20)];
    let (method, right) = match answer.len() {
        32 => (
            super::AuthPlugin::CachingSha2Password,
            answer == sha2_scramble(account_password, salt),
        ),
        _ => (
            super::AuthPlugin::MysqlNativePassword,
            answer == native_scramble(account_password, salt) && !answer.is_empty(),
        ),
    };
    (method, right && user == account_user)
}
