//! The files that point a program's resolver at the harness's DNS.
//!
//! glibc's resolver (and so Python's `socket.getaddrinfo`, curl, `getent`), Go's and
//! Java's read `/etc/resolv.conf` for the servers to ask and `/etc/hosts` for names known
//! without asking. Inside a scenario the harness's DNS pack answers on port 53
//! of the loopback, so the program's view of `/etc` holds these two files instead of the
//! grader's machine's (the sandbox's file view bind-mounts them; resolv.conf(5), hosts(5)).

use std::io;
use std::path::{Path, PathBuf};

/// `resolv.conf`: both loopbacks (a program may have IPv4 or IPv6 only), and a short
/// timeout with two attempts, so a program that looks up a name while the harness's DNS
/// is not there fails in about two seconds rather than the default thirty.
pub(crate) const RESOLV_CONF: &str = "\
# Written by the harness: its DNS answers every name (see the report's step log).
nameserver 127.0.0.1
nameserver ::1
options timeout:1 attempts:2
";

/// `hosts`: the names every system knows without asking.
pub(crate) const HOSTS: &str = "\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
";

/// Writes `resolv.conf` and `hosts` into `dir` and returns, for each, where it belongs
/// under `/etc` and the file written: `(/etc/resolv.conf, dir/resolv.conf)`.
pub fn resolver_files(dir: &Path) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    [("resolv.conf", RESOLV_CONF), ("hosts", HOSTS)]
        .into_iter()
        .map(|(name, text)| {
            let file = dir.join(name);
            std::fs::write(&file, text)?;
            Ok((Path::new("/etc").join(name), file))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_written_and_named_by_their_place_under_etc() {
        let dir = tempfile::tempdir().unwrap();
        let files = resolver_files(dir.path()).unwrap();
        let places: Vec<&Path> = files.iter().map(|(place, _)| place.as_path()).collect();
        assert_eq!(
            places,
            [Path::new("/etc/resolv.conf"), Path::new("/etc/hosts")]
        );
        let resolv = std::fs::read_to_string(&files[0].1).unwrap();
        assert!(resolv.contains("nameserver 127.0.0.1\nnameserver ::1\n"));
        assert!(
            std::fs::read_to_string(&files[1].1)
                .unwrap()
                .contains("localhost")
        );
    }
}
