//! `~/.ssh/known_hosts`: the host keys this user has decided to trust, one per line.
//!
//! What SSH's key exchange proves (RFC 4253 §8) is only that the server holds the private
//! half of the host key it sent; whether that key is the *right* one for the name typed
//! is the client's question, answered from a local database (RFC 4251 §4.1: "the client
//! has a local database that associates each host name with the corresponding public
//! host key"). OpenSSH's is this file (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
//!
//! ```text
//! # comment
//! server.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI...     port 22: the bare name
//! [127.0.0.1]:2222,[localhost]:2222 ssh-ed25519 AAAAC3Nz...      another port: [host]:port
//! |1|salt-base64|hmac-sha1-base64 ssh-rsa AAAAB3NzaC1yc2E...       a hashed name (ssh-keygen -H)
//! !bad.example.org ssh-ed25519 AAAA...                             a negated pattern
//! @revoked * ssh-ed25519 AAAA...                                   a marker (not read here)
//! ```
//!
//! Three answers, and only one lets the client go on to authenticate:
//!
//! | found | meaning | what to do |
//! |---|---|---|
//! | an entry for the name with the same key | the known server | go on |
//! | entries for the name, none with this key (of its type) | **changed**: a new server, or someone in the middle | refuse, loudly |
//! | no entry for the name | **unknown**: a first contact | refuse; the user checks the key's fingerprint out of band and adds it (`ssh-keyscan`, or `ssh` once by hand) |
//!
//! paramiko's `AutoAddPolicy` (and `StrictHostKeyChecking=no`) turns "unknown" into "go
//! on" and writes the key down: the very first connection, the one an attacker in the
//! middle would take, is trusted blindly, and the password is sent to whoever answered.

use std::path::Path;

use base64::Engine;
use russh::keys::PublicKey;

/// What the database says of a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// An entry for the name holds this very key.
    Known,
    /// Entries for the name hold other keys of the same type: line numbers (1-based).
    Changed(Vec<usize>),
    /// No entry for the name holds a key of this type.
    Unknown,
}

/// The name a host is looked up by: `host` on port 22, `[host]:port` on any other
/// (OpenSSH's convention, which paramiko follows).
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Looks `key` up for `host:port` in the file at `path`; a missing file knows nobody.
pub fn check_file(path: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<Verdict> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(check(&text, host, port, key)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Verdict::Unknown),
        Err(error) => Err(error),
    }
}

/// Looks `key` up for `host:port` in the text of a known_hosts file.
pub fn check(text: &str, host: &str, port: u16, key: &PublicKey) -> Verdict {
    let name = lookup_name(host, port);
    let offered_type = key.algorithm().to_string();
    let offered = key.to_openssh().unwrap_or_default();
    // The key's own part, without its comment: `ssh-ed25519 AAAA...`.
    let offered_blob = offered.split_whitespace().nth(1).unwrap_or_default();
    let mut changed = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let Some(hosts) = words.next() else { continue };
        // Comments, and markers (`@cert-authority`, `@revoked`), which this client does
        // not implement: a marked line is never taken for a plain entry.
        if hosts.starts_with('#') || hosts.starts_with('@') {
            continue;
        }
        let (Some(key_type), Some(blob)) = (words.next(), words.next()) else {
            continue;
        };
        if !names_match(hosts, &name) {
            continue;
        }
        if key_type != offered_type {
            // A key of another type for this name says nothing about this one (OpenSSH
            // then asks, as for an unknown host).
            continue;
        }
        if blob == offered_blob {
            return Verdict::Known;
        }
        changed.push(index + 1);
    }
    if changed.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Changed(changed)
    }
}

/// Whether the first field of a line (`a,b,[c]:2222`, `|1|salt|hash`, `!x`, `*.example`)
/// names `name`. A negated pattern that matches wins over every other.
fn names_match(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let mut matched = false;
    for pattern in field.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard(negated, name) => return false,
            Some(_) => {}
            None => matched |= wildcard(pattern, name),
        }
    }
    matched
}

/// `|1|SALT|HASH`: HASH is HMAC-SHA1 of the name, keyed with SALT (both base64): the
/// file does not say which hosts this user visits.
fn hashed_match(hashed: &str, name: &str) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (engine.decode(salt), engine.decode(hash)) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok()
}

/// A host pattern with `*` (any run) and `?` (one character), case-insensitive as names are.
fn wildcard(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    // Classic two-pointer glob matching with one backtrack point.
    let (mut p, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(star) = star {
            p = star + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKm3U9ZdgoJl7GC1uOu1I3OhInB0C4WdgSd5uA3nDM9d";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJwZypIk+4xytFgVhPd68p2MGVCTL1f6VSMBRLIV0jps";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).unwrap()
    }

    #[test]
    fn the_name_is_bracketed_with_its_port_but_for_22() {
        assert_eq!(lookup_name("127.0.0.1", 22), "127.0.0.1");
        assert_eq!(lookup_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn known_changed_and_unknown() {
        let file = format!("# mine\n[127.0.0.1]:2222 {KEY_A}\nother.example {KEY_B}\n");
        assert_eq!(check(&file, "127.0.0.1", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(
            check(&file, "127.0.0.1", 2222, &key(KEY_B)),
            Verdict::Changed(vec![2])
        );
        // The same address on another port is another entry.
        assert_eq!(check(&file, "127.0.0.1", 22, &key(KEY_A)), Verdict::Unknown);
        assert_eq!(check("", "127.0.0.1", 2222, &key(KEY_A)), Verdict::Unknown);
    }

    #[test]
    fn lists_wildcards_negation_and_markers() {
        let file = format!(
            "a.example,[h]:2222 {KEY_A}\n*.lab.example,!bad.lab.example {KEY_B}\n@revoked h {KEY_A}\n"
        );
        assert_eq!(check(&file, "h", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(
            check(&file, "x.lab.example", 22, &key(KEY_B)),
            Verdict::Known
        );
        assert_eq!(
            check(&file, "bad.lab.example", 22, &key(KEY_B)),
            Verdict::Unknown
        );
        assert_eq!(check(&file, "h", 22, &key(KEY_A)), Verdict::Unknown);
    }

    #[test]
    fn hashed_names_match_their_host_only() {
        // `ssh-keygen -H` of "[127.0.0.1]:2222", salt 20 bytes of 0x01.
        let salt = [1u8; 20];
        let engine = base64::engine::general_purpose::STANDARD;
        let hmac = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let tag = ring::hmac::sign(&hmac, b"[127.0.0.1]:2222");
        let field = format!("|1|{}|{}", engine.encode(salt), engine.encode(tag.as_ref()));
        let file = format!("{field} {KEY_A}\n");
        assert_eq!(check(&file, "127.0.0.1", 2222, &key(KEY_A)), Verdict::Known);
        assert_eq!(
            check(&file, "127.0.0.1", 2223, &key(KEY_A)),
            Verdict::Unknown
        );
    }
}
