//! Hard-coded ports, addresses and names on a shared loopback.
//!
//! With a network namespace per scenario ([`super::isolation`]) a program that hard-codes
//! port 12000, a lab machine's address or a made-up server name needs nothing: the port is
//! free in every scenario and every address and name leads to the harness. Without one (a
//! platform's container: no `CAP_SYS_ADMIN`, no user namespaces), every scenario shares this
//! machine's loopback. There the interposed library (`harness/short-calls`, its `redirect`
//! module) moves the program's own calls instead: its `bind` to 12000 binds a free port the
//! harness chose, its `connect` and `sendto` to 12000 go to the loopback at the port of the
//! peer the scenario gives it, and every name it looks up answers the loopback. Two
//! scenarios never meet on a port, and nothing waits for `TIME_WAIT`.
//!
//! The library appends what it moved to a file of the program's sandbox folder
//! (`bind 12000>41234`), which the report shows ([`read_marks`]).

use std::path::{Path, PathBuf};

/// What a child process gets: the library, and the redirections its setting lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirection {
    /// The built interposed library (`libshort_calls.so`).
    pub library: PathBuf,
    /// `(hard-coded port, where it leads)`.
    pub ports: Vec<(u16, u16)>,
}

impl Redirection {
    /// `SOCKET_LAB_REDIRECT`'s value: `port=12000>41234,names=1`, and `mark=PATH` and
    /// `count=PATH` for the files of [`Files::in_folder`] when their paths can be passed.
    pub fn setting(&self, files: Option<&Files>) -> String {
        let mut words: Vec<String> = self
            .ports
            .iter()
            .map(|(from, to)| format!("port={from}>{to}"))
            .collect();
        words.push("names=1".into());
        if let Some(files) = files {
            words.push(format!("mark={}", files.marks.display()));
            words.push(format!("count={}", files.attempts.display()));
        }
        words.join(",")
    }

    /// For the step log: `port 12000 → 41234, names → 127.0.0.1`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .ports
            .iter()
            .map(|(from, to)| format!("port {from} → {to}"))
            .collect();
        parts.push("names → 127.0.0.1".into());
        parts.join(", ")
    }
}

/// The files the library writes for the harness, in a program's sandbox folder.
#[derive(Debug, Clone)]
pub struct Files {
    /// One line per redirection made ([`read_marks`]).
    marks: PathBuf,
    /// A byte per TCP `connect` ([`attempts`]).
    attempts: PathBuf,
}

impl Files {
    /// The files in `folder`; `None` when its path cannot be passed in the setting (it is
    /// not UTF-8, or has a comma).
    pub fn in_folder(folder: &Path) -> Option<Files> {
        folder.to_str().filter(|path| !path.contains(','))?;
        Some(Files {
            marks: folder.join("redirected"),
            attempts: folder.join("connect-attempts"),
        })
    }

    /// What the library moved so far (`bind 12000>41234`; see [`read_marks`]).
    pub fn redirections(&self) -> Vec<String> {
        read_marks(&self.marks)
    }

    /// How many times the program has connected a TCP socket so far.
    pub fn attempts(&self) -> u64 {
        attempts(&self.attempts)
    }
}

/// The environment variable the library reads.
pub const VARIABLE: &str = "SOCKET_LAB_REDIRECT";

/// The most redirections one program is given (the library's table).
pub const MOST_PORTS: usize = 8;

/// What the library wrote to `marks`: one line per redirection made (`bind 12000>41234`,
/// `connect 12000>41234`, `name`), each once. The program may have put anything there: a
/// link is not followed, a FIFO not waited for (`O_NOFOLLOW | O_NONBLOCK`), only a regular
/// file is read, up to 4 KiB, and its lines are checked against the library's words, so a
/// program cannot put its own text in the report.
pub fn read_marks(marks: &Path) -> Vec<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(marks)
    else {
        return Vec::new();
    };
    if !file.metadata().is_ok_and(|meta| meta.is_file()) {
        return Vec::new();
    }
    let mut text = String::new();
    if file.take(4096).read_to_string(&mut text).is_err() {
        return Vec::new();
    }
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        if well_formed(line) && !lines.iter().any(|known| known == line) {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// The size of the attempts file: a byte per `connect`. A link or anything but a regular
/// file the program may have put there counts nothing.
pub fn attempts(file: &Path) -> u64 {
    std::fs::symlink_metadata(file)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map_or(0, |meta| meta.len())
}

fn well_formed(line: &str) -> bool {
    if line == "name" {
        return true;
    }
    let Some((verb, ports)) = line.split_once(' ') else {
        return false;
    };
    let Some((from, to)) = ports.split_once('>') else {
        return false;
    };
    matches!(verb, "bind" | "connect" | "send")
        && from.parse::<u16>().is_ok()
        && to.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_lists_ports_names_and_the_marks_file() {
        let redirection = Redirection {
            library: PathBuf::from("/kit/libshort_calls.so"),
            ports: vec![(12000, 41234), (993, 41240)],
        };
        let files = Files::in_folder(Path::new("/run/x")).expect("a plain path");
        assert_eq!(
            redirection.setting(Some(&files)),
            "port=12000>41234,port=993>41240,names=1,mark=/run/x/redirected,count=/run/x/connect-attempts"
        );
        assert!(Files::in_folder(Path::new("/a,b")).is_none());
        assert_eq!(
            redirection.setting(None),
            "port=12000>41234,port=993>41240,names=1"
        );
    }

    #[test]
    fn only_the_librarys_own_lines_are_read_back() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let marks = folder.path().join("redirected");
        std::fs::write(
            &marks,
            "bind 12000>41234\nname\nbind 12000>41234\n\u{1b}[31mforged\nsend 1>x\n",
        )
        .expect("written");
        assert_eq!(read_marks(&marks), ["bind 12000>41234", "name"]);
        let link = folder.path().join("link");
        std::os::unix::fs::symlink(&marks, &link).expect("a link");
        assert!(read_marks(&link).is_empty());
        // A FIFO is not waited for.
        let fifo = folder.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(read_marks(&fifo).is_empty());
    }
}
