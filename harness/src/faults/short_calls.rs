//! Short calls inside the program: the harness's side of the `short-calls` library
//! (`harness/short-calls`, read its header for what it does and why).
//!
//! The harness's peers can slice what *they* send, but nothing outside a program makes the
//! program's own blocking `send()` return short: on Linux it queues all 20 KB and returns
//! 20 KB, so `sock.send(data)` without a loop passes every test from the outside. A
//! scenario that wants the program's own calls cut says so on its `start` step:
//!
//! ```toml
//! [[step]]
//! start = "client"
//! to = "sink"
//! stdin = { file = "fixtures/payloads/text-20k.txt" }
//! short_calls = { max = 16 }            # optional: eintr = 0.02
//! ```
//!
//! and the program runs with the library in `LD_PRELOAD` (after any the harness itself
//! has) and its setting in `SOCKET_LAB_SHORT_CALLS` (`seed=N,max=16,eintr=0`), the seed
//! drawn from the run's seed, the scenario and the program's name, so `--seed` replays the
//! same cuts.
//!
//! The library is built on demand with cargo, once per run, like the reference binaries
//! (`HARNESS_SHORT_CALLS_LIB` names a built one instead).
//!
//! A program the library cannot enter is found before it starts, from its file: a
//! statically linked ELF (no `PT_INTERP` program header, so no dynamic loader ever reads
//! `LD_PRELOAD`: Go's default, `gcc -static`, musl builds), or one of another ELF class or
//! machine than the library; a `#!` script is judged by its interpreter (through
//! `/usr/bin/env NAME` too). The scenario then ends in `ERROR` saying the check could not
//! be applied: never a pass, and not a skip, which would quietly take the points out of the
//! maximum and let a static build dodge the check. An instructor reads the reason and
//! decides.
//!
//! In the simulated world the reference's streams are already cut short by the seeded
//! [`ShortIo`](super::ShortIo) adapter (`--short-io`, on by default): that adapter plays the
//! library's part there; with `--short-io off` such a scenario is skipped, with the reason.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

/// The variable the library reads its setting from.
pub const SETTING_VARIABLE: &str = "SOCKET_LAB_SHORT_CALLS";

/// The library's setting of paths found elsewhere (its `files` module): how the SSH pack's
/// remote machine shows its `/proc`, and a program its own `/tmp`, where no mount
/// namespace can.
pub use sandbox::FILES_VARIABLE;
/// The largest cut a scenario may ask for (the library's own limit).
const LARGEST_MAX: u32 = 1 << 20;
/// The highest `EINTR` rate a scenario may ask for: beyond it a program barely moves.
const LARGEST_EINTR: f64 = 0.5;

/// What a `start` step's `short_calls` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortCalls {
    /// The most bytes one socket call of the program may move (each call draws 1 to
    /// `max`).
    #[serde(default = "default_max")]
    pub max: u32,
    /// The probability that a blocking call fails with `EINTR` before moving anything.
    #[serde(default)]
    pub eintr: f64,
}

fn default_max() -> u32 {
    16
}

impl ShortCalls {
    /// Checks the numbers make sense.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=LARGEST_MAX).contains(&self.max) {
            return Err(format!(
                "`short_calls.max` is the most bytes one call may move: 1 to {LARGEST_MAX}"
            ));
        }
        if !(0.0..=LARGEST_EINTR).contains(&self.eintr) {
            return Err(format!(
                "`short_calls.eintr` is the probability of EINTR per blocking call: 0 to {LARGEST_EINTR}"
            ));
        }
        Ok(())
    }

    /// The library's setting for the program `name` of scenario `scenario_id`, run with
    /// `seed`.
    pub fn setting(&self, seed: u64, scenario_id: &str, name: &str) -> String {
        let seed = super::fnv1a(format!("short-calls/{seed}/{scenario_id}/{name}").as_bytes());
        format!("seed={seed},max={},eintr={}", self.max, self.eintr)
    }

    /// For the step log: `socket calls cut to 1-16 bytes, 2% EINTR`.
    pub fn describe(&self) -> String {
        let mut text = if self.max == 1 {
            "its own socket calls cut to 1 byte each".to_owned()
        } else {
            format!("its own socket calls cut to 1-{} bytes each", self.max)
        };
        if self.eintr > 0.0 {
            text += &format!(
                ", {}% of its blocking calls failing with EINTR",
                self.eintr * 100.0
            );
        }
        text
    }
}

/// What a child process gets: the library and its setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The built `libshort_calls.so`.
    pub library: PathBuf,
    /// `SOCKET_LAB_SHORT_CALLS`'s value.
    pub setting: String,
}

impl Injection {
    /// `LD_PRELOAD` with the library after whatever `existing` preloads.
    pub fn preload(&self, existing: Option<&std::ffi::OsStr>) -> std::ffi::OsString {
        let mut value = std::ffi::OsString::new();
        if let Some(existing) = existing.filter(|existing| !existing.is_empty()) {
            value.push(existing);
            value.push(":");
        }
        value.push(self.library.as_os_str());
        value
    }
}

/// The library programs sandboxed with `layers` load: `HARNESS_SHORT_CALLS_LIB`, or built
/// with cargo the first time it is asked for. Building (or failing to) and the readable
/// copy below are done once per process, as they are files on this machine, whatever
/// run asks.
pub fn library(kit_root: &Path, layers: &sandbox::Layers) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static COPY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT
        .get_or_init(|| {
            sandbox::interposed_library(kit_root)
                .map_err(|error| format!("the short-call library: {error}"))
        })
        .clone()?;
    // Without a file-system view of its own a program reaches the library by its path, as
    // the user it runs as: a kit in a folder only root may enter (a clone in `mktemp -d`)
    // is out of its reach, and the dynamic loader would skip the library without a word.
    if layers.allows(sandbox::Layer::View).is_ok() || readable_by_all(&built) {
        return Ok(built);
    }
    COPY.get_or_init(|| {
        readable_copy(&built).map_err(|error| {
            format!(
                "the short-call library {} is in a folder other users cannot enter, and a copy could not be made: {error}",
                built.display()
            )
        })
    })
    .clone()
}

/// Whether every user may read `file` (and pass through every folder above it).
fn readable_by_all(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).map(|meta| meta.permissions().mode());
    mode(file).is_ok_and(|mode| mode & 0o004 != 0)
        && file
            .ancestors()
            .skip(1)
            .filter(|folder| !folder.as_os_str().is_empty())
            .all(|folder| mode(folder).is_ok_and(|mode| mode & 0o001 != 0))
}

/// A copy of the library in a fresh folder of the system's temporary folder that every
/// user may read (written by this harness alone), kept for the rest of the run.
fn readable_copy(built: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    // Kept in a static: removed when the process exits.
    let folder = crate::temporary::folder("harness-interposed-")?.keep_for_the_run();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755))?;
    let copy = folder.join(built.file_name().unwrap_or("libshort_calls.so".as_ref()));
    std::fs::copy(built, &copy)?;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644))?;
    Ok(copy)
}

/// Whether the library can enter the program `argv0` starts (run in `workdir`): `Err`
/// says why not. A program the harness cannot find or read is left to the start itself,
/// which reports it.
pub fn can_enter(argv0: &str, workdir: Option<&Path>) -> Result<(), String> {
    let Some(mut path) = resolve(argv0, workdir) else {
        return Ok(());
    };
    let mut chain: Vec<PathBuf> = Vec::new();
    // A script names its interpreter, which may be a script too (pyenv's `python3`), up to
    // the kernel's own limit of a few levels.
    for _ in 0..5 {
        let Ok(head) = read_head(&path) else {
            return Ok(());
        };
        if head.starts_with(b"#!") {
            let Some(interpreter) = interpreter(&head, workdir) else {
                return Ok(());
            };
            chain.push(path);
            path = interpreter;
            continue;
        }
        if !head.starts_with(b"\x7fELF") {
            return Ok(());
        }
        // `a` runs `b`, which runs `c`, which is statically linked.
        return elf_verdict(&head).map_err(|reason| {
            let mut text = String::new();
            for script in &chain {
                text += &format!("`{}` runs ", script.display());
            }
            text += &format!("`{}`", path.display());
            if chain.is_empty() {
                format!("{text} {reason}")
            } else {
                format!("{text}, which {reason}")
            }
        });
    }
    Ok(())
}

/// The file a command word runs: a path (relative ones from `workdir`), or the first match
/// on `PATH`.
fn resolve(word: &str, workdir: Option<&Path>) -> Option<PathBuf> {
    if word.contains('/') {
        let path = Path::new(word);
        return Some(match (path.is_absolute(), workdir) {
            (false, Some(dir)) => dir.join(path),
            _ => path.to_owned(),
        });
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(word))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// The first bytes of a file: enough for a `#!` line or an ELF header and its program
/// headers (which follow the header in every linker's output).
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// The interpreter a `#!` line names (through `env`, the program env looks up).
fn interpreter(head: &[u8], workdir: Option<&Path>) -> Option<PathBuf> {
    let line = head[2..].split(|byte| *byte == b'\n').next()?;
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let program = words.next()?;
    if Path::new(program)
        .file_name()
        .is_some_and(|name| name == "env")
    {
        // `#!/usr/bin/env python3`, `#!/usr/bin/env -S python3 -u`: the first word that
        // is neither an option nor an assignment.
        let name = words.find(|word| !word.starts_with('-') && !word.contains('='))?;
        return resolve(name, workdir);
    }
    Some(PathBuf::from(program))
}

/// Whether a dynamic loader will load the library into this ELF file.
/// `Err` says why not, as words that follow the file's name (`is statically linked ...`).
fn elf_verdict(head: &[u8]) -> Result<(), String> {
    let elf = Elf::parse(head).ok_or_else(|| {
        "is an ELF file the harness cannot read, so the short-call library may not enter it"
            .to_owned()
    })?;
    let own = own_elf();
    if let Some(own) = own
        && (own.class != elf.class || own.machine != elf.machine)
    {
        return Err(format!(
            "is a {}-bit ELF program for machine {} and the short-call library is {}-bit for machine {}: the dynamic loader would skip the library",
            elf.bits(),
            elf.machine,
            own.bits(),
            own.machine
        ));
    }
    if elf.has_interpreter {
        Ok(())
    } else {
        Err("is statically linked (its ELF program headers name no interpreter, PT_INTERP): no dynamic loader runs, so LD_PRELOAD cannot load the short-call library into it (Go builds, `gcc -static` and musl builds are static)".to_string())
    }
}

/// What the check needs of an ELF header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Elf {
    /// `ELFCLASS32` (1) or `ELFCLASS64` (2).
    class: u8,
    /// `e_machine` (62: x86-64, 183: AArch64).
    machine: u16,
    /// A `PT_INTERP` program header: the program is started by a dynamic loader.
    has_interpreter: bool,
}

impl Elf {
    const PT_INTERP: u32 = 3;

    fn bits(&self) -> u32 {
        if self.class == 1 { 32 } else { 64 }
    }

    /// Reads the header and the program headers from the file's first bytes.
    fn parse(bytes: &[u8]) -> Option<Elf> {
        if bytes.get(..4)? != b"\x7fELF" {
            return None;
        }
        let class = *bytes.get(4)?;
        let little = match *bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        let u16_at = |at: usize| -> Option<u16> {
            let raw: [u8; 2] = bytes.get(at..at + 2)?.try_into().ok()?;
            Some(if little {
                u16::from_le_bytes(raw)
            } else {
                u16::from_be_bytes(raw)
            })
        };
        let u32_at = |at: usize| -> Option<u32> {
            let raw: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
            Some(if little {
                u32::from_le_bytes(raw)
            } else {
                u32::from_be_bytes(raw)
            })
        };
        let u64_at = |at: usize| -> Option<u64> {
            let raw: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
            Some(if little {
                u64::from_le_bytes(raw)
            } else {
                u64::from_be_bytes(raw)
            })
        };
        let machine = u16_at(18)?;
        // e_phoff, e_phentsize, e_phnum: at 28, 42, 44 (32-bit) or 32, 54, 56 (64-bit).
        let (offset, entry_size, count) = match class {
            1 => (u64::from(u32_at(28)?), u16_at(42)?, u16_at(44)?),
            2 => (u64_at(32)?, u16_at(54)?, u16_at(56)?),
            _ => return None,
        };
        let offset = usize::try_from(offset).ok()?;
        let mut has_interpreter = false;
        for index in 0..usize::from(count) {
            let at = offset.checked_add(index.checked_mul(usize::from(entry_size))?)?;
            if u32_at(at)? == Self::PT_INTERP {
                has_interpreter = true;
            }
        }
        Some(Elf {
            class,
            machine,
            has_interpreter,
        })
    }
}

/// The harness's own ELF class and machine: the library is built for the same.
fn own_elf() -> Option<Elf> {
    static OWN: OnceLock<Option<Elf>> = OnceLock::new();
    *OWN.get_or_init(|| {
        let head = read_head(Path::new("/proc/self/exe")).ok()?;
        Elf::parse(&head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_seed_the_size_and_the_rate() {
        let plan = ShortCalls {
            max: 16,
            eintr: 0.05,
        };
        let setting = plan.setting(1, "message/18-client-short-sends", "client");
        assert!(setting.starts_with("seed="), "{setting}");
        assert!(setting.ends_with(",max=16,eintr=0.05"), "{setting}");
        assert_eq!(
            setting,
            plan.setting(1, "message/18-client-short-sends", "client")
        );
        assert_ne!(
            setting,
            plan.setting(2, "message/18-client-short-sends", "client")
        );
        assert_ne!(
            setting,
            plan.setting(1, "message/18-client-short-sends", "server")
        );
        assert!(plan.validate().is_ok());
        assert!(ShortCalls { max: 0, eintr: 0.0 }.validate().is_err());
        assert!(
            ShortCalls {
                max: 16,
                eintr: 0.9
            }
            .validate()
            .is_err()
        );
        assert_eq!(
            plan.describe(),
            "its own socket calls cut to 1-16 bytes each, 5% of its blocking calls failing with EINTR"
        );
    }

    #[test]
    fn preload_goes_after_the_existing_one() {
        let injection = Injection {
            library: PathBuf::from("/k/libshort_calls.so"),
            setting: String::new(),
        };
        assert_eq!(injection.preload(None), "/k/libshort_calls.so");
        assert_eq!(
            injection.preload(Some("/a.so".as_ref())),
            "/a.so:/k/libshort_calls.so"
        );
    }

    #[test]
    fn dynamic_programs_and_scripts_are_entered() {
        assert_eq!(can_enter("sh", None), Ok(()));
        assert_eq!(can_enter("/proc/self/exe", None), Ok(()));
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/usr/bin/env sh\necho hi\n").unwrap();
        assert_eq!(can_enter(script.to_str().unwrap(), None), Ok(()));
        // Not found, or not a program: the start reports it.
        assert_eq!(can_enter("no-such-program-anywhere", None), Ok(()));
    }

    #[test]
    fn static_programs_are_found_out() {
        // A minimal 64-bit ELF header with one PT_LOAD program header and no PT_INTERP.
        let own = own_elf().unwrap();
        let mut bytes = vec![0u8; 64 + 56];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = own.class;
        bytes[5] = 1;
        bytes[18..20].copy_from_slice(&own.machine.to_le_bytes());
        bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
        bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
        bytes[56..58].copy_from_slice(&1u16.to_le_bytes());
        bytes[64..68].copy_from_slice(&1u32.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("static-server");
        std::fs::write(&program, &bytes).unwrap();
        let reason = can_enter("./static-server", Some(dir.path())).unwrap_err();
        assert!(reason.contains("statically linked"), "{reason}");
        // Through a script's `#!` line too.
        let script = dir.path().join("wrapper");
        std::fs::write(&script, format!("#!{}\n", program.display())).unwrap();
        let reason = can_enter(script.to_str().unwrap(), None).unwrap_err();
        assert!(
            reason.contains("wrapper` runs `") && reason.contains("`, which is statically linked"),
            "{reason}"
        );
        // With an interpreter it is dynamic.
        bytes[64..68].copy_from_slice(&3u32.to_le_bytes());
        std::fs::write(&program, &bytes).unwrap();
        assert_eq!(can_enter(program.to_str().unwrap(), None), Ok(()));
        // Another machine.
        bytes[18..20].copy_from_slice(&3u16.to_le_bytes());
        std::fs::write(&program, &bytes).unwrap();
        let reason = can_enter(program.to_str().unwrap(), None).unwrap_err();
        assert!(reason.contains("machine 3"), "{reason}");
    }
}
