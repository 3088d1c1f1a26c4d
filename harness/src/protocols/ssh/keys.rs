//! The SSH server peer's host key and the `~/.ssh/known_hosts` its clients find.
//!
//! The host key is an ed25519 key whose 32-byte seed is SHA-256 of the scenario's
//! `host_key` text: the same scenario presents the same key on every run (a report can
//! quote its fingerprint), and two scenarios with different texts present different keys.
//! A changed key is the key of the text with `/changed` appended.

use russh::keys::ssh_key::private::{Ed25519Keypair, KeypairData};
use russh::keys::{PrivateKey, PublicKey};

use super::KnownHosts;

/// The host key of `seed_text`.
pub(super) fn host_key(seed_text: &str) -> PrivateKey {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("socket-lab ssh host key\0{seed_text}").as_bytes(),
    );
    let mut seed = [0u8; 32];
    seed.copy_from_slice(digest.as_ref());
    let pair = Ed25519Keypair::from_seed(&seed);
    PrivateKey::new(KeypairData::Ed25519(pair), "harness ssh peer")
        .expect("an ed25519 key pair is a private key")
}

/// `ssh-ed25519 AAAA...` of a key, without a comment.
pub(super) fn public_line(key: &PublicKey) -> String {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh()
        .expect("an ed25519 key encodes")
        .trim()
        .to_owned()
}

/// The name OpenSSH and paramiko look a server up by: `host` on port 22, else
/// `[host]:port`.
pub(super) fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The text of the program's `~/.ssh/known_hosts` for a server at `host:port` whose host
/// key comes from `seed_text`. Every variant holds a line for another host, so the file
/// exists (a program that loads it by name does not fail for a missing file).
pub(super) fn known_hosts(seed_text: &str, mode: KnownHosts, host: &str, port: u16) -> String {
    let other = host_key(&format!("{seed_text}/another host"));
    let mut text = format!(
        "# written by the harness for this scenario\nbackup.example.org {}\n",
        public_line(other.public_key())
    );
    let name = lookup_name(host, port);
    match mode {
        KnownHosts::Right => {
            let key = host_key(seed_text);
            text += &format!("{name} {}\n", public_line(key.public_key()));
        }
        KnownHosts::Changed => {
            let key = host_key(&format!("{seed_text}/changed"));
            text += &format!("{name} {}\n", public_line(key.public_key()));
        }
        KnownHosts::None => {}
    }
    text
}

/// A line of `authorized_keys` (`ssh-ed25519 AAAA... comment`), as a key.
pub(super) fn parse_authorized(line: &str) -> Result<PublicKey, String> {
    PublicKey::from_openssh(line.trim()).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_gives_the_same_key_and_another_text_another() {
        let one = host_key("ssh-info/01");
        assert_eq!(
            public_line(one.public_key()),
            public_line(host_key("ssh-info/01").public_key())
        );
        assert_ne!(
            public_line(one.public_key()),
            public_line(host_key("ssh-info/01/changed").public_key())
        );
        assert!(public_line(one.public_key()).starts_with("ssh-ed25519 AAAA"));
    }

    #[test]
    fn known_hosts_names_the_port_unless_22() {
        let right = known_hosts("s", KnownHosts::Right, "127.0.0.1", 40022);
        let key = public_line(host_key("s").public_key());
        assert!(
            right.contains(&format!("\n[127.0.0.1]:40022 {key}\n")),
            "{right}"
        );
        let on_22 = known_hosts("s", KnownHosts::Right, "127.0.0.1", 22);
        assert!(on_22.contains(&format!("\n127.0.0.1 {key}\n")), "{on_22}");
        let none = known_hosts("s", KnownHosts::None, "127.0.0.1", 40022);
        assert!(!none.contains("127.0.0.1"), "{none}");
        let changed = known_hosts("s", KnownHosts::Changed, "127.0.0.1", 40022);
        assert!(changed.contains("[127.0.0.1]:40022 ssh-ed25519"));
        assert!(!changed.contains(&key));
    }
}
