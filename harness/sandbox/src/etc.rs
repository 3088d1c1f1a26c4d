//! The files of `/etc` a program's view gets from the harness instead of the machine:
//! the small internet's resolver, and the test CA as the only authority it trusts.
//!
//! | path in the view | what | why |
//! |---|---|---|
//! | `/etc/resolv.conf` | `nameserver 127.0.0.1`, `nameserver ::1` ([`crate::resolver`]) | every name a program looks up is asked of the scenario's DNS peer, in its own network namespace |
//! | `/etc/hosts` | `localhost` only | the machine's own names (`grader-7`) mean nothing inside a scenario |
//! | `/etc/nsswitch.conf` | the machine's, with `hosts: files dns` | no multicast-DNS or `systemd-resolved` module that would look elsewhere |
//! | `/etc/ssl/certs/` | `ca-certificates.crt`: the harness's test CA alone | `ssl.create_default_context()`, OpenSSL, curl and Go verify against it: a peer's certificate for `smtp.example.com` verifies, nothing else does |
//! | `/etc/ssl/certs/java/cacerts` | the same CA, as a JKS store (`super::java_store`) | Java reads its own store, not the bundle: `SSLSocketFactory` and JavaMail verify against it |
//! | `/etc/ssl/cert.pem`, `/etc/pki/tls/...` | the same CA, where the machine has these files | other distributions' paths to the same store |
//!
//! The files are written into each program's sandbox folder, and go with it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Other places of the system's trusted certificates, replaced where they exist.
const OTHER_STORES: [&str; 4] = [
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/tls/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// What of the machine's `/etc` the view replaces, read once per harness process rather
/// than at every program's start.
struct Machine {
    /// Its `nsswitch.conf` with the hosts line made plain, where it has one.
    nsswitch: Option<String>,
    /// Whether it has an `/etc/ssl/certs` folder.
    certs_folder: bool,
    /// Which of [`OTHER_STORES`] it has.
    other_stores: Vec<&'static str>,
}

fn machine() -> &'static Machine {
    static MACHINE: OnceLock<Machine> = OnceLock::new();
    MACHINE.get_or_init(|| Machine {
        nsswitch: std::fs::read_to_string("/etc/nsswitch.conf")
            .ok()
            .map(|text| nsswitch_with_plain_hosts(&text)),
        certs_folder: Path::new("/etc/ssl/certs").is_dir(),
        other_stores: OTHER_STORES
            .into_iter()
            .filter(|other| Path::new(other).is_file())
            .collect(),
    })
}

/// Java's trust store [`write_into`] writes into `folder` (where a CA is given).
pub(crate) fn java_store_in(folder: &Path) -> PathBuf {
    folder.join("certs/java/cacerts")
}

/// The bundle [`write_into`] writes into `folder`.
pub(crate) fn bundle_in(folder: &Path) -> PathBuf {
    folder.join("certs/ca-certificates.crt")
}

/// The machine's `nsswitch.conf` with its `hosts:` line made `files dns`.
fn nsswitch_with_plain_hosts(machine: &str) -> String {
    let mut text: String = machine
        .lines()
        .filter(|line| !line.trim_start().starts_with("hosts:"))
        .map(|line| format!("{line}\n"))
        .collect();
    text.push_str("hosts: files dns\n");
    text
}

/// Writes the files into `folder` and says what the view puts over the machine's `/etc`:
/// (path in the view, file written). `ca_file` is the test CA (PEM) the program's system is
/// to trust alone; without one it trusts none.
pub(crate) fn write_into(
    folder: &Path,
    ca_file: Option<&Path>,
) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    std::fs::create_dir_all(folder)?;
    // `resolv.conf` (the DNS pack on both loopbacks) and `hosts` (`localhost` only).
    let mut replaced = crate::resolver::resolver_files(folder)?;
    let machine = machine();
    if let Some(nsswitch) = &machine.nsswitch {
        std::fs::write(folder.join("nsswitch.conf"), nsswitch)?;
        replaced.push((
            PathBuf::from("/etc/nsswitch.conf"),
            folder.join("nsswitch.conf"),
        ));
    }
    let store = folder.join("certs");
    std::fs::create_dir_all(&store)?;
    let bundle = bundle_in(folder);
    match ca_file {
        Some(ca_file) => std::fs::copy(ca_file, &bundle).map(drop)?,
        None => std::fs::write(&bundle, "")?,
    }
    // Java's store, where Debian's link from `$JAVA_HOME/lib/security/cacerts` leads.
    if let Some(ca) = ca_file.and_then(first_certificate) {
        let java = java_store_in(folder);
        std::fs::create_dir_all(java.parent().expect("a file of a folder"))?;
        std::fs::write(java, super::java_store::trusting("socket-lab-test-ca", &ca))?;
    }
    if machine.certs_folder {
        replaced.push((PathBuf::from("/etc/ssl/certs"), store));
    }
    for other in &machine.other_stores {
        replaced.push((PathBuf::from(other), bundle.clone()));
    }
    Ok(replaced)
}

/// The first certificate of a PEM file, DER-encoded (`None`: none could be read).
fn first_certificate(pem_file: &Path) -> Option<Vec<u8>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let first = CertificateDer::pem_file_iter(pem_file).ok()?.next()?.ok()?;
    Some(first.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_line_asks_files_then_dns_only() {
        let machine = "passwd: files\nhosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\nnetworks: files\n";
        let made = nsswitch_with_plain_hosts(machine);
        assert_eq!(made, "passwd: files\nnetworks: files\nhosts: files dns\n");
    }

    #[test]
    fn the_store_holds_the_test_ca_alone() {
        let ca = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca.path(), "-----BEGIN CERTIFICATE-----\n").unwrap();
        let folder = tempfile::tempdir().unwrap();
        let replaced = write_into(folder.path(), Some(ca.path())).unwrap();
        let resolver = replaced
            .iter()
            .find(|(path, _)| path == Path::new("/etc/resolv.conf"))
            .unwrap();
        let text = std::fs::read_to_string(&resolver.1).unwrap();
        assert!(text.contains("nameserver 127.0.0.1"), "{text}");
        if let Some((_, store)) = replaced
            .iter()
            .find(|(path, _)| path == Path::new("/etc/ssl/certs"))
        {
            let names: Vec<_> = std::fs::read_dir(store)
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            assert_eq!(names, ["ca-certificates.crt"]);
            let bundle = std::fs::read_to_string(store.join("ca-certificates.crt")).unwrap();
            assert_eq!(bundle, "-----BEGIN CERTIFICATE-----\n");
        }
    }
}
