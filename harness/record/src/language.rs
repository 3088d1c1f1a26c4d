//! Which language a program is written in, read from its command line, so that a hint
//! speaks its idiom: `fflush(stdout)` to a C program, `System.out.flush()` to a Java one,
//! `flush=True` to a Python one. The kit grades any language; its scenarios' own hints are
//! written for Python, what most students submit.
//!
//! The first word decides when it names an interpreter (`python3 server.py`, `java -jar
//! server.jar`); otherwise the program file does: its extension (`server.py`), else its
//! first bytes, an ELF header (compiled: C, C++, Rust, Go...) or a `#!` line naming the
//! interpreter.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A language whose idioms the hints know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// `python3 server.py`, `server.py`, or a `#!/usr/bin/env python3` script.
    Python,
    /// `java Server`, `java -jar server.jar`.
    Java,
    /// `node server.js`.
    JavaScript,
    /// `sh server.sh`, `bash`, a `#!/bin/sh` script.
    Shell,
    /// An ELF binary: compiled C or C++ in a socket lab, most of the time (C's idioms are
    /// the ones its hints use).
    Native,
}

impl Language {
    /// The language of the program a command line runs, if it can tell.
    pub fn of_command_line(command_line: &str) -> Option<Language> {
        let words = shell_words::split(command_line).ok()?;
        Language::of_words(&words)
    }

    /// The language of the program `words` (a command line, split) runs.
    pub fn of_words(words: &[String]) -> Option<Language> {
        let (first, rest) = words.split_first()?;
        if is_wrapper(first) {
            // `env python3 server.py`, `stdbuf -o0 ./server`: the program comes later.
            let after_options = rest
                .iter()
                .position(|word| !word.starts_with('-') && !word.contains('='))?;
            return Language::of_words(&rest[after_options..]);
        }
        Language::of_interpreter(first).or_else(|| Language::of_file(Path::new(first)))
    }

    /// The language an interpreter's name stands for: `python3.12`, `/usr/bin/java`.
    fn of_interpreter(word: &str) -> Option<Language> {
        let name = Path::new(word).file_name()?.to_str()?;
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        match base {
            "python" | "pypy" => Some(Language::Python),
            "java" => Some(Language::Java),
            "node" | "nodejs" | "deno" | "bun" => Some(Language::JavaScript),
            "sh" | "bash" | "dash" | "zsh" | "ksh" => Some(Language::Shell),
            _ => None,
        }
    }

    /// The language of a program file: its extension, else its first bytes.
    fn of_file(path: &Path) -> Option<Language> {
        let by_extension = match path.extension().and_then(|extension| extension.to_str()) {
            Some("py" | "pyw") => Some(Language::Python),
            Some("jar" | "class" | "java") => Some(Language::Java),
            Some("js" | "mjs" | "cjs") => Some(Language::JavaScript),
            Some("sh" | "bash") => Some(Language::Shell),
            _ => None,
        };
        by_extension.or_else(|| Language::of_first_bytes(path))
    }

    /// An ELF binary, or a script whose `#!` line names its interpreter.
    fn of_first_bytes(path: &Path) -> Option<Language> {
        let mut start = [0u8; 256];
        let mut file = std::fs::File::open(path).ok()?;
        let read = file.read(&mut start).ok()?;
        let start = &start[..read];
        if start.starts_with(b"\x7fELF") {
            return Some(Language::Native);
        }
        let shebang = start.strip_prefix(b"#!")?;
        let line = shebang.split(|byte| *byte == b'\n').next()?;
        let words: Vec<String> = String::from_utf8_lossy(line)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let (interpreter, rest) = words.split_first()?;
        if is_wrapper(interpreter) {
            let program = rest.iter().find(|word| !word.starts_with('-'))?;
            return Language::of_interpreter(program);
        }
        Language::of_interpreter(interpreter)
    }
}

/// Programs that run another one: the language is that one's.
fn is_wrapper(word: &str) -> bool {
    let name = Path::new(word)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(word);
    matches!(name, "env" | "stdbuf" | "timeout" | "nice" | "exec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_and_extensions_name_the_language() {
        let cases = [
            ("python3 /sub/server.py 2000", Some(Language::Python)),
            ("/usr/bin/python3.12 -u server.py", Some(Language::Python)),
            ("/sub/message-server.py 2000", Some(Language::Python)),
            ("java -jar /sub/server.jar 2000", Some(Language::Java)),
            ("java Server 2000", Some(Language::Java)),
            ("node server.js 2000", Some(Language::JavaScript)),
            ("sh /sub/message-server.sh 2000", Some(Language::Shell)),
            (
                "env PYTHONIOENCODING=utf-8 python3 server.py",
                Some(Language::Python),
            ),
            ("/nowhere/message-server 2000", None),
            ("", None),
        ];
        for (command_line, language) in cases {
            assert_eq!(
                Language::of_command_line(command_line),
                language,
                "{command_line}"
            );
        }
    }

    #[test]
    fn a_file_without_extension_is_read_elf_or_shebang() {
        let folder = tempfile::tempdir().unwrap();
        let elf = folder.path().join("message-server");
        std::fs::write(&elf, b"\x7fELF\x02\x01\x01\0rest of a binary").unwrap();
        let script = folder.path().join("message-client");
        std::fs::write(&script, "#!/usr/bin/env python3\nimport socket\n").unwrap();
        let shell = folder.path().join("upper-server");
        std::fs::write(&shell, "#!/bin/bash\nexec nc -l \"$1\"\n").unwrap();
        let command = |path: &Path| format!("{} 2000", path.display());
        assert_eq!(
            Language::of_command_line(&command(&elf)),
            Some(Language::Native)
        );
        assert_eq!(
            Language::of_command_line(&command(&script)),
            Some(Language::Python)
        );
        assert_eq!(
            Language::of_command_line(&command(&shell)),
            Some(Language::Shell)
        );
    }
}
