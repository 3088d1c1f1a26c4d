//! Whether a program about to be run can have the library: the check [`exec`](super::exec)
//! makes before it runs one while the scenario cuts socket calls.
//!
//! `LD_PRELOAD` is read by the dynamic loader, and only a dynamically linked program has
//! one (its ELF file names it in a `PT_INTERP` program header). A statically linked
//! program (Go's default, `gcc -static`, musl builds) starts with no loader, so the library
//! is not in it however the environment reads, and its `send()` calls are whole again: a
//! program could hand its sending to one and pass the scenarios made to catch an unchecked
//! `send()`. The harness refuses such a program before it starts (and says the check could
//! not be applied); this is the same rule for what a program runs while it is graded. An
//! ELF file of another class or machine than the library (a 32-bit program) cannot load it
//! either. A `#!` script is judged by its interpreter, as the kernel runs it (four levels
//! at most, as the kernel allows).
//!
//! Everything here runs inside the program, maybe in a `vfork` child: raw system calls and
//! buffers on the stack only, nothing allocated.

use core::ffi::{CStr, c_char};

use libc::{c_int, c_long};

use super::raw::kernel;

/// Why a program cannot have the library, for the line said on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// An ELF file without a dynamic loader.
    Static,
    /// An ELF file of another class or machine than the library's.
    OtherMachine,
    /// A file the library cannot read, so cannot judge (a program is always readable).
    Unreadable,
}

impl Refusal {
    pub(crate) fn words(self) -> &'static [u8] {
        match self {
            Refusal::Static => {
                b"it is statically linked, so no dynamic loader puts the library in it"
            }
            Refusal::OtherMachine => {
                b"it is built for another machine or word size than the library"
            }
            Refusal::Unreadable => {
                b"it cannot be read, so nothing can show the library would be in it"
            }
        }
    }
}

/// The ELF class and machine of the library itself.
const OWN_CLASS: u8 = if cfg!(target_pointer_width = "64") {
    2
} else {
    1
};
#[cfg(target_arch = "x86_64")]
const OWN_MACHINE: u16 = 62;
#[cfg(target_arch = "aarch64")]
const OWN_MACHINE: u16 = 183;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const OWN_MACHINE: u16 = 0;

/// `PT_INTERP`: the program header naming the dynamic loader.
const PT_INTERP: u32 = 3;
/// The most program headers looked through.
const MOST_HEADERS: u16 = 256;
/// The longest `#!` line read (the kernel reads 256 bytes).
const SHEBANG_BYTES: usize = 256;
/// How deep `#!` interpreters nest before the kernel gives up.
const MOST_SCRIPT_LEVELS: usize = 4;

/// Judges the program `path` names, relative to `dirfd` (`AT_FDCWD`: the working folder);
/// with an empty `path`, `dirfd` itself (`fexecve`, `execveat` with `AT_EMPTY_PATH`).
/// `None`: it can have the library, or it does not exist (the real call then says so).
///
/// # Safety
///
/// `path` is a NUL-terminated string.
pub(crate) unsafe fn refusal(dirfd: c_int, path: *const c_char) -> Option<Refusal> {
    // SAFETY: the caller's NUL-terminated path.
    let path = unsafe { CStr::from_ptr(path) }.to_bytes_with_nul();
    let mut name = [0u8; SHEBANG_BYTES + 1];
    let mut next = [0u8; SHEBANG_BYTES + 1];
    let mut current_len = path.len().min(name.len());
    if path.len() > name.len() {
        // Longer than any `#!` line: judged where it is, with the caller's buffer.
        return judge_opened(open_for_reading(dirfd, path)?, &mut next).refused();
    }
    name[..current_len].copy_from_slice(&path[..current_len]);
    let mut dirfd = dirfd;
    for _ in 0..=MOST_SCRIPT_LEVELS {
        let opened = open_for_reading(dirfd, &name[..current_len])?;
        match judge_opened(opened, &mut next) {
            Judged::Script(length) => {
                name[..length].copy_from_slice(&next[..length]);
                current_len = length;
                dirfd = libc::AT_FDCWD;
            }
            other => return other.refused(),
        }
    }
    // Deeper than the kernel goes: it refuses the program itself.
    None
}

/// What one file is.
enum Judged {
    Fine,
    Refused(Refusal),
    /// A `#!` script: its interpreter's path, NUL-terminated, is the first `usize` bytes of
    /// the buffer.
    Script(usize),
}

impl Judged {
    fn refused(self) -> Option<Refusal> {
        match self {
            Judged::Refused(refusal) => Some(refusal),
            Judged::Fine | Judged::Script(_) => None,
        }
    }
}

/// A program file to judge.
enum Opened {
    /// Opened here: closed once judged.
    Own(c_int),
    /// The caller's own descriptor (`fexecve`): read, never closed.
    Given(c_int),
    /// There, but not readable (an execute-only file, a folder it may not read).
    Unreadable,
}

/// Opens `path` (NUL-terminated) relative to `dirfd`; `None` when there is nothing to judge
/// (no such file: the real call says so). An empty path is `dirfd` itself.
fn open_for_reading(dirfd: c_int, path: &[u8]) -> Option<Opened> {
    if path.len() <= 1 {
        return Some(Opened::Given(dirfd));
    }
    // SAFETY: a NUL-terminated name.
    let fd = unsafe {
        kernel(
            libc::SYS_openat,
            c_long::from(dirfd),
            path.as_ptr() as c_long,
            c_long::from(libc::O_RDONLY | libc::O_CLOEXEC),
            0,
            0,
        )
    };
    if fd >= 0 {
        return Some(Opened::Own(fd as c_int));
    }
    match super::errno() {
        libc::ENOENT | libc::ENOTDIR | libc::ENAMETOOLONG | libc::ELOOP => None,
        _ => Some(Opened::Unreadable),
    }
}

/// Judges an opened program file, closing it if it was opened here.
fn judge_opened(opened: Opened, name: &mut [u8; SHEBANG_BYTES + 1]) -> Judged {
    match opened {
        Opened::Unreadable => Judged::Refused(Refusal::Unreadable),
        Opened::Given(fd) => judge_file(fd, name),
        Opened::Own(fd) => {
            let judged = judge_file(fd, name);
            // SAFETY: a descriptor of our own.
            unsafe { kernel(libc::SYS_close, c_long::from(fd), 0, 0, 0, 0) };
            judged
        }
    }
}

/// Reads at most `into.len()` bytes at `offset` of `fd` into `into`: how many came (`None`:
/// the read failed).
fn read_at(fd: c_int, offset: u64, into: &mut [u8]) -> Option<usize> {
    // SAFETY: `into` is valid for writes of its length.
    let got = unsafe {
        kernel(
            libc::SYS_pread64,
            c_long::from(fd),
            into.as_mut_ptr() as c_long,
            into.len() as c_long,
            offset as c_long,
            0,
        )
    };
    usize::try_from(got).ok()
}

/// Judges the file open on `fd`.
fn judge_file(fd: c_int, name: &mut [u8; SHEBANG_BYTES + 1]) -> Judged {
    let mut start = [0u8; SHEBANG_BYTES];
    let Some(got) = read_at(fd, 0, &mut start) else {
        return Judged::Refused(Refusal::Unreadable);
    };
    let start = &start[..got];
    if start.starts_with(b"#!") {
        return match interpreter(start, name) {
            Some(length) => Judged::Script(length),
            None => Judged::Fine,
        };
    }
    if !start.starts_with(b"\x7fELF") {
        // Not a program the kernel runs by itself (the real call says so), or one for
        // binfmt_misc, which runs an interpreter the harness does not know of.
        return Judged::Fine;
    }
    judge_elf(fd, start)
}

/// The interpreter of a `#!` line, copied NUL-terminated into `name`: its length with the
/// NUL. `None` for a line naming none.
fn interpreter(start: &[u8], name: &mut [u8; SHEBANG_BYTES + 1]) -> Option<usize> {
    let line = &start[2..];
    let line = &line[..line
        .iter()
        .position(|&byte| byte == b'\n')
        .unwrap_or(line.len())];
    let begin = line
        .iter()
        .position(|&byte| byte != b' ' && byte != b'\t')?;
    let line = &line[begin..];
    let end = line
        .iter()
        .position(|&byte| byte == b' ' || byte == b'\t' || byte == 0)
        .unwrap_or(line.len());
    let path = &line[..end];
    if path.is_empty() {
        return None;
    }
    name[..path.len()].copy_from_slice(path);
    name[path.len()] = 0;
    Some(path.len() + 1)
}

/// Judges an ELF file from its header (`start`, at least its first bytes) and its program
/// headers.
fn judge_elf(fd: c_int, start: &[u8]) -> Judged {
    // e_ident[EI_CLASS], then e_machine at 18, both classes alike.
    if start.len() < 20 {
        return Judged::Refused(Refusal::Unreadable);
    }
    let class = start[4];
    let little = start[5] == 1;
    let half = |at: usize| -> u16 {
        let bytes = [start[at], start[at + 1]];
        if little {
            u16::from_le_bytes(bytes)
        } else {
            u16::from_be_bytes(bytes)
        }
    };
    if class != OWN_CLASS || half(18) != OWN_MACHINE || start.len() < 64 {
        return Judged::Refused(Refusal::OtherMachine);
    }
    // ELF64: e_phoff at 32 (8 bytes), e_phentsize at 54, e_phnum at 56.
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&start[32..40]);
    let table = if little {
        u64::from_le_bytes(offset)
    } else {
        u64::from_be_bytes(offset)
    };
    let (size, count) = (u64::from(half(54)), half(56).min(MOST_HEADERS));
    for index in 0..u64::from(count) {
        let mut kind = [0u8; 4];
        if read_at(fd, table + index * size, &mut kind) != Some(kind.len()) {
            break;
        }
        let kind = if little {
            u32::from_le_bytes(kind)
        } else {
            u32::from_be_bytes(kind)
        };
        if kind == PT_INTERP {
            return Judged::Fine;
        }
    }
    Judged::Refused(Refusal::Static)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(path: &std::path::Path) -> Option<Refusal> {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        unsafe { refusal(libc::AT_FDCWD, name.as_ptr()) }
    }

    #[test]
    fn dynamic_programs_and_their_scripts_can_have_the_library() {
        assert_eq!(judged(std::path::Path::new("/bin/sh")), None);
        let test_program = std::env::current_exe().unwrap();
        assert_eq!(judged(&test_program), None, "a Rust test binary is dynamic");
        let folder = tempfile_folder();
        let script = folder.join("script");
        std::fs::write(&script, "#! /bin/sh -e\necho hi\n").unwrap();
        assert_eq!(judged(&script), None);
        assert_eq!(
            judged(&folder.join("missing")),
            None,
            "the real call says so"
        );
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn static_and_foreign_elf_files_are_refused_and_so_are_their_scripts() {
        let folder = tempfile_folder();
        // A minimal ELF64 header of this machine with one program header, PT_LOAD: static.
        let mut elf = vec![0u8; 64 + 56];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[18..20].copy_from_slice(&OWN_MACHINE.to_le_bytes());
        elf[32..40].copy_from_slice(&64u64.to_le_bytes());
        elf[54..56].copy_from_slice(&56u16.to_le_bytes());
        elf[56..58].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&1u32.to_le_bytes());
        let static_program = folder.join("static");
        std::fs::write(&static_program, &elf).unwrap();
        assert_eq!(judged(&static_program), Some(Refusal::Static));

        // The same with PT_INTERP: dynamic.
        elf[64..68].copy_from_slice(&PT_INTERP.to_le_bytes());
        let dynamic = folder.join("dynamic");
        std::fs::write(&dynamic, &elf).unwrap();
        assert_eq!(judged(&dynamic), None);

        // A 32-bit program.
        elf[4] = 1;
        let other = folder.join("other");
        std::fs::write(&other, &elf).unwrap();
        assert_eq!(judged(&other), Some(Refusal::OtherMachine));

        // Scripts whose interpreter is the static program, directly or through a script.
        let script = folder.join("script");
        std::fs::write(&script, format!("#!{}\n", static_program.display())).unwrap();
        assert_eq!(judged(&script), Some(Refusal::Static));
        let outer = folder.join("outer");
        std::fs::write(&outer, format!("#!{} -x\n", script.display())).unwrap();
        assert_eq!(judged(&outer), Some(Refusal::Static));
        let _ = std::fs::remove_dir_all(folder);
    }

    /// A fresh folder under the system's temporary folder (this crate has no tempfile).
    fn tempfile_folder() -> std::path::PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let folder = std::env::temp_dir().join(format!(
            "short-calls-enterable-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }
}
